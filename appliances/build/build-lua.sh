#!/bin/bash
# Cross-build Debian's Lua 5.4 interpreter as one static riscv64 binary.
# Debian's build goes through libtool and shared libraries; here the same
# (patched) sources are compiled directly: the core, the standard libraries and
# lua.c, with the flags of upstream's `linux-noreadline` target minus dlopen
# (a static binary cannot load C modules; Lua modules still load).
# Output: $ROMVISOR_BUILD_DIR/lua5.4-build/lua (default /work/build-images).
set -euo pipefail

BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
OUT=$BUILD/lua5.4-build
CC=riscv64-linux-gnu-gcc

mkdir -p "$BUILD"
dsc=$(ls "$BUILD"/lua5.4_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$dsc" ]; then
    echo "build-lua: fetching Debian's lua5.4 source into $BUILD"
    (cd "$BUILD" && apt-get source --download-only lua5.4) || {
        echo "build-lua: apt-get source failed; add a 'Types: deb-src' entry for bookworm main" >&2
        exit 2
    }
    dsc=$(ls "$BUILD"/lua5.4_*.dsc | sort -V | tail -n 1)
fi
version=$(sed -n 's/^Version: //p' "$dsc")          # e.g. 5.4.4-3+deb12u1
upstream=${version%-*}
SRC=$BUILD/lua5.4-$upstream
[ -d "$SRC" ] || (cd "$BUILD" && dpkg-source -x "$dsc")
echo "build-lua: lua5.4 $version from $dsc"

rm -rf "$OUT"
mkdir -p "$OUT"
# Debian's luaconf.h includes a header that debian/rules generates to name the
# multiarch directory in the C module search path.
echo '#define DEB_HOST_MULTIARCH "riscv64-linux-gnu"' > "$OUT/lua5.4-deb-multiarch.h"

core="lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser
      lstate lstring ltable ltm lundump lvm lzio"
libs="lauxlib lbaselib lcorolib ldblib liolib lmathlib loadlib loslib lstrlib ltablib lutf8lib linit"
sources=()
for f in $core $libs lua; do sources+=("$SRC/src/$f.c"); done
"$CC" -std=gnu99 -O2 -Wall -Wextra -DLUA_COMPAT_5_3 -DLUA_USE_POSIX -I"$OUT" \
    -static -o "$OUT/lua" "${sources[@]}" -lm
riscv64-linux-gnu-strip "$OUT/lua"
if riscv64-linux-gnu-readelf -l "$OUT/lua" | grep -q INTERP; then
    echo "build-lua: lua is not static" >&2; exit 1
fi
echo "$version" > "$OUT/debian-version"
ls -l "$OUT/lua"
