#!/bin/bash
# Boot appliances/boot/{Image.gz,initramfs.cpio.gz} on roms/opensbi/fw_dynamic.bin
# in QEMU (`-M virt`, the reference for the romvisor machine), drive the console
# like a user, and check what comes back:
#   prompt "~ # " -> uname -a -> cat /proc/cpuinfo -> fpcheck -> a background
#   job and ^C on a foreground one (job control) -> poweroff -f
# Runs three machines: 256 MiB with QEMU's default rv64 hart, and 64 MiB with a
# hart closer to romvisor's (no H, no Sstc, no Svpbmt, so the kernel has to use
# the SBI timer), both without network or share (init must skip them silently);
# then 64 MiB with what a romvisor machine may add: virtio-net on QEMU's user
# network (its DHCP server hands out 10.0.2.15, DNS 10.0.2.3 and, with hostname=,
# option 12) and a virtio-9p share with mount tag "host": the init's DHCP client
# sets the hostname and /etc/resolv.conf, /mnt/host reads and writes the host's
# directory; the goldfish RTC sets the clock.
# Prints the exact command lines and the time to the first prompt.
# Exit status: 0 all passed, 1 a check failed, 3 timeout.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
BIOS=$REPO/roms/opensbi/fw_dynamic.bin
INITRD=$REPO/appliances/boot/initramfs.cpio.gz
APPEND=${APPEND:-console=ttyS0 earlycon=sbi}
TIMEOUT=${TIMEOUT:-60}   # seconds per wait, generous for a loaded 2-core machine
PROMPT='~ # '

