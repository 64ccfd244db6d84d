# The host model: per-I/O cost of converting in place against bouncing, by
# block size (convert-bench, bounce-bench; the guest-measured round trip).
# gnuplot -e "dir='results/x'; plottitle='...'; plothost='...'; inplacetitle='...'" \
#         bench/cost_vs_size.gp
set terminal svg size 900,650 dynamic font "sans,11"
set output dir.'/cost_vs_size.svg'
set title "Host model: per-I/O cost of converting in place vs bouncing\n".plottitle."\n".plothost noenhanced
set xlabel "block size (KiB)"
set ylabel "microseconds per I/O (median)"
set logscale x 2
set logscale y 10
set key outside bottom center noenhanced
set grid
plot dir.'/cost_vs_size.dat' using 1:8 with linespoints lw 3 lc rgb "black" title inplacetitle, \
     ''                      using 1:2 with linespoints lw 2 title "host conversion in place (round trip, vCPU-like threads running)", \
     ''                      using 1:7 with linespoints lw 1 dt 3 title "host conversion in place, idle process (lower bound)", \
     ''                      using 1:3 with linespoints lw 2 title "host conversion destructive", \
     ''                      using 1:6 with linespoints lw 2 title "bounce read: map (copy in) + unmap (copy out)", \
     ''                      using 1:4 with linespoints lw 2 title "bounce write: map (copy in) + unmap", \
     ''                      using 1:5 with linespoints lw 1 dt 2 title "plain memcpy"
