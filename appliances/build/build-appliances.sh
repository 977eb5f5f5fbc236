#!/bin/bash
# Build every disk appliance and record what went in:
#   build-sqlite.sh, build-lua.sh (and build-busybox.sh if its output is missing)
#   build-appliance.sh NAME for each of disks/*  -> appliances/NAME.vhd.gz
#   appliances/manifest.json: per appliance its metadata (appliance.json), file,
#   sizes, sha256 of the .vhd.gz, of the .vhd and of the raw disk it holds,
#   partitions, and the Debian source/toolchain versions it was built from.
# The kernel is appliances/boot/Image.gz as committed (build-kernel.sh makes it);
# its provenance comes from appliances/boot/manifest.json, which must describe
# the same bytes. CLEAN=1 also regenerates the sqlite3 amalgamation.
# The manifest holds no times or host names, so a rebuild that reproduces the
# images reproduces it too. Then run verify-appliances.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${ROMVISOR_BUILD_DIR:-/work/build-images}
BOOT_MANIFEST=$REPO/appliances/boot/manifest.json
KERNEL_GZ=$REPO/appliances/boot/Image.gz

for tool in jq mke2fs dumpe2fs sfdisk qemu-img node gzip sqlite3 tclsh riscv64-linux-gnu-gcc; do
    command -v "$tool" > /dev/null || { echo "build-appliances: $tool not installed" >&2; exit 2; }
done
kernel_sha=$(sha256sum < "$KERNEL_GZ" | cut -d' ' -f1)
if [ "$(jq -r '.outputs["Image.gz"].sha256' "$BOOT_MANIFEST")" != "$kernel_sha" ]; then
    echo "build-appliances: appliances/boot/Image.gz (sha256 $kernel_sha) is not the one" \
         "appliances/boot/manifest.json describes; rerun build-all.sh" >&2
    exit 1
fi

