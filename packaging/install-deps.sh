#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing attnscope need. Idempotent.
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config git
    libtorch-dev libopenblas0-openmp
    libhdf5-dev hdf5-filter-plugin hdf5-filter-plugin-blosc-serial zlib1g-dev libdeflate-dev
    libglfw3-dev libimgui-dev libgl-dev libegl-dev fonts-dejavu-core
    qt6-base-dev qt6-svg-dev libqt6svg6
    nlohmann-json3-dev libpcre2-dev libcli11-dev libfmt-dev libspdlog-dev libstb-dev
    googletest libgtest-dev libgmock-dev libbenchmark-dev
    xvfb xauth libgl1-mesa-dri python3-h5py python3-numpy poppler-utils
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed."
    exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
