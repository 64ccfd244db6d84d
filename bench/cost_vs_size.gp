# Conversion round trip vs bounce copy, per I/O, by block size.
# gnuplot -e "dir='results/x'; plottitle='...'" bench/cost_vs_size.gp
set terminal svg size 800,600 dynamic font "sans,11"
set output dir.'/cost_vs_size.svg'
set title "Per-I/O cost: convert in place vs bounce\n".plottitle noenhanced
set xlabel "block size (KiB)"
set ylabel "microseconds per I/O (median)"
set logscale x 2
set logscale y 10
set key outside bottom center
set grid
plot dir.'/cost_vs_size.dat' using 1:2 with linespoints lw 2 title "convert in place (round trip, vCPU-like threads running)", \
     ''                      using 1:7 with linespoints lw 1 dt 3 title "convert in place, idle process (lower bound)", \
     ''                      using 1:3 with linespoints lw 2 title "convert destructive", \
     ''                      using 1:6 with linespoints lw 2 title "bounce read: map (copy in) + unmap (copy out)", \
     ''                      using 1:4 with linespoints lw 2 title "bounce write: map (copy in) + unmap", \
     ''                      using 1:5 with linespoints lw 1 dt 2 title "plain memcpy"
