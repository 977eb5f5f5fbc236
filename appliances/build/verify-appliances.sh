#!/bin/bash
# verify-appliances.sh [NAME...]: boot each disk appliance (default: every
# appliances/*.vhd.gz) in QEMU and check it like a user would.
#
# Per appliance, on a fresh gunzipped copy of appliances/NAME.vhd.gz:
#   0. read partition 1 from the VHD (qemu-img + debugfs): appliance.json is
#      valid and names Image, Image is the kernel of appliances/boot/Image.gz;
#      the command line comes from there, as the romvisor boot sequence takes it.
#   1. boot 1 (256 MiB, QEMU's default rv64 hart): prompt, the application's
#      checks, a file written to /root and synced, ^C stops a foreground job,
#      `poweroff` (busybox init runs rcK, which remounts / read-only).
#      No network or share is attached: rcS must configure and print nothing for them.
#   2. boot 2 (the appliance's memoryMiB, a hart like romvisor's: no H, Sstc,
#      Svpbmt) with what a romvisor machine may add: virtio-net on QEMU's user network
#      (DHCP with hostname= and domainname=) and a virtio-9p share tagged "host": the
#      file from boot 1 reads back; the lease set the hostname and resolv.conf; a host
#      file reads in /mnt/host and a guest file lands in the host directory; sqlite:
#      curl on the host fetches its CGI page through hostfwd; poweroff.
#   3. e2fsck -fn on partition 2 as the VHD holds it after the poweroff: clean.
# QEMU cannot read the kernel from the VHD, so it gets appliances/boot/Image.gz
# gunzipped (the same bytes as the VHD's /Image, checked in step 0).
# Prints the QEMU command lines, each check, wall-clock time to the first
# prompt, the guest's own uptime there, and a summary. ICOUNT=1 runs QEMU with
# `-icount shift=0` (one instruction = 1 ns of guest time, so the uptime at the
# prompt counts instructions, a figure for an interpreter; wall time then
# grows). Exit status: 0 all passed, 1 a check failed.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIOS=$REPO/roms/opensbi/fw_dynamic.bin
TIMEOUT=${TIMEOUT:-90}   # seconds per wait, generous for a loaded 2-core machine
PROMPT='~ # '

