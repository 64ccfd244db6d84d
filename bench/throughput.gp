# End-to-end throughput by block size: shared, bounce, persistent and every
# in-place mode over every conversion transport swept (the default transport
# solid, the others dashed).
# gnuplot -e "dir=...; plottitle=...; ncols=N; titles='a b ...'; dts='1 1 2 ...'"
set terminal svg size 1000,600 dynamic font "sans,11"
set output dir.'/throughput.svg'
set title "virtio-blk throughput by I/O mode and conversion transport\n".plottitle noenhanced
set xlabel "block size (KiB)"
set ylabel "MB/s"
set logscale x 2
set logscale y 10
set datafile missing "-"
set key outside right top noenhanced
set grid
plot for [i=1:ncols] dir.'/throughput.dat' using 1:(column(i+1)) with linespoints \
     lw 2 dt int(word(dts, i)) lc i title word(titles, i)
