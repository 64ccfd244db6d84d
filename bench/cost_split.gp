# Per-I/O cost split (each cost once; sums to the vCPU time per I/O) as
# stacked bars.
set terminal svg size 1000,500 dynamic font "sans,10"
set output dir.'/cost_split.svg'
set title "vCPU time per I/O, per KiB moved, split (each cost once)\n".plottitle noenhanced
set ylabel "ns per KiB of the I/O"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -60 noenhanced
set key outside right top
set grid y
plot dir.'/cost_split.dat' using 2:xtic(1) title "kicks (ioeventfd)", \
     ''                    using 3 title "conversion exits to the VMM", \
     ''                    using 4 title "conversion host work", \
     ''                    using 5 title "copy (bounce, persistent)", \
     ''                    using 6 title "unaccounted (driver, device wait)"