WORK=$(mktemp -d /tmp/romvisor-appliances.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
zcat "$REPO/appliances/boot/Image.gz" > "$WORK/Image"
KERNEL=$WORK/Image

if [ $# -gt 0 ]; then names=("$@")
else names=(); for f in "$REPO"/appliances/*.vhd.gz; do n=${f##*/}; names+=("${n%.vhd.gz}"); done; fi

now_ms() { date +%s%3N; }
FAILED=0
pass() { echo "  ok    $1"; }
fail() { echo "  FAIL  $1"; FAILED=1; }

# The console log must contain at least $2 copies of $1.
wait_count() {
    local text=$1 want=$2 deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while [ "$(grep -aoF -- "$text" "$LOG" | wc -l)" -lt "$want" ]; do
        kill -0 "$QEMU_PID" 2>/dev/null || { fail "QEMU exited while waiting for \"$text\" #$want"; return 1; }
        [ "$(now_ms)" -lt "$deadline" ] || { fail "timeout (${TIMEOUT}s) waiting for \"$text\" #$want"; return 1; }
        sleep 0.02
    done
}
expect() { # what, fixed string the console must show
    if grep -aqF -- "$2" "$LOG"; then pass "$1"; else fail "$1: no \"$2\" on the console"; fi
}

# boot LABEL MEMORY CPU: start QEMU on $VHD with the console on fd 3 -> $LOG,
# and wait for the first prompt. Sets QEMU_PID, PROMPTS, T_PROMPT.
boot() {
    local label=$1 mem=$2 cpu=$3
    LOG=$WORK/$NAME-$label.log
    local icount=(); [ "${ICOUNT:-0}" = 1 ] && icount=(-icount shift=0)
    local cmd=(qemu-system-riscv64 -M virt -cpu "$cpu" -m "$mem" "${icount[@]}" -nographic -bios "$BIOS"
               -kernel "$KERNEL" -append "$CMDLINE"
               -drive "file=$VHD,format=vpc,if=none,id=d0" -device virtio-blk-device,drive=d0
               "${DEVICE_ARGS[@]}")
    echo "  -- $label: $(printf '%q ' "${cmd[@]}")"
    rm -f "$WORK/in"; mkfifo "$WORK/in"
    local t0; t0=$(now_ms)
    "${cmd[@]}" < "$WORK/in" > "$LOG" 2>&1 &
    QEMU_PID=$!
    exec 3> "$WORK/in"
    PROMPTS=1
    wait_count "$PROMPT" 1 || return 1
    T_PROMPT=$(( $(now_ms) - t0 ))
    type_line 'cat /proc/uptime' || return 1
    UPTIME=$(tr -d '\r' < "$LOG" | sed -n '/cat \/proc\/uptime/{n;s/ .*//p;q}')
    echo "        first prompt after ${T_PROMPT} ms (wall); guest uptime there ${UPTIME} s"
}
# type LINE: send one command line and wait for the next prompt.
type_line() {
    printf '%s\n' "$1" >&3
    PROMPTS=$((PROMPTS + 1))
    wait_count "$PROMPT" "$PROMPTS"
}
# power_off: `poweroff` through busybox init; QEMU must exit by itself.
power_off() {
    printf 'poweroff\n' >&3
    local deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while kill -0 "$QEMU_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID"; fail "QEMU still running ${TIMEOUT}s after poweroff"
    fi
    wait "$QEMU_PID" 2>/dev/null
    # Closed only now: an EOF on the console earlier ends the shell, and init
    # would start another one in the middle of the shutdown.
    exec 3>&-
    expect "rcK left / read-only" "rcK: root file system is read-only and clean"
    expect "poweroff reaches SBI" "reboot: Power down"
}
abandon() { exec 3>&- 2>/dev/null; kill "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null; }
show_log() { echo "  --- console ($LOG) ---"; sed 's/^/  | /' "$LOG"; }

# The application's own checks in boot 1: lines to type, strings to expect.
app_checks() {
    case "$NAME" in
    base)
        type_line 'pagefault-demo' || return 1
        expect "pagefault-demo maps and touches a page" "pagefault-demo: wrote page[0] = 42; minor page faults"
        type_line 'fpcheck' || return 1
        expect "fpcheck" "fpcheck: ok pi=3.14159265358979" ;;
    sqlite)
        type_line 'sqlite3 /root/sample.db "select name, moons from planets where moons > 20 order by moons desc"' || return 1
        expect "sqlite3 query prints rows" "Saturn|146"
        expect "sqlite3 query prints every row" "Uranus|27"
        type_line 'sqlite3 /root/sample.db "create table notes(t); insert into notes values (42); select sum(t) * 2 from notes"' || return 1
        expect "sqlite3 writes to the database" "84"
        # The web page init started: its CGI runs a query (lo only, no network card here).
        type_line 'wget -qO- "http://127.0.0.1/cgi-bin/planets?moons=100"' || return 1
        expect "httpd started by init" "httpd: serving /www on port 80"
        expect "the CGI page shows its query result" "query result: 1 planets"
        expect "the CGI page's table" "<TD>Saturn</TD>" ;;
    lua)
        type_line 'lua /root/hello.lua' || return 1
        expect "lua runs hello.lua" "Hello from Lua 5.4 on RISC-V!"
        expect "lua computes" "primes below 50: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47"
        type_line 'lua -e "print(string.format(\"%.6f\", math.sqrt(2)), 7 // 2, 2^10)"' || return 1
        expect "lua -e arithmetic" "1.414214	3	1024.0" ;;
    esac
}

