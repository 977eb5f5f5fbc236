#!/bin/bash
# build-appliance.sh NAME: build the disk appliance appliances/NAME.vhd.gz.
#
# Disk layout (MBR, 512-byte sectors, 72 MiB), as `romvisor appliance create` makes it:
#   sector 0           MBR
#   partition 1  1 MiB  6 MiB  ext2 "boot" sized to its files: Image (the flat kernel
#                               gunzipped from appliances/boot/Image.gz), appliance.json
#   partition 2  8 MiB 64 MiB  ext4 "root" with a 4 MiB journal: what Linux
#                               mounts read-write from /dev/vda2, replaying the
#                               journal after a crash (the guest has no fsck)
# Partition 2 starts on a 2 MiB boundary, the VHD block size, so guest writes to
# the root file system never land in a block shared with the boot partition.
#
# The root tree: busybox and its applet links, busybox init (disks/base/root:
# inittab, rcS, rcK, profile), /bin/fpcheck and /bin/pagefault-demo, the
# /etc/motd banner made from appliance.json, /etc/appliance-version, then what NAME
# adds (disks/NAME/; sqlite: its web page under busybox httpd, disks/sqlite/root).
# `romvisor appliance create` (the builder users have too) makes the file systems,
# the MBR and the dynamic VHD; then `gzip -9n`. Same inputs, same bytes:
# SOURCE_DATE_EPOCH fixes every time and id (UUIDs and hash seeds from the name,
# the VHD's unique id from the content).
#
# Work files (the tree, disk.raw and root.ext4 as the VHD holds them, NAME.vhd) stay
# in $ROMVISOR_BUILD_DIR/appliance-NAME (default /work/build-images).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
CC=riscv64-linux-gnu-gcc
EPOCH=1672531200   # every timestamp in the image: 2023-01-01 00:00:00 UTC
export SOURCE_DATE_EPOCH=$EPOCH
SECTOR=512
ROOT_SECTORS=$((64 * 2048))

NAME=${1:-}
DEF=$HERE/disks/$NAME
if [ -z "$NAME" ] || [ ! -f "$DEF/appliance.json" ]; then
    echo "usage: build-appliance.sh NAME   (NAME: $(cd "$HERE/disks" && ls | tr '\n' ' '))" >&2
    exit 2
fi
for tool in jq mke2fs debugfs sfdisk qemu-img node gzip "$CC"; do
    command -v "$tool" > /dev/null || { echo "build-appliance: $tool not installed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "build-appliance: must run as root (device nodes, root ownership)" >&2; exit 2; }
[ "$(jq -r .name "$DEF/appliance.json")" = "$NAME" ] || {
    echo "build-appliance: $DEF/appliance.json: name is \"$(jq -r .name "$DEF/appliance.json")\", expected \"$NAME\"" >&2; exit 1; }

BB=$BUILD/busybox-build
KERNEL_GZ=$REPO/appliances/boot/Image.gz
[ -x "$BB/busybox" ] && [ -f "$BB/busybox.links" ] || {
    echo "build-appliance: $BB/busybox missing; run build-busybox.sh first" >&2; exit 2; }
[ -f "$KERNEL_GZ" ] || { echo "build-appliance: $KERNEL_GZ missing; run build-kernel.sh first" >&2; exit 2; }

WORK=$BUILD/appliance-$NAME
ROOT=$WORK/root
BOOTDIR=$WORK/boot
rm -rf "$WORK"
mkdir -p "$ROOT" "$BOOTDIR"

echo "build-appliance: $NAME: root tree"
cd "$ROOT"
mkdir -p bin sbin usr/bin usr/sbin etc/init.d dev proc sys tmp root mnt run var/log
chmod 1777 tmp
chmod 0700 root
busybox_tree "$ROOT" "$BB"
cp -R "$HERE/disks/base/root/." .
install -m 0644 "$HERE/rootfs/etc/passwd" "$HERE/rootfs/etc/group" "$HERE/rootfs/etc/hostname" etc/
# Network and shared folder, as in the initramfs (rootfs/etc/init.d/hostlinks, sourced
# by rcS): resolv.conf is this boot's, in /run (tmpfs), never written to the disk.
install -m 0644 "$HERE/rootfs/etc/init.d/hostlinks" etc/init.d/hostlinks
install -D -m 0755 "$HERE/rootfs/usr/share/udhcpc/default.script" usr/share/udhcpc/default.script
ln -s /run/resolv.conf etc/resolv.conf
mkdir -p mnt/host
"$CC" -O2 -static -Wall -Wextra -Werror -o bin/fpcheck "$HERE/src/fpcheck.c" -lm
"$CC" -O2 -static -Wall -Wextra -Werror -o bin/pagefault-demo "$HERE/src/pagefault-demo.c"
riscv64-linux-gnu-strip bin/fpcheck bin/pagefault-demo
console_nodes "$ROOT"

case "$NAME" in
base) ;;
sqlite)
    [ -x "$BUILD/sqlite3-build/sqlite3" ] || "$HERE/build-sqlite.sh"
    install -m 0755 "$BUILD/sqlite3-build/sqlite3" usr/bin/sqlite3
    command -v sqlite3 > /dev/null || { echo "build-appliance: host sqlite3 missing (apt-get install sqlite3)" >&2; exit 2; }
    sqlite3 root/sample.db < "$DEF/sample.sql"
    chmod 0644 root/sample.db
    # The web page (disks/sqlite/root: /www, its CGI, /etc/init.d/httpd), started by
    # init right after rcS, so it serves before the console's shell starts.
    cp -R "$DEF/root/." .
    sed -i 's|^::sysinit:/etc/init.d/rcS$|&\n::sysinit:/etc/init.d/httpd|' etc/inittab
    grep -qx '::sysinit:/etc/init.d/httpd' etc/inittab || { echo "build-appliance: inittab has no rcS line to start httpd after" >&2; exit 1; }
    ;;
