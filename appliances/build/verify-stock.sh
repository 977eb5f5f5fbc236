#!/bin/bash
# verify-stock.sh: boot the stock kernel and initramfs (appliances/stock/, from
# build-stock.sh) in QEMU like the benchmark does, on Debian's OpenSBI
# (roms/opensbi/fw_dynamic.bin) with one hart, then with two (the kernel is SMP):
#   the init line "stock initramfs: 6.1..." -> prompt "~ # " -> uname -a ->
#   cat /proc/uptime -> poweroff -f (QEMU must exit by itself).
# Prints the command lines, time to the prompt (wall) and the guest's uptime there.
# ICOUNT=1 adds `-icount shift=0` (guest time counts instructions) and boots one hart
# only: QEMU 7.2 with -icount and -smp 2 did not reach the prompt within 60 s.
# Exit status: 0 all passed, 1 a check failed, 3 timeout.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BIOS=$REPO/roms/opensbi/fw_dynamic.bin
STOCK=$REPO/appliances/stock
TIMEOUT=${TIMEOUT:-90}
PROMPT='~ # '

WORK=$(mktemp -d /tmp/romvisor-stock.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
zcat "$STOCK/Image.gz" > "$WORK/Image"

run_machine() { # label, harts
    local label=$1 smp=$2 status=0
    LOG=$WORK/$label.log
    local icount=(); [ "${ICOUNT:-0}" = 1 ] && icount=(-icount shift=0)
    local cmd=(qemu-system-riscv64 -M virt -smp "$smp" -m 256M "${icount[@]}" -nographic -bios "$BIOS"
               -kernel "$WORK/Image" -initrd "$STOCK/initramfs.cpio.gz" -append console=ttyS0)
    echo "== $label: ${cmd[*]}"
    qemu_start "$WORK" "$LOG" "${cmd[@]}"
    FAILED=0
    wait_count "$PROMPT" 1 || status=$?
    local t_prompt=$(( $(now_ms) - QEMU_T0 ))
    if [ $status = 0 ]; then
        printf 'uname -a\n' >&3; wait_count "$PROMPT" 2 || status=$?
    fi
    if [ $status = 0 ]; then
        printf 'cat /proc/uptime; grep -c ^processor /proc/cpuinfo\n' >&3; wait_count "$PROMPT" 3 || status=$?
    fi
    [ $status = 0 ] && printf 'poweroff -f\n' >&3
    qemu_wait_exit || { echo "  FAIL  QEMU still running after poweroff -f"; FAILED=1; }
    check "kernel banner"     "Linux version 6.1"
    check "init line"         "stock initramfs: 6.1"
    check "uname -a"          "riscv64 GNU/Linux"
    check_line "harts online" "$smp"
    check "poweroff"          "reboot: Power down"
    local uptime; uptime=$(tr -d '\r' < "$LOG" | sed -n '/cat \/proc\/uptime/{n;s/ .*//p;q}')
    echo "  first prompt after ${t_prompt} ms (wall); guest uptime there ${uptime:-?} s"
    [ $FAILED = 1 ] && [ $status = 0 ] && status=1
    if [ $status != 0 ] || [ -n "${VERBOSE:-}" ]; then echo "  --- console ---"; sed 's/^/  | /' "$LOG"; fi
    return $status
}

overall=0
run_machine stock-1-hart 1 || overall=$?
if [ "${ICOUNT:-0}" != 1 ]; then
    run_machine stock-2-harts 2 || { s=$?; [ $overall = 0 ] && overall=$s; }
fi
echo "verify-stock: $([ $overall = 0 ] && echo PASS || echo "FAIL ($overall)")"
exit $overall