WORK=$(mktemp -d /tmp/romvisor-verify.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# QEMU 7.2 cannot load a gzipped RISC-V kernel itself; neither can OpenSBI.
zcat "$REPO/appliances/boot/Image.gz" > "$WORK/Image"
KERNEL=$WORK/Image

SHARE=$WORK/share
mkdir -p "$SHARE"
echo "written on the host $$" > "$SHARE/from-host.txt"
DEVICES=(-netdev user,id=n0,hostname=qemu-guest -device virtio-net-device,netdev=n0
         -fsdev "local,id=s0,path=$SHARE,security_model=none" -device virtio-9p-device,fsdev=s0,mount_tag=host)
# Typed on the machine with devices, after the common lines.
DEVICE_LINES=('hostname' 'cat /etc/resolv.conf' 'ip -4 addr show dev eth0' 'ip route'
              'cat /mnt/host/from-host.txt' 'echo "written in the guest" > /mnt/host/from-guest.txt'
              'date +%Y')
# Typed on the machines without: nothing attached, nothing configured.
BARE_LINES=('hostname' 'echo $(ls /sys/class/net)' 'mountpoint /mnt/host' 'ls -l /etc/resolv.conf')

run_machine() { # label, memory, cpu, with-devices (0/1)
    local label=$1 mem=$2 cpu=$3 devices=$4 status
    LOG=$WORK/$label.log
    local cmd=(qemu-system-riscv64 -M virt -cpu "$cpu" -m "$mem" -nographic
               -bios "$BIOS" -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND")
    local extra_lines=("${BARE_LINES[@]}")
    if [ "$devices" = 1 ]; then cmd+=("${DEVICES[@]}"); extra_lines=("${DEVICE_LINES[@]}"); fi
    echo "== $label: ${cmd[*]}"
    qemu_start "$WORK" "$LOG" "${cmd[@]}"
    local t0=$QEMU_T0

    status=0
    local n=1
    wait_count "$PROMPT" $n || status=$?
    local t_prompt=$(( $(now_ms) - t0 ))
    if [ $status = 0 ]; then
        for line in 'uname -a' 'cat /proc/cpuinfo' 'fpcheck; echo "fpcheck status $?"' \
                    'sleep 30 & jobs; kill %1' "${extra_lines[@]}"; do
            printf '%s\n' "$line" >&3
            n=$((n + 1))
            wait_count "$PROMPT" $n || { status=$?; break; }
        done
    fi
    if [ $status = 0 ]; then
        # ^C must reach the foreground job: the shell owns the console as its
        # controlling tty; otherwise the prompt only comes back after 30 s.
        printf 'sleep 30\n' >&3
        sleep 0.5
        printf '\003' >&3
        n=$((n + 1))
        local tc; tc=$(now_ms)
        wait_count "$PROMPT" $n || status=$?
        if [ $(( $(now_ms) - tc )) -lt 10000 ]; then echo "  ok    ^C stops the foreground job"
        else echo "  FAIL  ^C did not stop sleep 30"; FAILED_CTRLC=1; fi
    fi
    [ $status = 0 ] && printf 'poweroff -f\n' >&3
    # poweroff must end QEMU through the sifive,test device (via SBI SRST).
    if ! qemu_wait_exit; then
        echo "  FAIL  QEMU still running after poweroff -f"; [ $status = 0 ] && status=3
    fi
    local t_total=$(( $(now_ms) - t0 ))

    FAILED=${FAILED_CTRLC:-0}; FAILED_CTRLC=0
    check "OpenSBI started"            "OpenSBI v"
    check "kernel banner"              "Linux version 6.1"
    check "init banner"                "romvisor initramfs: Linux 6.1"
    check "uname -a"                   "riscv64 GNU/Linux"
    check "cpuinfo lists the hart"     "hart		: 0"
    check "fpcheck"                    "fpcheck: ok pi=3.14159265358979"
    check "fpcheck exit status"        "fpcheck status 0"
    check "job control (jobs)"         "Running"
    check "poweroff"                   "reboot: Power down"
    if grep -aqF "job control turned off" "$LOG"; then echo "  FAIL  shell has no controlling tty"; FAILED=1; fi
    if [ "$devices" = 1 ]; then
        check "DHCP lease on eth0"         "net: eth0 10.0.2.15, hostname qemu-guest, gateway 10.0.2.2"
        check_line "hostname from option 12" "qemu-guest"
        check "resolv.conf from the lease" "nameserver 10.0.2.3"
        check "eth0 address"               "inet 10.0.2.15/24"
        check "default route"              "default via 10.0.2.2 dev eth0"
        check "share read in the guest"    "written on the host $$"
        if [ "$(cat "$SHARE/from-guest.txt" 2>/dev/null)" = "written in the guest" ]; then
            echo "  ok    share written by the guest"; else echo "  FAIL  $SHARE/from-guest.txt not written"; FAILED=1; fi
        check_line "clock from the goldfish RTC" "$(date -u +%Y)"
    else
        check_line "default hostname"      "romvisor"
        check_line "no network interface but lo" "lo"
        check "no share mounted"           "/mnt/host is not a mountpoint"
        if grep -aqE '^(net|share): ' "$LOG"; then echo "  FAIL  init spoke of a device the machine lacks"; FAILED=1; fi
    fi
    [ $FAILED = 1 ] && [ $status = 0 ] && status=1
    echo "  time to first prompt: ${t_prompt} ms, start to QEMU exit: ${t_total} ms (wall)"
    if [ $status != 0 ] || [ -n "${VERBOSE:-}" ]; then
        echo "  --- console ($LOG) ---"; sed 's/^/  | /' "$LOG"
    else
        echo "  --- console after the first prompt ---"
        sed -n "/romvisor initramfs:/,\$p" "$LOG" | sed 's/^/  | /'
    fi
    return $status
}

overall=0
run_machine qemu-default-256M 256M rv64 0 || overall=$?
run_machine romvisor-like-64M 64M rv64,h=false,sstc=false,svpbmt=false 0 || { s=$?; [ $overall = 0 ] && overall=$s; }
run_machine net-9p-64M 64M rv64,h=false,sstc=false,svpbmt=false 1 || { s=$?; [ $overall = 0 ] && overall=$s; }
echo "verify-qemu: $([ $overall = 0 ] && echo PASS || echo "FAIL ($overall)")"
exit $overall
