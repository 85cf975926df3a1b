# CPU s/GB by part, TCP loopback, 1 job (rest of machine apart)
# Regenerate: gnuplot -e "fmt='svg'" cpu-tcp-loopback-j1.gp   (run in this directory)
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
dat = "cpu-tcp-loopback-j1.dat"
set output "../cpu-tcp-loopback-j1." . fmt
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border rgb '#333333'
set boxwidth 0.75 relative
set xtics rotate by 45 right nomirror scale 0
set grid noxtics ytics
set bmargin 11.5
set tmargin 5
set multiplot title "CPU seconds per GB delivered, the mode's own parts: TCP loopback, 1 job" . "\n" . "kernel 6.18.44-fc-v1272, variant none, native"
set lmargin at screen 0.0700
set rmargin at screen 0.4000
set yrange [0:1.559554182]
set xlabel "bs 128K" font ',12'
set ylabel 'CPU seconds per GB delivered (s/GB)'
unset key
set label 1 "* fell back to copying for part or all of its replies; rest = rest of machine (s/GB), never part of a mode's cost" at screen 0.07, screen 0.90 left front tc rgb '#d62728'
plot dat index 0 using 2:xtic(1) lc rgb '#08519c' notitle, \
     dat index 0 using 3 lc rgb '#fd8d3c' notitle, \
     dat index 0 using 4 lc rgb '#31a354' notitle, \
     dat index 0 using 5 lc rgb '#756bb1' notitle, \
     dat index 0 using 6 lc rgb '#bcbddc' notitle, \
     dat index 0 using ($0):7:8 with labels rotate by 90 left offset 0,0.4 font ',9' tc rgb '#555555' notitle
print sprintf('SBRANGE %s %.9g %.9g %.9g %.9g %.9g %.9g', "bs131072", GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX)
set lmargin at screen 0.4350
set rmargin at screen 0.7650
set yrange [0:6.3799265385]
set xlabel "bs 1M" font ',12'
unset ylabel
set key at screen 0.99, screen 0.85 right top nobox
unset label 1
plot dat index 1 using 2:xtic(1) lc rgb '#08519c' title "daemon", \
     dat index 1 using 3 lc rgb '#fd8d3c' title "data server", \
     dat index 1 using 4 lc rgb '#31a354' title "fio", \
     dat index 1 using 5 lc rgb '#756bb1' title "softirq", \
     dat index 1 using 6 lc rgb '#bcbddc' title "kernel threads", \
     dat index 1 using ($0):7:8 with labels rotate by 90 left offset 0,0.4 font ',9' tc rgb '#555555' notitle
print sprintf('SBRANGE %s %.9g %.9g %.9g %.9g %.9g %.9g', "bs1048576", GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX)
unset multiplot
