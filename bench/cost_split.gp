# Per-I/O cost split (exits, conversion, copy) as stacked bars.
set terminal svg size 1000,500 dynamic font "sans,10"
set output dir.'/cost_split.svg'
set title "Per-I/O protection cost split (null backend, qd 32)\n".plottitle noenhanced
set ylabel "microseconds per I/O"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -60 noenhanced
set key top left
set grid y
plot dir.'/cost_split.dat' using 2:xtic(1) title "VM exits", \
     ''                    using 3 title "conversion", \
     ''                    using 4 title "bounce copy"
