# One platform profile: each protected path's share of the shared ceiling
# by block size (bounce and persistent from the ideal points: they convert
# nothing; in place and in place batched over the profile's calls) and
# adaptive on the profile; below it, where adaptive was measured, adaptive
# over the best of those paths run by run against the 0.9x target.
# gnuplot -e "dir=...; plottitle=...; plothost=...; plat='pkvm';
#             cols='2 3 4 5 6'; ratio=1" (cols: the share columns of
#             platform_<plat>.dat measured; ratio: column 7 is)
set terminal svg size 1000,720 dynamic font "sans,11"
set output dir.'/platform_'.plat.'.svg'
data = dir.'/platform_'.plat.'.dat'
head = plat." profile: each protected path's share of the shared ceiling\n".plottitle."\n".plothost
set logscale x 2
set xtics (4, 16, 64, 256, 1024)
# the sweep's sizes, 4 KiB to 1 MiB, with a margin: points off the frame
set xrange [3.2:1280]
set datafile missing "-"
set key outside right top noenhanced
set grid
set rmargin at screen 0.80
set xlabel "block size (KiB)"
set ylabel "share of the shared ceiling (%, median of the per-run ratios)"
set logscale y 10
set yrange [*:100]
# by column 2..6: bounce persistent inplace inplace-batch adaptive
titles = '"bounce" "persistent" "in place" "in place batched" "adaptive"'
colours = "#2ca02c #17becf #ff7f0e #1f77b4 #d62728"
if (ratio) {
	set multiplot title head noenhanced
	set lmargin at screen 0.09
	set tmargin at screen 0.86
	set bmargin at screen 0.40
	set xlabel ""
} else {
	set title head noenhanced
	set label "adaptive: not measured\non this profile" at screen 0.83, screen 0.72 noenhanced
}
plot for [i=1:words(cols)] data using 1:(column(int(word(cols, i)))) with linespoints \
     lw (int(word(cols, i)) == 6 ? 3 : 2) lc rgb word(colours, int(word(cols, i)) - 1) \
     pt int(word(cols, i)) title word(titles, int(word(cols, i)) - 1)
if (ratio) {
	set tmargin at screen 0.31
	set bmargin at screen 0.07
	unset logscale y
	set yrange [0:*]
	set ytics 0.2
	set xlabel "block size (KiB)"
	set ylabel "adaptive / best path\n(run by run, median)"
	plot data using 1:7 with linespoints lw 3 lc rgb "#d62728" pt 7 \
	     title "adaptive / best path", \
	     0.9 with lines dt 2 lw 2 lc rgb "#555555" title "target: 0.9x"
	unset multiplot
}
