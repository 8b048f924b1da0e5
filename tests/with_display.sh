#!/bin/bash
# Run a command on a virtual X display of its own: `bash with_display.sh COMMAND ARGS...`.
# Xvfb picks a free display itself (-displayfd) and names it only once it accepts clients,
# so two servers never race for one display and the command never starts before its server,
# as happens with `xvfb-run -a` when an earlier server is still closing. Exits with the
# command's status; the server's log is printed when it cannot start. -noreset: an X server
# resets when its last client disconnects, and a client connecting meanwhile is refused;
# Krita connects once to probe OpenGL and again to start, and on a loaded machine the
# second connection fell into that reset.
set -u
place=$(mktemp -d)
mkfifo "$place/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$place/display" >"$place/xvfb.log" 2>&1 &
server=$!
read -r number <"$place/display"
if [ -z "${number:-}" ]; then
    echo "Xvfb did not start:" >&2
    cat "$place/xvfb.log" >&2
    rm -rf "$place"
    exit 70
fi
DISPLAY=":$number" "$@"
status=$?
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
rm -rf "$place"
exit $status
