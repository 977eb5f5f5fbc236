#!/bin/bash
# build-appliance.sh NAME: build the disk appliance appliances/NAME.vhd.gz.
#
# Disk layout (MBR, 512-byte sectors, 72 MiB):
#   sector 0           MBR
#   partition 1  1 MiB  7 MiB  ext2 "boot": Image (the flat kernel gunzipped from
#                               appliances/boot/Image.gz) and appliance.json
#   partition 2  8 MiB 64 MiB  ext4 "root" with a 4 MiB journal: what Linux
#                               mounts read-write from /dev/vda2, replaying the
#                               journal after a crash (the guest has no fsck)
# Partition 2 starts on a 2 MiB boundary, the VHD block size, so guest writes to
# the root file system never land in a block shared with the boot partition.
#
# The root tree: busybox and its applet links, busybox init (disks/base/root:
# inittab, rcS, rcK, profile), /bin/fpcheck and /bin/pagefault-demo, the
# /etc/motd banner made from appliance.json, then what NAME adds (disks/NAME/;
# sqlite: its web page under busybox httpd, disks/sqlite/root).
# The raw disk becomes a dynamic VHD (qemu-img, then vhd-pin.mjs fixes the
# footer's time and id) and `gzip -9n`. Same inputs, same bytes: fixed mtimes,
# owners, UUIDs, hash seed, MBR disk id and VHD footer.
#
# Work files (the tree, the partition images, disk.raw and NAME.vhd) stay in
# $ROMVISOR_BUILD_DIR/appliance-NAME (default /work/build-images).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
CC=riscv64-linux-gnu-gcc
EPOCH=1672531200   # every timestamp in the image: 2023-01-01 00:00:00 UTC
export SOURCE_DATE_EPOCH=$EPOCH
export E2FSPROGS_FAKE_TIME=$EPOCH   # mke2fs: superblock, new-inode and journal-inode times
export MKE2FS_CONFIG=$HERE/mke2fs.conf
SECTOR=512
BOOT_START=$((1 * 2048))  BOOT_SECTORS=$((7 * 2048))
ROOT_START=$((8 * 2048))  ROOT_SECTORS=$((64 * 2048))
DISK_SECTORS=$((ROOT_START + ROOT_SECTORS))

NAME=${1:-}
DEF=$HERE/disks/$NAME
if [ -z "$NAME" ] || [ ! -f "$DEF/appliance.json" ]; then
    echo "usage: build-appliance.sh NAME   (NAME: $(cd "$HERE/disks" && ls | tr '\n' ' '))" >&2
    exit 2
fi
for tool in jq mke2fs sfdisk qemu-img node gzip "$CC"; do
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

# A stable UUID per appliance and purpose, so rebuilds give the same bytes while
# two appliances never share a file system UUID.
uuid_for() {
    local h; h=$(printf 'romvisor-appliance/%s/%s' "$NAME" "$1" | sha256sum | cut -c1-32)
    printf '%s-%s-5%s-%x%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" \
        $(( (0x${h:16:1} & 3) | 8 )) "${h:17:3}" "${h:20:12}"
}

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
jq -S '. + {kernel: "Image"}' "$DEF/appliance.json" > "$BOOTDIR/appliance.json"
install -m 0644 "$BOOTDIR/appliance.json" etc/appliance.json
# The banner rcS prints under the kernel line: what this is and what to try.
{
    jq -r '"== \(.title) (appliance \(.name) \(.version)) =="' "$DEF/appliance.json"
    jq -r .description "$DEF/appliance.json" | fold -s -w 78 | sed 's/ *$//'
    jq -r '.tryFirst[] | "try: \(.)"' "$DEF/appliance.json"
} > etc/motd
find . -exec touch -h -d "@$EPOCH" {} +

