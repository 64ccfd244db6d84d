# End-to-end throughput by block size, one line per I/O mode.
set terminal svg size 800,500 dynamic font "sans,11"
set output dir.'/throughput.svg'
set title "virtio-blk throughput by I/O mode\n".plottitle noenhanced
set xlabel "block size (KiB)"
set ylabel "MB/s"
set logscale x 2
set logscale y 10
set key outside right top
set grid
plot for [m=0:6] dir.'/io_by_size.dat' using 1:(column(2+3*m)) with linespoints lw 2 \
     title word("shared bounce inplace inplace-batch adaptive inplace-scatter persistent", m+1)
