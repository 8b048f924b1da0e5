# Sourced by press_ok.sh after OK: once the dialog driver has saved the result ($W/filtered),
# Ctrl+Z in the image window, then $W/undone tells the driver to save again and quit GIMP.
# (xdotool's title regex fails on GIMP's non-ASCII titles in the C locale, so the image
# window is found by listing.)
for _ in $(seq 240); do [ -e "$W/filtered" ] && break; sleep 0.5; done
image=
for w in $(xdotool search --onlyvisible --name '.' 2>/dev/null); do
    case "$(xdotool getwindowname "$w")" in *'['*']'*) image=$w; break ;; esac  # "[Untitled]-1.0"
done
echo "image window: $(xdotool getwindowname "$image")"
xdotool windowfocus --sync "$image"
xdotool key ctrl+z
sleep 2
touch "$W/undone"
