# Where each protected mode's time per I/O goes: one panel per block size,
# one bar per mode, its vCPU time split into its parts (each cost once) and
# the device thread's time beside them, as shares of their sum; the bar's
# label carries that sum.
# gnuplot -e "dir=...; plottitle=...; panels='4 16 ...'; devtitle='...'"
n = words(panels)
# "inplace-batch/queue" as two lines, the mode over its transport
at(s) = strstrt(s, "/")
lab(s, us) = (at(s) ? s[1:at(s) - 1]."\n".s[at(s) + 1:] : s."\n")."\n".sprintf("%.1f us", us)
set terminal svg size 1200,(300 * n + 120) dynamic font "sans,10"
set output dir.'/cost_split.svg'
set multiplot layout n,1 title "Time per I/O of each protected mode, split into its parts (shares of vCPU + device time)\n".plottitle."\n".plothost noenhanced
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel "% of the time per I/O"
set xtics noenhanced font ",9"
set grid y
set key outside right top noenhanced
set lmargin 10
set rmargin 46
set bmargin 5
do for [i=0:n-1] {
	set title word(panels, i + 1)." KiB blocks (bar label: vCPU + device time per I/O)" noenhanced
	if (i > 0) { unset key }
	plot dir.'/cost_split.dat' index i using 3:xtic(lab(stringcolumn(1), $2)) title "kicks (ioeventfd)" lc rgb "#1f77b4", \
	     ''                    index i using 4 title "conversion exits to the VMM" lc rgb "#d62728", \
	     ''                    index i using 5 title "conversion host work" lc rgb "#ff7f0e", \
	     ''                    index i using 6 title "copy (bounce, persistent)" lc rgb "#2ca02c", \
	     ''                    index i using 7 title "unaccounted (driver, device wait)" lc rgb "#c7c7c7", \
	     ''                    index i using 8 title devtitle lc rgb "#9467bd"
}
unset multiplot
