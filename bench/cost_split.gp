# Per-I/O cost split (exits, conversion, copy) as stacked bars.
set terminal svg size 1000,500 dynamic font "sans,10"
set output dir.'/cost_split.svg'
set title "Protection cost per I/O, per KiB moved (exits, conversion, copy)\n".plottitle noenhanced
set ylabel "ns per KiB of the I/O"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -60 noenhanced
set key outside right top
set grid y
plot dir.'/cost_split.dat' using 2:xtic(1) title "VM exits", \
     ''                    using 3 title "conversion", \
     ''                    using 4 title "copy (bounce, persistent)"
