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
