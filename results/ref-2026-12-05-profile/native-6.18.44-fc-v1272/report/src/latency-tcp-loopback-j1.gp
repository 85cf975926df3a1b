# latency p50/p99, TCP loopback, 1 job
# Regenerate: gnuplot -e "fmt='svg'" latency-tcp-loopback-j1.gp   (run in this directory)
if (!exists('fmt')) fmt = 'png'
W = 1400; H = 760
# Shared look of every splicebench chart (included into each generated script).
# Expects fmt ('png' or 'svg'), W and H.
if (fmt eq 'svg') {
    set terminal svg size W,H dynamic noenhanced font 'DejaVu Sans,13' background rgb 'white'
} else {
    set terminal pngcairo size W,H noenhanced font 'DejaVu Sans,11' background rgb 'white'
}
set encoding utf8
set border 3 lw 1.2
set tics nomirror out
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set key outside right top vertical Left reverse width 1 samplen 3 spacing 1.15 box lc rgb '#bbbbbb'
set tmargin 4.5
set datafile missing 'NaN'
set bars small
dat = "latency-tcp-loopback-j1.dat"
set output "../latency-tcp-loopback-j1." . fmt
set logscale x 2
set xrange [87381.33333333333:1572864.0]
set xtics ("128K" 131072, "1M" 1048576)
set xlabel 'block size (bytes per read, log2 scale)'
set title "fio completion latency: TCP loopback, 1 job" . "\n" . "kernel 6.18.44-fc-v1272, variant none, native"
set logscale y 10
set autoscale yfix
set offsets 0, 0, graph 0.06, graph 0.06
set ylabel 'completion latency (µs, log scale)'
set format y '%g'
set mytics 10
set grid mytics
set ytics add ('0.2' 0.2, '0.5' 0.5, '2' 2, '5' 5, '20' 20, '50' 50, '200' 200, '500' 500, '2000' 2000, '5000' 5000, '20000' 20000, '50000' 50000, '200000' 200000, '500000' 500000, '2e+06' 2e+06, '5e+06' 5e+06)
plot dat index 0 using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '#0072b2' title "copy p50", \
     dat index 0 using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '#0072b2' title "copy p99", \
     dat index 1 using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '#e69f00' title "splice p50", \
     dat index 1 using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '#e69f00' title "splice p99", \
     dat index 2 using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '#cc79a7' title "uring p50", \
     dat index 2 using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '#cc79a7' title "uring p99", \
     dat index 3 using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '#56b4e9' title "libfuse-copy (libfuse-ref) p50", \
     dat index 3 using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '#56b4e9' title "libfuse-copy (libfuse-ref) p99", \
     dat index 4 using 1:2 with linespoints lw 2 pt 7 dt 1 lc rgb '#000000' title "libfuse-splice (libfuse-ref) p50", \
     dat index 4 using 1:3 with linespoints lw 2 pt 9 dt 2 lc rgb '#000000' title "libfuse-splice (libfuse-ref) p99", \
     dat index 5 using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' title 'fell back to copying'
print sprintf('SBRANGE %s %.9g %.9g %.9g %.9g %.9g %.9g', "latency", GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX)
