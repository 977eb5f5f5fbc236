#!/bin/bash
# build-kernel.sh [--config-only] [stock]: build a kernel from Debian's linux-source-6.1:
#   (default) the appliance kernel: tinyconfig + appliances/build/linux.config
#             -> Image -> appliances/boot/Image.gz
#   stock     the JIT benchmark's stock kernel: tinyconfig + linux-stock.config
#             -> Image -> appliances/stock/Image.gz
# The source is unpacked and built outside the repo ($ROMVISOR_BUILD_DIR,
# default /work/build-images; one output directory per kernel). `--config-only` stops
# after the .config check; CLEAN=1 builds from an empty output directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC=$BUILD/linux-source-6.1
JOBS=${JOBS:-2}
CONFIG_ONLY=0
VARIANT=appliance
for arg in "$@"; do
    case "$arg" in
    --config-only) CONFIG_ONLY=1 ;;
    stock) VARIANT=stock ;;
    *) echo "usage: build-kernel.sh [--config-only] [stock]" >&2; exit 2 ;;
    esac
done
case "$VARIANT" in
appliance) OUT=$BUILD/linux-build;       FRAGMENT=$HERE/linux.config;       DEST=$REPO/appliances/boot ;;
stock)     OUT=$BUILD/linux-build-stock; FRAGMENT=$HERE/linux-stock.config; DEST=$REPO/appliances/stock ;;
esac

# Fixed build identity so that two builds of the same inputs give the same Image.
export KBUILD_BUILD_TIMESTAMP='2023-01-01 00:00:00 UTC'
export KBUILD_BUILD_USER=romvisor
export KBUILD_BUILD_HOST=romvisor
export KBUILD_BUILD_VERSION=1
export ARCH=riscv
export CROSS_COMPILE=riscv64-linux-gnu-

[ -f "$TARBALL" ] || { echo "build-kernel: $TARBALL missing (apt-get install linux-source-6.1)" >&2; exit 2; }
mkdir -p "$BUILD"
# The stamp records which tarball the tree came from, so a Debian update re-unpacks.
STAMP="$(stat -c '%s %Y' "$TARBALL")"
if [ ! -f "$SRC/.romvisor-unpacked" ] || [ "$(cat "$SRC/.romvisor-unpacked")" != "$STAMP" ]; then
    echo "build-kernel: unpacking $TARBALL into $BUILD"
    rm -rf "$SRC" "$BUILD/linux-build" "$BUILD/linux-build-stock"
    tar -C "$BUILD" -xf "$TARBALL"
    echo "$STAMP" > "$SRC/.romvisor-unpacked"
fi
[ "${CLEAN:-0}" = 1 ] && rm -rf "$OUT"
mkdir -p "$OUT"

make -s -C "$SRC" O="$OUT" tinyconfig
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "$FRAGMENT" > "$OUT/merge.log"
make -s -C "$SRC" O="$OUT" olddefconfig

# merge_config only warns when Kconfig drops a request (unmet dependency,
# choice conflict); here every request must hold or the build stops.
bad=0
while IFS= read -r line; do
    case "$line" in
    CONFIG_*=*)
        if ! grep -qxF "$line" "$OUT/.config"; then
            have=$(grep -E "^(# )?${line%%=*}[= ]" "$OUT/.config" || echo "absent")
            echo "build-kernel: requested $line, got: $have" >&2
            bad=1
        fi ;;
    "# CONFIG_"*" is not set")
        sym=${line#\# }; sym=${sym%% *}
        if grep -q "^$sym=" "$OUT/.config"; then
            echo "build-kernel: requested $sym off, got: $(grep "^$sym=" "$OUT/.config")" >&2
            bad=1
        fi ;;
    esac
done < "$FRAGMENT"
[ "$bad" = 0 ] || { echo "build-kernel: .config does not match ${FRAGMENT##*/}" >&2; exit 1; }
echo "build-kernel: .config matches every line of ${FRAGMENT##*/}"
[ "$CONFIG_ONLY" = 1 ] && exit 0

make -s -C "$SRC" O="$OUT" -j"$JOBS" Image
mkdir -p "$DEST"
gzip -9n -c "$OUT/arch/riscv/boot/Image" > "$DEST/Image.gz"
ls -l "$OUT/arch/riscv/boot/Image" "$DEST/Image.gz"