declare -A SUMMARY
for NAME in "${names[@]}"; do
    echo "== $NAME"
    FAILED=0
    GZ=$REPO/appliances/$NAME.vhd.gz
    [ -f "$GZ" ] || { fail "$GZ missing"; SUMMARY[$NAME]="FAIL (missing)"; continue; }
    VHD=$WORK/$NAME.vhd
    gzip -dc "$GZ" > "$VHD"
    MARK="verify-$NAME-$(now_ms)"

    # 0. What the boot sequence reads from partition 1.
    RAW=$WORK/$NAME.raw
    qemu-img convert -f vpc -O raw "$VHD" "$RAW"
    read -r p1_start p1_size p2_start p2_size < <(sfdisk --json "$RAW" |
        jq -r '[.partitiontable.partitions[0,1] | .start, .size] | @tsv')
    dd if="$RAW" of="$WORK/p1" bs=512 skip="$p1_start" count="$p1_size" status=none
    debugfs -R 'cat /appliance.json' "$WORK/p1" 2>/dev/null > "$WORK/appliance.json"
    if jq -e '.name and .cmdline and .memoryMiB and (.tryFirst | length > 0) and .kernel == "Image"' \
            "$WORK/appliance.json" > /dev/null 2>&1; then
        pass "partition 1 holds appliance.json ($(jq -c '{name, memoryMiB, cmdline}' "$WORK/appliance.json"))"
    else
        fail "partition 1: appliance.json missing or incomplete"; SUMMARY[$NAME]=FAIL; continue
    fi
    if [ "$(debugfs -R 'cat /Image' "$WORK/p1" 2>/dev/null | sha256sum)" = "$(sha256sum < "$KERNEL")" ]; then
        pass "partition 1 /Image is appliances/boot/Image.gz gunzipped"
    else
        fail "partition 1 /Image differs from appliances/boot/Image.gz"
    fi
    rm -f "$RAW" "$WORK/p1"
    CMDLINE=$(jq -r .cmdline "$WORK/appliance.json")
    # romvisor gives the guest a virtio console (console=hvc0, with the terminal's size;
    # the SBI boot console kept for the last words after the virtio console is reset at
    # poweroff); here QEMU's stdio is the serial port, so the same image boots on ttyS0.
    CMDLINE=${CMDLINE/console=hvc0/console=ttyS0}; CMDLINE=${CMDLINE/ keep_bootcon/}
    MEM=$(jq -r .memoryMiB "$WORK/appliance.json")M

    # 1. First boot: the application, a file written, ^C, poweroff.
    t1=-; t2=-; u1=-; u2=-
    DEVICE_ARGS=()
    if boot boot1-256M 256M rv64; then
        t1=$T_PROMPT; u1=$UPTIME
        if grep -aqE '^(net|share): ' "$LOG"; then fail "rcS spoke of a network or share the machine lacks"
        else pass "no network or share attached: rcS printed nothing for them"; fi
        expect "banner names the appliance" "appliance $NAME "
        expect "banner says what to try" "try: "
        if app_checks && type_line "echo $MARK > /root/verify.txt; sync; cat /root/verify.txt"; then
            printf 'sleep 30\n' >&3; sleep 0.5; printf '\003' >&3
            PROMPTS=$((PROMPTS + 1)); tc=$(now_ms)
            if wait_count "$PROMPT" "$PROMPTS" && [ $(( $(now_ms) - tc )) -lt 10000 ]; then
                pass "^C stops a foreground job"
            else fail "^C did not stop sleep 30"; fi
            if grep -aqF "job control turned off" "$LOG"; then fail "shell has no controlling tty"; fi
            power_off
        else abandon; fi
    else abandon; fi
    [ $FAILED = 1 ] && show_log

    # 2. Second boot on the same disk, with a network and a share: the file is still there.
    if [ $FAILED = 0 ]; then
        SHARE=$WORK/share-$NAME
        mkdir -p "$SHARE"
        echo "host file for $MARK" > "$SHARE/from-host.txt"
        # The sqlite appliance's web page, reached from the host through QEMU's hostfwd.
        FWD=; [ "$NAME" = sqlite ] && { HTTP_PORT=$(( 20000 + RANDOM % 20000 )); FWD=",hostfwd=tcp:127.0.0.1:$HTTP_PORT-:80"; }
        DEVICE_ARGS=(-netdev "user,id=n0,hostname=$NAME-qemu,domainname=romvisor$FWD" -device virtio-net-device,netdev=n0
                     -fsdev "local,id=s0,path=$SHARE,security_model=none" -device virtio-9p-device,fsdev=s0,mount_tag=host)
        if boot "boot2-$MEM-romvisor-like-net-9p" "$MEM" rv64,h=false,sstc=false,svpbmt=false; then
            t2=$T_PROMPT; u2=$UPTIME
            if type_line 'cat /root/verify.txt' &&
               type_line 'hostname; cat /etc/resolv.conf; cat /mnt/host/from-host.txt; echo "guest file for $(hostname)" > /mnt/host/from-guest.txt'; then
                expect "the file written in boot 1 reads back" "$MARK"
                expect "DHCP lease on eth0 at boot" "net: eth0 10.0.2.15, hostname $NAME-qemu, gateway 10.0.2.2"
                if tr -d '\r' < "$LOG" | grep -aqxF -- "$NAME-qemu"; then pass "hostname from DHCP option 12"
                else fail "hostname from DHCP option 12: no line \"$NAME-qemu\""; fi
                expect "resolv.conf: domain from option 15" "search romvisor"
                expect "resolv.conf: DNS server from option 6" "nameserver 10.0.2.3"
                expect "a host file reads in /mnt/host" "host file for $MARK"
                if [ -n "$FWD" ]; then
                    if curl -sf --max-time 30 "http://127.0.0.1:$HTTP_PORT/cgi-bin/planets?moons=10" | grep -qF "query result: 4 planets"; then
                        pass "curl on the host fetches the CGI page through hostfwd"
                    else fail "curl http://127.0.0.1:$HTTP_PORT/cgi-bin/planets?moons=10: no query result"; fi
                fi
                power_off
                if [ "$(cat "$SHARE/from-guest.txt" 2>/dev/null)" = "guest file for $NAME-qemu" ]; then
                    pass "a guest file lands in the shared host directory"
                else fail "the guest's /mnt/host/from-guest.txt is not in $SHARE"; fi
            else abandon; fi
        else abandon; fi
        [ $FAILED = 1 ] && show_log
    fi

    # 3. The root file system as the disk holds it after the last poweroff.
    qemu-img convert -f vpc -O raw "$VHD" "$RAW"
    dd if="$RAW" of="$WORK/p2" bs=512 skip="$p2_start" count="$p2_size" status=none
    if e2fsck -fn "$WORK/p2" > "$WORK/e2fsck.log" 2>&1; then
        pass "e2fsck -fn on partition 2: clean ($(tail -n 1 "$WORK/e2fsck.log"))"
    else
        fail "e2fsck -fn on partition 2:"; sed 's/^/        /' "$WORK/e2fsck.log"
    fi
    dumpe2fs -h "$WORK/p2" 2>/dev/null | grep -q '^Filesystem state: *clean$' &&
        pass "superblock state: clean" || fail "superblock state: $(dumpe2fs -h "$WORK/p2" 2>/dev/null | sed -n 's/^Filesystem state: *//p')"
    rm -f "$RAW" "$WORK/p2" "$VHD"

    SUMMARY[$NAME]="$([ $FAILED = 0 ] && echo PASS || echo FAIL)  prompt after ${t1} / ${t2} ms wall, guest uptime ${u1} / ${u2} s (256M / $MEM romvisor-like)"
done

echo "== summary (first prompt: wall-clock ms from QEMU start; guest /proc/uptime there)"
overall=0
for NAME in "${names[@]}"; do
    printf '  %-8s %s\n' "$NAME" "${SUMMARY[$NAME]}"
    case "${SUMMARY[$NAME]}" in PASS*) ;; *) overall=1 ;; esac
done
echo "verify-appliances: $([ $overall = 0 ] && echo PASS || echo FAIL)"
exit $overall
