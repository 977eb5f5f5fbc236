#!/bin/bash
# build-busybox.sh [stock]: cross-build a static riscv64 busybox from Debian's busybox
# source package
#   (default) with the committed appliances/build/busybox.config
#             -> $ROMVISOR_BUILD_DIR/busybox-build/busybox (default /work/build-images)
#   stock     with busybox's own `make defconfig`, changed only to build static and
#             for riscv64 (the JIT benchmark's stock initramfs)
#             -> .../busybox-build-stock/busybox
# CLEAN=1 builds from an empty output directory.
# Needs a deb-src line for bookworm main the first time (apt-get source busybox).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
VARIANT=${1:-appliance}
case "$VARIANT" in
appliance) OUT=$BUILD/busybox-build ;;
stock)     OUT=$BUILD/busybox-build-stock ;;
*) echo "usage: build-busybox.sh [stock]" >&2; exit 2 ;;
esac
JOBS=${JOBS:-2}
export SOURCE_DATE_EPOCH=1672531200   # 2023-01-01: fixed timestamps in the binary
export KCONFIG_NOTIMESTAMP=1

mkdir -p "$BUILD"
dsc=$(ls "$BUILD"/busybox_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$dsc" ]; then
    echo "build-busybox: fetching Debian's busybox source into $BUILD"
    (cd "$BUILD" && apt-get source busybox) || {
        echo "build-busybox: apt-get source failed; add a 'Types: deb-src' entry for bookworm main" >&2
        exit 2
    }
    dsc=$(ls "$BUILD"/busybox_*.dsc | sort -V | tail -n 1)
fi
version=$(sed -n 's/^Version: //p' "$dsc")          # e.g. 1:1.35.0-4+deb12u1
upstream=${version#*:}; upstream=${upstream%-*}      # e.g. 1.35.0
SRC=$BUILD/busybox-$upstream
[ -d "$SRC" ] || (cd "$BUILD" && dpkg-source -x "$dsc")
echo "build-busybox: busybox $version from $dsc"

[ "${CLEAN:-0}" = 1 ] && rm -rf "$OUT"
mkdir -p "$OUT"
if [ "$VARIANT" = stock ]; then
    make -s -C "$SRC" O="$OUT" defconfig > /dev/null
    sed -i -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' \
           -e 's/^CONFIG_CROSS_COMPILER_PREFIX=""$/CONFIG_CROSS_COMPILER_PREFIX="riscv64-linux-gnu-"/' "$OUT/.config"
    make -s -C "$SRC" O="$OUT" oldconfig < /dev/null > /dev/null
    for want in 'CONFIG_STATIC=y' 'CONFIG_CROSS_COMPILER_PREFIX="riscv64-linux-gnu-"'; do
        grep -qxF "$want" "$OUT/.config" || { echo "build-busybox: defconfig did not take $want" >&2; exit 1; }
    done
else
    cp "$HERE/busybox.config" "$OUT/.config"
    # oldconfig must not change anything: a change means the committed config is
    # stale for this source, and should be regenerated and reviewed.
    make -s -C "$SRC" O="$OUT" oldconfig < /dev/null > /dev/null
    if ! diff -q <(grep -v '^#  *Busybox version' "$HERE/busybox.config") \
                 <(grep -v '^#  *Busybox version' "$OUT/.config") > /dev/null; then
        echo "build-busybox: oldconfig changed busybox.config:" >&2
        diff <(grep -v '^#  *Busybox version' "$HERE/busybox.config") \
             <(grep -v '^#  *Busybox version' "$OUT/.config") >&2 || true
        exit 1
    fi
fi

make -s -C "$OUT" -j"$JOBS" BB_EXTRA_VERSION=" (Debian $version, romvisor)" busybox busybox.links
riscv64-linux-gnu-readelf -h "$OUT/busybox" | grep -q 'RISC-V' || { echo "build-busybox: not a RISC-V binary" >&2; exit 1; }
if riscv64-linux-gnu-readelf -l "$OUT/busybox" | grep -q INTERP; then
    echo "build-busybox: busybox is not static" >&2; exit 1
fi
ls -l "$OUT/busybox"
