#!/bin/bash
# Cross-build Debian's sqlite3 command-line shell as one static riscv64 binary.
# The source package ships the canonical tree, not the amalgamation, so the
# host first generates sqlite3.c and shell.c with SQLite's own Tcl scripts
# (configure for the build machine, `make sqlite3.c shell.c`; needs tclsh),
# then riscv64-linux-gnu-gcc compiles those two files with Debian's feature
# flags (debian/rules), minus what a static, single-threaded shell cannot use.
# Output: $ROMVISOR_BUILD_DIR/sqlite3-build/sqlite3 (default /work/build-images).
# CLEAN=1 regenerates the amalgamation too.
set -euo pipefail

BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
OUT=$BUILD/sqlite3-build
CC=riscv64-linux-gnu-gcc
export SOURCE_DATE_EPOCH=1672531200

command -v tclsh > /dev/null || { echo "build-sqlite: tclsh missing (apt-get install tcl)" >&2; exit 2; }
mkdir -p "$BUILD"
dsc=$(ls "$BUILD"/sqlite3_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$dsc" ]; then
    echo "build-sqlite: fetching Debian's sqlite3 source into $BUILD"
    (cd "$BUILD" && apt-get source --download-only sqlite3) || {
        echo "build-sqlite: apt-get source failed; add a 'Types: deb-src' entry for bookworm main" >&2
        exit 2
    }
    dsc=$(ls "$BUILD"/sqlite3_*.dsc | sort -V | tail -n 1)
fi
version=$(sed -n 's/^Version: //p' "$dsc")          # e.g. 3.40.1-2+deb12u2
upstream=${version%-*}
SRC=$BUILD/sqlite3-$upstream
# dpkg-source applies debian/patches (the CVE fixes among them).
[ -d "$SRC" ] || (cd "$BUILD" && dpkg-source -x "$dsc")
echo "build-sqlite: sqlite3 $version from $dsc"

[ "${CLEAN:-0}" = 1 ] && rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"
if [ ! -f sqlite3.c ] || [ ! -f shell.c ]; then
    # A host configure: only the generator tools (lemon, mkkeywordhash, ...)
    # run here. --linemacros=0 keeps build paths out of sqlite3.c.
    "$SRC/configure" --disable-tcl --disable-readline --disable-editline > configure.log
    make -s sqlite3.c shell.c AMALGAMATION_LINE_MACROS=--linemacros=0 > make.log
fi

# Debian's CFLAGS from debian/rules, except: THREADSAFE=0 (the guest shell is
# single-threaded), no load_extension (static binary, no dlopen).
flags=(
    -O2 -fno-strict-aliasing
    -DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_COLUMN_METADATA
    -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5
    -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1
    -DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB
    -DSQLITE_ALLOW_ROWID_IN_VIEW -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1
    -DSQLITE_ENABLE_JSON1 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS
    -DSQLITE_USE_URI=1 -DSQLITE_MAX_SCHEMA_RETRY=25
    -DSQLITE_ENABLE_PREUPDATE_HOOK -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_STMTVTAB
    -DSQLITE_MAX_VARIABLE_NUMBER=250000
    -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION
    -DHAVE_USLEEP=1 -DHAVE_LOCALTIME_R=1 -DHAVE_GMTIME_R=1
)
"$CC" "${flags[@]}" -static -o sqlite3 sqlite3.c shell.c -lm
riscv64-linux-gnu-strip sqlite3
if riscv64-linux-gnu-readelf -l sqlite3 | grep -q INTERP; then
    echo "build-sqlite: sqlite3 is not static" >&2; exit 1
fi
echo "$version" > debian-version
ls -l "$OUT/sqlite3"