lua)
    [ -x "$BUILD/lua5.4-build/lua" ] || "$HERE/build-lua.sh"
    install -m 0755 "$BUILD/lua5.4-build/lua" usr/bin/lua5.4
    ln -s lua5.4 usr/bin/lua
    install -m 0644 "$DEF/hello.lua" root/hello.lua
    ;;
*)  echo "build-appliance: no recipe for \"$NAME\"" >&2; exit 2 ;;
esac

# appliance.json as the boot sequence reads it: the committed definition plus
# the names of the boot files. The root keeps a copy for the curious.
jq -S '. + {kernel: "Image"}' "$DEF/appliance.json" > etc/appliance.json
chmod 0644 etc/appliance.json
# The system's version, one line: what an update changes (cat /etc/appliance-version).
jq -r .version "$DEF/appliance.json" > etc/appliance-version
# The banner rcS prints under the kernel line: what this is and what to try.
{
    jq -r '"== \(.title) (appliance \(.name) \(.version)) =="' "$DEF/appliance.json"
    jq -r .description "$DEF/appliance.json" | fold -s -w 78 | sed 's/ *$//'
    jq -r '.tryFirst[] | "try: \(.)"' "$DEF/appliance.json"
} > etc/motd
find . -exec touch -h -d "@$EPOCH" {} +

echo "build-appliance: $NAME: disk (romvisor appliance create)"
zcat "$KERNEL_GZ" > "$WORK/Image"
# The builder any user has: mke2fs -d with its own profile (ext4 root with a 4 MiB journal,
# ext2 boot partition sized to its files), the MBR, the dynamic VHD; SOURCE_DATE_EPOCH fixes
# every time and id (the VHD's unique id is a hash of the disk's content).
tries=()
while IFS= read -r line; do tries+=(--try "$line"); done < <(jq -r '.tryFirst[]' "$DEF/appliance.json")
data_disk=()
[ "$(jq -r '.dataDiskMiB // empty' "$DEF/appliance.json")" = "" ] ||
    data_disk=(--data-disk "$(jq -r .dataDiskMiB "$DEF/appliance.json")M")
VHD=$WORK/$NAME.vhd
node "$REPO/bin/romvisor.mjs" appliance create --kernel "$WORK/Image" --root "$ROOT" \
    --name "$NAME" --title "$(jq -r .title "$DEF/appliance.json")" \
    --description "$(jq -r .description "$DEF/appliance.json")" \
    --version "$(jq -r .version "$DEF/appliance.json")" \
    --cmdline "$(jq -r .cmdline "$DEF/appliance.json")" \
    --mem "$(jq -r .memoryMiB "$DEF/appliance.json")M" "${data_disk[@]}" "${tries[@]}" \
    --root-size $((ROOT_SECTORS * SECTOR / 1048576))M -o "$VHD"
# What the manifest describes: the raw disk, its root file system and the boot partition's
# appliance.json, as the VHD holds them.
qemu-img convert -f vpc -O raw "$VHD" "$WORK/disk.raw"
root_at=$(sfdisk --json "$WORK/disk.raw" | jq '.partitiontable.partitions[1].start')
dd if="$WORK/disk.raw" of="$WORK/root.ext4" bs=$SECTOR skip="$root_at" count=$ROOT_SECTORS status=none
node "$REPO/bin/romvisor.mjs" vhd cat "$VHD" /appliance.json > "$BOOTDIR/appliance.json"
mkdir -p "$REPO/appliances"
gzip -9n -c "$VHD" > "$REPO/appliances/$NAME.vhd.gz"

printf 'build-appliance: %s: %s (%s bytes), VHD %s bytes, disk %s MiB\n' "$NAME" \
    "appliances/$NAME.vhd.gz" "$(stat -c %s "$REPO/appliances/$NAME.vhd.gz")" \
    "$(stat -c %s "$VHD")" $(( $(stat -c %s "$WORK/disk.raw") / 1048576 ))