echo "build-appliance: $NAME: file systems"
zcat "$KERNEL_GZ" > "$BOOTDIR/Image"
touch -d "@$EPOCH" "$BOOTDIR" "$BOOTDIR"/*
# mke2fs.conf has the features and disables lazy inode table init (the guest
# kernel would otherwise zero the tables in the background after first mount).
# -T default: not the "small" usage type mke2fs picks by size, which the
# profile leaves undefined. 256-byte inodes hold times past 2038; -m 0: no
# blocks reserved for root, who is the only user.
mkfs_common=(-q -F -T default -b 4096 -I 256 -m 0)
# The root's journal (has_journal in mke2fs.conf): 4 MiB, the 1024-block minimum,
# named here so a newer mke2fs's default size cannot change the image. Its
# superblock takes the file system UUID, and it holds no times.
root_journal=(-J size=4)
# mke2fs -d copies each file's ctime from the host, where it is the time of the
# build; debugfs sets every inode's ctime to EPOCH like the other times.
pin_ctimes() { # image, tree it was made from
    (cd "$2" && find . -printf '%P\n') | LC_ALL=C sort |
        sed "s|.*|sif \"/&\" ctime @$EPOCH|" > "$WORK/pin-ctimes.debugfs"
    debugfs -w -f "$WORK/pin-ctimes.debugfs" "$1" > /dev/null 2> "$WORK/pin-ctimes.log" || {
        cat "$WORK/pin-ctimes.log" >&2; exit 1; }
    if grep -v '^debugfs ' "$WORK/pin-ctimes.log" | grep -q .; then
        echo "build-appliance: debugfs on $1:" >&2; cat "$WORK/pin-ctimes.log" >&2; exit 1
    fi
}
truncate -s $((ROOT_SECTORS * SECTOR)) "$WORK/root.ext4"
truncate -s $((BOOT_SECTORS * SECTOR)) "$WORK/boot.ext2"
mke2fs "${mkfs_common[@]}" "${root_journal[@]}" -t ext4 -L root -U "$(uuid_for root)" \
    -E "root_owner=0:0,hash_seed=$(uuid_for root-hash),nodiscard" \
    -d "$ROOT" "$WORK/root.ext4" $((ROOT_SECTORS * SECTOR / 4096))
pin_ctimes "$WORK/root.ext4" "$ROOT"
mke2fs "${mkfs_common[@]}" -t ext2 -L boot -U "$(uuid_for boot)" \
    -E "root_owner=0:0,hash_seed=$(uuid_for boot-hash),nodiscard" \
    -d "$BOOTDIR" "$WORK/boot.ext2" $((BOOT_SECTORS * SECTOR / 4096))
pin_ctimes "$WORK/boot.ext2" "$BOOTDIR"

echo "build-appliance: $NAME: disk"
DISK=$WORK/disk.raw
truncate -s $((DISK_SECTORS * SECTOR)) "$DISK"
# Disk identifier: from the name, fixed across builds.
label_id=0x$(printf 'romvisor-appliance/%s' "$NAME" | sha256sum | cut -c1-8)
sfdisk --quiet --no-reread --no-tell-kernel "$DISK" <<EOF
label: dos
label-id: $label_id
unit: sectors

start=$BOOT_START, size=$BOOT_SECTORS, type=83, bootable
start=$ROOT_START, size=$ROOT_SECTORS, type=83
EOF
dd if="$WORK/boot.ext2" of="$DISK" bs=$SECTOR seek=$BOOT_START conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$DISK" bs=$SECTOR seek=$ROOT_START conv=notrunc,sparse status=none

VHD=$WORK/$NAME.vhd
rm -f "$VHD"
# force_size: the VHD's size is the raw size exactly, not rounded to a CHS geometry.
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$DISK" "$VHD"
node "$HERE/vhd-pin.mjs" "$VHD" "$EPOCH" "$(uuid_for vhd)"
mkdir -p "$REPO/appliances"
gzip -9n -c "$VHD" > "$REPO/appliances/$NAME.vhd.gz"

printf 'build-appliance: %s: %s (%s bytes), VHD %s bytes, disk %s MiB\n' "$NAME" \
    "appliances/$NAME.vhd.gz" "$(stat -c %s "$REPO/appliances/$NAME.vhd.gz")" \
    "$(stat -c %s "$VHD")" $((DISK_SECTORS * SECTOR / 1048576))
