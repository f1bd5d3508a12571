#!/usr/bin/env bash
# Runs a command on its own Xvfb display (1600x1000, 24-bit). Xvfb picks a free display itself (-displayfd), so two
# tests started at once never race for one, as `xvfb-run -a` can.
set -euo pipefail
fifo=$(mktemp -u)
mkfifo "$fifo"
# -noreset: an X server resets when its last client disconnects, and a window opened during the reset fails
# ("GLFW found no display"); a suite that opens one window per test would then fail now and then.
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp -noreset 3>"$fifo" 2>/dev/null &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r display <"$fifo"
export DISPLAY=":$display"
# Mesa's software renderer: the same pixels on every machine, no GPU needed.
export LIBGL_ALWAYS_SOFTWARE=1
"$@"
