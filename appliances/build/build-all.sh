#!/bin/bash
# Build every guest image from Debian sources and record what went in:
#   build-kernel.sh -> appliances/boot/Image.gz
#   build-busybox.sh + build-initramfs.sh -> appliances/boot/initramfs.cpio.gz
#   appliances/boot/manifest.json: sha256 and size of each output (and of its
#   gunzipped form), the Debian packages with exact versions, build times.
# Builds from scratch unless INCREMENTAL=1. Then run verify-qemu.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
BOOT=$REPO/appliances/boot
export CLEAN=1
[ "${INCREMENTAL:-0}" = 1 ] && CLEAN=0

for tool in jq riscv64-linux-gnu-gcc cpio gzip bc flex bison; do
    command -v "$tool" > /dev/null || { echo "build-all: $tool not installed" >&2; exit 2; }
done

seconds() { date +%s; }
t0=$(seconds)
"$HERE/build-kernel.sh";    t1=$(seconds)
"$HERE/build-busybox.sh";   t2=$(seconds)
"$HERE/build-initramfs.sh"; t3=$(seconds)

deb_version() { dpkg-query -W -f='${Version}' "$1"; }
dsc=$(ls "$BUILD"/busybox_*.dsc | sort -V | tail -n 1)
busybox_version=$(sed -n 's/^Version: //p' "$dsc")
kernel_release=$(cat "$BUILD/linux-build/include/config/kernel.release")

fw=$REPO/roms/opensbi/fw_dynamic.bin
jq -n \
  --argjson kernel "$(describe_gz "$BOOT/Image.gz")" \
  --argjson initramfs "$(describe_gz "$BOOT/initramfs.cpio.gz")" \
  --arg fwsha "$(sha256sum < "$fw" | cut -d' ' -f1)" --argjson fwsize "$(stat -c %s "$fw")" \
  --arg release "$kernel_release" \
  --arg linux_source "$(deb_version linux-source-6.1)" \
  --arg gcc "$(deb_version gcc-riscv64-linux-gnu)" \
  --arg gcc12 "$(deb_version gcc-12-riscv64-linux-gnu)" \
  --arg binutils "$(deb_version binutils-riscv64-linux-gnu)" \
  --arg libc "$(deb_version libc6-dev-riscv64-cross)" \
  --arg opensbi "$(deb_version opensbi)" \
  --arg busybox "$busybox_version" \
  --argjson t_kernel $((t1 - t0)) --argjson t_busybox $((t2 - t1)) \
  --argjson t_initramfs $((t3 - t2)) --argjson t_total $((t3 - t0)) \
  --argjson cpus "$(nproc)" --arg clean "$CLEAN" \
  '{
    schema: "romvisor-boot-manifest/1",
    outputs: {
      "Image.gz": ($kernel + {
        what: "Linux \($release) RISC-V flat Image (gzip -9n); gunzip it and place it at RAM base + 2 MiB (0x80200000)",
        built_by: "appliances/build/build-kernel.sh",
        config: "make ARCH=riscv tinyconfig + appliances/build/linux.config",
        debian_packages: {"linux-source-6.1": $linux_source, "gcc-riscv64-linux-gnu": $gcc,
                          "gcc-12-riscv64-linux-gnu": $gcc12, "binutils-riscv64-linux-gnu": $binutils}
      }),
      "initramfs.cpio.gz": ($initramfs + {
        what: "newc cpio (gzip -9n): static busybox, /init, /etc, /bin/fpcheck. Linux takes it gzipped or raw; handing over the gunzipped cpio saves the guest the inflate",
        built_by: "appliances/build/build-busybox.sh + build-initramfs.sh",
        config: "appliances/build/busybox.config",
        debian_packages: {"busybox (source)": $busybox, "gcc-riscv64-linux-gnu": $gcc,
                          "gcc-12-riscv64-linux-gnu": $gcc12, "libc6-dev-riscv64-cross": $libc}
      })
    },
    firmware: {path: "roms/opensbi/fw_dynamic.bin", sha256: $fwsha, size: $fwsize,
               debian_packages: {opensbi: $opensbi}},
    boot: {cmdline: "console=ttyS0", earlycon_cmdline: "console=ttyS0 earlycon=sbi",
           min_memory_mib: 64, prompt: "~ # ",
           reference: "qemu-system-riscv64 -M virt -m 256M -nographic -bios roms/opensbi/fw_dynamic.bin -kernel Image -initrd initramfs.cpio.gz -append \"console=ttyS0\""},
    build: {cpus: $cpus, from_scratch: ($clean == "1"),
            seconds: {kernel: $t_kernel, busybox: $t_busybox, initramfs: $t_initramfs, total: $t_total}}
  }' > "$BOOT/manifest.json"

echo "build-all: wrote $BOOT/manifest.json"
jq -c '.build' "$BOOT/manifest.json"