seconds() { date +%s; }
t0=$(seconds)
[ -x "$BUILD/busybox-build/busybox" ] || "$HERE/build-busybox.sh"
"$HERE/build-sqlite.sh"
"$HERE/build-lua.sh"
t1=$(seconds)
names=()
for def in "$HERE"/disks/*/appliance.json; do
    name=$(jq -r .name "$def")
    "$HERE/build-appliance.sh" "$name"
    names+=("$name")
done
t2=$(seconds)

deb_version() { dpkg-query -W -f='${Version}' "$1"; }
dsc_version() { sed -n 's/^Version: //p' "$(ls "$BUILD"/"$1"_*.dsc | sort -V | tail -n 1)"; }
toolchain=$(jq -n \
    --arg gcc "$(riscv64-linux-gnu-gcc -dumpfullversion)" \
    --arg gcc_pkg "$(deb_version gcc-12-riscv64-linux-gnu)" \
    --arg binutils "$(deb_version binutils-riscv64-linux-gnu)" \
    --arg libc "$(deb_version libc6-dev-riscv64-cross)" \
    --arg e2fsprogs "$(deb_version e2fsprogs)" \
    --arg fdisk "$(deb_version fdisk)" \
    --arg qemu_utils "$(deb_version qemu-utils)" \
    --arg sqlite3_host "$(deb_version sqlite3)" \
    '{"riscv64-linux-gnu-gcc": $gcc, "gcc-12-riscv64-linux-gnu": $gcc_pkg,
      "binutils-riscv64-linux-gnu": $binutils, "libc6-dev-riscv64-cross": $libc,
      "e2fsprogs (mke2fs, debugfs)": $e2fsprogs, "fdisk (sfdisk)": $fdisk,
      "qemu-utils (qemu-img)": $qemu_utils, "sqlite3 (host, builds sample.db)": $sqlite3_host}')
linux=$(jq -c '.outputs["Image.gz"].debian_packages["linux-source-6.1"]' "$BOOT_MANIFEST")
busybox=$(dsc_version busybox)
sqlite=$(cat "$BUILD/sqlite3-build/debian-version")
lua=$(cat "$BUILD/lua5.4-build/debian-version")

entries=()
for name in "${names[@]}"; do
    gz=$REPO/appliances/$name.vhd.gz
    work=$BUILD/appliance-$name
    sources=$(jq -n --argjson linux "$linux" --arg busybox "$busybox" '{"linux-source-6.1": $linux, busybox: $busybox}')
    case "$name" in
    sqlite) sources=$(jq --arg v "$sqlite" '. + {sqlite3: $v}' <<< "$sources") ;;
    lua)    sources=$(jq --arg v "$lua" '. + {"lua5.4": $v}' <<< "$sources") ;;
    esac
    parts=$(sfdisk --json "$work/disk.raw" | jq -c '[.partitiontable.partitions[] | {start: (.start * 512), size: (.size * 512)}]')
    # The root's journal as mke2fs made it (has_journal from mke2fs.conf, -J size=).
    dumpe2fs -h "$work/root.ext4" 2> /dev/null | grep -q '^Filesystem features:.*has_journal' || {
        echo "build-appliances: $name: the root file system has no journal" >&2; exit 1; }
    journal_kib=$(dumpe2fs -h "$work/root.ext4" 2> /dev/null | sed -n 's/^Total journal size: *\([0-9]*\)k$/\1/p')
    [ -n "$journal_kib" ] || { echo "build-appliances: $name: no journal size from dumpe2fs" >&2; exit 1; }
    entries+=("$(jq -n \
        --argjson meta "$(cat "$work/boot/appliance.json")" \
        --arg file "$name.vhd.gz" \
        --argjson size "$(stat -c %s "$gz")" \
        --arg sha "$(sha256sum < "$gz" | cut -d' ' -f1)" \
        --argjson vhdsize "$(stat -c %s "$work/$name.vhd")" \
        --arg vhdsha "$(sha256sum < "$work/$name.vhd" | cut -d' ' -f1)" \
        --argjson virtual "$(stat -c %s "$work/disk.raw")" \
        --arg disksha "$(sha256sum < "$work/disk.raw" | cut -d' ' -f1)" \
        --argjson parts "$parts" \
        --arg rootfs "ext4 (journal $((journal_kib / 1024)) MiB)" \
        --argjson sources "$sources" \
        '$meta + {
            file: $file, size: $size, sha256: $sha,
            gunzipped: {format: "vhd (dynamic)", size: $vhdsize, sha256: $vhdsha},
            virtual_size: $virtual, disk_sha256: $disksha,
            partitions: [
              ($parts[0] + {number: 1, fs: "ext2", label: "boot", holds: "Image, appliance.json"}),
              ($parts[1] + {number: 2, fs: $rootfs, label: "root", linux: "/dev/vda2"})
            ],
            debian_sources: $sources
        }')")
done

# Field names: each entry starts with the appliance.json its boot partition holds
# (name ... cmdline, memoryMiB, tryFirst, kernel, as the boot sequence reads them);
# the rest follows appliances/boot/manifest.json (size, sha256, gunzipped, snake
# case), which is also what src/store/Catalog.ts looks for (file relative to
# appliances/, size, memoryMiB, virtual_size). One key per field: memoryMiB comes from
# appliance.json only.
printf '%s\n' "${entries[@]}" | jq -s -S \
    --arg kernel_sha "$kernel_sha" --argjson toolchain "$toolchain" '{
    schema: "romvisor-appliances/1",
    what: "Disk appliances: MBR-partitioned dynamic VHDs, gzip -9n. Partition 1 (ext2) holds the flat kernel Image and appliance.json; partition 2 is the root file system, ext4 with a journal that Linux replays at mount after a crash. file is relative to this manifest; size and sha256 are of the .vhd.gz, gunzipped of the .vhd, virtual_size and disk_sha256 of the raw disk the VHD holds. Partition start and size in bytes.",
    built_by: "appliances/build/build-appliances.sh (build-appliance.sh NAME each); checked by verify-appliances.sh",
    kernel: {file: "boot/Image.gz", sha256: $kernel_sha, provenance: "boot/manifest.json"},
    debian_packages: $toolchain,
    appliances: map({key: .name, value: .}) | from_entries
  }' > "$REPO/appliances/manifest.json"

echo "build-appliances: wrote appliances/manifest.json"
jq -r '.appliances[] | "  \(.name): appliances/\(.file) \(.size) bytes (VHD \(.gunzipped.size), disk \(.virtual_size))"' \
    "$REPO/appliances/manifest.json"
echo "build-appliances: tools $((t1 - t0)) s, images $((t2 - t1)) s"
