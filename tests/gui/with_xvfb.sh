#!/usr/bin/env bash
# Runs a command on its own Xvfb display (1600x1000, 24-bit). Xvfb picks a free display itself (-displayfd), so two
# tests started at once never race for one, as `xvfb-run -a` can.
set -euo pipefail
fifo=$(mktemp -u)
mkfifo "$fifo"
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$fifo" 2>/dev/null &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r display <"$fifo"
export DISPLAY=":$display"
# Mesa's software renderer: the same pixels on every machine, no GPU needed.
export LIBGL_ALWAYS_SOFTWARE=1
"$@"
