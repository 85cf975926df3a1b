if (!exists('fmt')) fmt = 'png'
W = 900; H = 420
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

dat = 'why-categories-profile.dat'
set output '../why-categories-profile.' . fmt
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border -1
set boxwidth 0.7
set ylabel 'CPU seconds per GB (perf samples)'
set xtics rotate by -20
plot dat using 2:xtic(1) title 'copying', dat using 3 title 'pipe/splice', dat using 4 title 'FUSE device', dat using 5 title 'TCP receive', dat using 6 title 'syscall entry/exit', dat using 7 title 'scheduling/wake-ups', dat using 8 title 'other'
