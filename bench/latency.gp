# End-to-end latency p50 (solid) and p99 (dashed) by block size and mode.
set terminal svg size 800,500 dynamic font "sans,11"
set output dir.'/latency.svg'
set title "virtio-blk latency p50 (solid) / p99 (dashed)\n".plottitle."\n".plothost noenhanced
set xlabel "block size (KiB)"
set ylabel "microseconds"
set logscale x 2
set logscale y 10
set key outside right top
set grid
plot for [m=0:6] dir.'/io_by_size.dat' using 1:(column(3+3*m)) with linespoints lw 2 lc m+1 \
       title word("shared bounce inplace inplace-batch adaptive inplace-scatter persistent", m+1).' p50', \
     for [m=0:6] dir.'/io_by_size.dat' using 1:(column(4+3*m)) with lines dt 2 lc m+1 notitle
