# End-to-end throughput by block size: shared, bounce, persistent and every
# in-place mode over every conversion transport swept (the default transport
# solid, the others dashed).
# gnuplot -e "dir=...; plottitle=...; ncols=N; titles='a b ...'; dts='1 1 2 ...';
#             lcs='1 2 3 4 4 ...'" (colour per mode, an index into colours)
set terminal svg size 1000,600 dynamic font "sans,11"
set output dir.'/throughput.svg'
set title "virtio-blk throughput by I/O mode and conversion transport\n".plottitle."\n".plothost noenhanced
set xlabel "block size (KiB)"
set ylabel "MB/s"
set logscale x 2
set logscale y 10
set datafile missing "-"
set key outside right top noenhanced
set grid
# shared bounce persistent inplace inplace-batch inplace-scatter adaptive
colours = "#000000 #2ca02c #17becf #ff7f0e #1f77b4 #9467bd #d62728"
plot for [i=1:ncols] dir.'/throughput.dat' using 1:(column(i+1)) with linespoints \
     lw 2 dt int(word(dts, i)) lc rgb word(colours, int(word(lcs, i))) pt i \
     title word(titles, i)
