#!/bin/bash
# Assemble the romvisor initramfs: busybox (from build-busybox.sh) + its applet
# links, the committed rootfs/ files (/init, /etc/...), /bin/fpcheck compiled
# from src/fpcheck.c, packed reproducibly into appliances/boot/initramfs.cpio.gz.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
BB=$BUILD/busybox-build
ROOT=$BUILD/initramfs-root
CC=riscv64-linux-gnu-gcc
EPOCH=1672531200   # every mtime in the archive: 2023-01-01 00:00:00 UTC

[ -x "$BB/busybox" ] && [ -f "$BB/busybox.links" ] || {
    echo "build-initramfs: $BB/busybox or busybox.links missing; run build-busybox.sh first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-initramfs: must run as root (device nodes, root ownership)" >&2; exit 2; }

rm -rf "$ROOT"
mkdir -p "$ROOT"
cd "$ROOT"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp root mnt run var/log
chmod 1777 tmp
chmod 0700 root

busybox_tree "$ROOT" "$BB"

install -m 0755 "$HERE/rootfs/init" init
install -m 0644 "$HERE/rootfs/etc/passwd" "$HERE/rootfs/etc/group" \
    "$HERE/rootfs/etc/profile" "$HERE/rootfs/etc/hostname" etc/
# Network and shared folder (see rootfs/etc/init.d/hostlinks): the lease's resolver
# configuration lives in /run (tmpfs); /mnt/host is where the share is mounted.
install -D -m 0644 "$HERE/rootfs/etc/init.d/hostlinks" etc/init.d/hostlinks
install -D -m 0755 "$HERE/rootfs/usr/share/udhcpc/default.script" usr/share/udhcpc/default.script
ln -s /run/resolv.conf etc/resolv.conf
mkdir -p mnt/host

"$CC" -O2 -static -Wall -Wextra -Werror -o bin/fpcheck "$HERE/src/fpcheck.c" -lm
riscv64-linux-gnu-strip bin/fpcheck

console_nodes "$ROOT"
pack_initramfs "$ROOT" "$REPO/appliances/boot/initramfs.cpio.gz" "$EPOCH"
ls -l "$REPO/appliances/boot/initramfs.cpio.gz"
