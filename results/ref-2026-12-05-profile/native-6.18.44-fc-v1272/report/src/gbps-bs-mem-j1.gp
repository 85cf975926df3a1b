# GB/s against block size, mem, 1 job
# Regenerate: gnuplot -e "fmt='svg'" gbps-bs-mem-j1.gp   (run in this directory)
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
dat = "gbps-bs-mem-j1.dat"
set output "../gbps-bs-mem-j1." . fmt
set logscale x 2
set xrange [87381.33333333333:1572864.0]
set xtics ("128K" 131072, "1M" 1048576)
set xlabel 'block size (bytes per read, log2 scale)'
set title "Read throughput vs block size: mem, 1 job" . "\n" . "kernel 6.18.44-fc-v1272, variant none, native"
set ylabel 'throughput (GB/s = 1e9 B/s; bars: min-max of repeats)'
set yrange [0:13.847120000000002]
set label "not measured: 2 point(s) (skipped), see report" at graph 0.01, graph 0.97 left front tc rgb '#d62728'
plot dat index 0 using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt 1 lc rgb '#0072b2' title "copy", \
     dat index 1 using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt 1 lc rgb '#e69f00' title "splice", \
     dat index 2 using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt 1 lc rgb '#cc79a7' title "uring", \
     dat index 3 using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt 1 lc rgb '#d55e00' title "passthrough", \
     dat index 4 using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt 3 lc rgb '#56b4e9' title "libfuse-copy (libfuse-ref)", \
     dat index 5 using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 dt 3 lc rgb '#000000' title "libfuse-splice (libfuse-ref)", \
     dat index 6 using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#d62728' title 'fell back to copying (share of bytes copied)', \
     dat index 6 using 1:2:3 with labels offset 0,-2.2 tc rgb '#d62728' notitle, \
     12.5 with lines lw 2 dt 2 lc rgb '#444444' title "100G Ethernet line rate (12.5 GB/s)"
print sprintf('SBRANGE %s %.9g %.9g %.9g %.9g %.9g %.9g', "gbps", GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX)
