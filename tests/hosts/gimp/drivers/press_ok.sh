#!/bin/bash
# Under Xvfb: `bash press_ok.sh WORK TITLE CODE [AFTER]` starts the whole GIMP 3 with the
# Python CODE in its batch interpreter (a dialog driver: it opens a dialog, and quits GIMP
# once done). When a window titled TITLE is up, the screen is photographed (WORK/screen.png)
# and Return (OK) typed into that window; then the shell script AFTER of this folder is
# sourced if given (it sees $W, the work folder, and $gimp), and GIMP is waited for.
# GIMP's output goes to WORK/gimp.log.
W=$1
title=$2
code=$3
after=${4:-}
here=$(dirname "$0")
gimp-3.0 --no-splash --batch-interpreter python-fu-eval -b "$code" >"$W/gimp.log" 2>&1 &
gimp=$!
window=
for _ in $(seq 240); do
    window=$(xdotool search --name "^$title" 2>/dev/null | head -1)
    [ -n "$window" ] && break
    sleep 0.5
done
if [ -z "$window" ]; then echo "no $title dialog appeared"; kill -9 $gimp; exit 3; fi
echo "dialog: $(xdotool getwindowname "$window")"
sleep 3  # let it draw
python3 "$here/grab_screen.py" "$W/screen.png"
xdotool windowfocus --sync "$window"
xdotool key Return
if [ -n "$after" ]; then
    . "$here/$after"
fi
for _ in $(seq 240); do kill -0 $gimp 2>/dev/null || break; sleep 0.5; done
kill -9 $gimp 2>/dev/null
exit 0
