#!/bin/bash
# build-stock.sh: the stock kernel and initramfs of the JIT benchmark's stock-kernel
# boot group (issue 14), a kernel like one a user would bring rather than the
# appliance kernel tuned for romvisor:
#   build-kernel.sh stock   Debian linux-source-6.1, tinyconfig + linux-stock.config
#                           -> appliances/stock/Image.gz
#   build-busybox.sh stock  busybox `make defconfig`, static, for riscv64
#   initramfs               that busybox, its applet links, stock/init, /dev/console
#                           (+ rootfs/etc/passwd, group)
#                           -> appliances/stock/initramfs.cpio.gz (newc, gzip -9n)
#   appliances/stock/manifest.json: sizes, sha256s, Debian versions, how to boot.
# Reproducible as the appliance builds are (fixed build identity and mtimes, sorted
# cpio, gzip -n). CLEAN=1 builds from empty output directories. Then verify-stock.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
DEST=$REPO/appliances/stock
BB=$BUILD/busybox-build-stock
ROOT=$BUILD/stock-initramfs-root
EPOCH=1672531200   # every mtime in the archive: 2023-01-01 00:00:00 UTC

for tool in jq riscv64-linux-gnu-gcc cpio gzip bc flex bison; do
    command -v "$tool" > /dev/null || { echo "build-stock: $tool not installed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "build-stock: must run as root (device nodes, root ownership)" >&2; exit 2; }

seconds() { date +%s; }
t0=$(seconds)
"$HERE/build-kernel.sh" stock; t1=$(seconds)
"$HERE/build-busybox.sh" stock; t2=$(seconds)

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root}
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
busybox_tree "$ROOT" "$BB"
install -m 0755 "$HERE/stock/init" "$ROOT/init"
# root's home from passwd is what turns /root into ~ in the shell's prompt (\w).
install -m 0644 "$HERE/rootfs/etc/passwd" "$HERE/rootfs/etc/group" "$ROOT/etc/"
console_nodes "$ROOT"
pack_initramfs "$ROOT" "$DEST/initramfs.cpio.gz" "$EPOCH"
t3=$(seconds)

deb_version() { dpkg-query -W -f='${Version}' "$1"; }
dsc=$(ls "$BUILD"/busybox_*.dsc | sort -V | tail -n 1)
jq -n \
  --argjson kernel "$(describe_gz "$DEST/Image.gz")" \
  --argjson initramfs "$(describe_gz "$DEST/initramfs.cpio.gz")" \
  --arg release "$(cat "$BUILD/linux-build-stock/include/config/kernel.release")" \
  --arg linux_source "$(deb_version linux-source-6.1)" \
  --arg gcc "$(deb_version gcc-12-riscv64-linux-gnu)" \
  --arg binutils "$(deb_version binutils-riscv64-linux-gnu)" \
  --arg libc "$(deb_version libc6-dev-riscv64-cross)" \
  --arg busybox "$(sed -n 's/^Version: //p' "$dsc")" \
  --argjson t_kernel $((t1 - t0)) --argjson t_busybox $((t2 - t1)) --argjson t_initramfs $((t3 - t2)) \
  --argjson cpus "$(nproc)" --arg clean "${CLEAN:-0}" \
  '{
    schema: "romvisor-stock-manifest/1",
    what: "The JIT benchmark'"'"'s stock kernel (issue 14): Debian linux-source-6.1 with tinyconfig plus only what QEMU'"'"'s virt machine needs to boot an initramfs to a shell on ttyS0, without the appliance kernel'"'"'s boot-time tuning (SMP, HZ=250, periodic tick); a busybox-defconfig static initramfs whose /init prints a line and a shell prompt.",
    outputs: {
      "Image.gz": ($kernel + {
        what: "Linux \($release) RISC-V flat Image (gzip -9n); romvisor boot gunzips it, QEMU needs it gunzipped",
        built_by: "appliances/build/build-kernel.sh stock (from build-stock.sh)",
        config: "make ARCH=riscv tinyconfig + appliances/build/linux-stock.config",
        debian_packages: {"linux-source-6.1": $linux_source, "gcc-12-riscv64-linux-gnu": $gcc,
                          "binutils-riscv64-linux-gnu": $binutils}
      }),
      "initramfs.cpio.gz": ($initramfs + {
        what: "newc cpio (gzip -9n): static busybox (defconfig), /init (appliances/build/stock/init); the kernel inflates it at boot",
        built_by: "appliances/build/build-busybox.sh stock + build-stock.sh",
        config: "busybox make defconfig + CONFIG_STATIC=y + CONFIG_CROSS_COMPILER_PREFIX=riscv64-linux-gnu-",
        debian_packages: {"busybox (source)": $busybox, "gcc-12-riscv64-linux-gnu": $gcc,
                          "libc6-dev-riscv64-cross": $libc}
      })
    },
    boot: {cmdline: "console=ttyS0", prompt: "~ # ", ready_line: "stock initramfs: ", min_memory_mib: 64,
           romvisor: "romvisor boot --kernel appliances/stock/Image.gz --initrd appliances/stock/initramfs.cpio.gz --append console=ttyS0",
           reference: "qemu-system-riscv64 -M virt -smp 1 -m 256M -nographic -bios roms/opensbi/fw_dynamic.bin -kernel Image -initrd initramfs.cpio.gz -append console=ttyS0 (Image = Image.gz gunzipped)"},
    build: {cpus: $cpus, from_scratch: ($clean == "1"),
            seconds: {kernel: $t_kernel, busybox: $t_busybox, initramfs: $t_initramfs}}
  }' > "$DEST/manifest.json"
ls -l "$DEST"
echo "build-stock: wrote appliances/stock/manifest.json"
