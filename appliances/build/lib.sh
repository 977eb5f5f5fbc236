# lib.sh: shell functions the build and verify scripts share (sourced, not run).

# --- building ------------------------------------------------------------------

# busybox_tree DIR BBDIR: BBDIR's busybox in DIR/bin and a link for each of its applets.
# busybox.links lists each applet's install path (/bin/ls, /usr/sbin/httpd, ...).
busybox_tree() {
    local dir=$1 bb=$2 applet
    install -m 0755 "$bb/busybox" "$dir/bin/busybox"
    while IFS= read -r applet; do
        [ "$applet" = /bin/busybox ] && continue
        ln -sf /bin/busybox "$dir${applet}"
    done < "$bb/busybox.links"
}

# console_nodes DIR: /dev/console and /dev/null in the tree itself. The kernel opens
# /dev/console for init before anything is mounted (devtmpfs is only automounted on a
# real root), and a shell started before devtmpfs is mounted still finds them.
console_nodes() {
    mknod -m 0600 "$1/dev/console" c 5 1
    mknod -m 0666 "$1/dev/null" c 1 3
}

# pack_initramfs DIR OUT EPOCH: DIR as a reproducible initramfs: every mtime EPOCH,
# names sorted, owned by root, newc cpio, gzip -9n.
pack_initramfs() {
    local dir=$1 out=$2 epoch=$3
    mkdir -p "$(dirname "$out")"
    (cd "$dir" && find . -exec touch -h -d "@$epoch" {} + &&
        find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n > "$out"
}

# describe_gz FILE: JSON with the size and sha256 of FILE and of its gunzipped content.
describe_gz() {
    local file=$1
    jq -n --arg sha "$(sha256sum < "$file" | cut -d' ' -f1)" --argjson size "$(stat -c %s "$file")" \
          --arg rawsha "$(gzip -dc "$file" | sha256sum | cut -d' ' -f1)" \
          --argjson rawsize "$(gzip -dc "$file" | wc -c)" \
          '{sha256: $sha, size: $size, gunzipped: {sha256: $rawsha, size: $rawsize}}'
}

# --- verifying in QEMU -------------------------------------------------------------

now_ms() { date +%s%3N; }

# qemu_start WORKDIR LOG QEMU-COMMAND...: run QEMU with its stdio console on a fifo that
# fd 3 writes to, and its output in LOG. Sets QEMU_PID and QEMU_T0 (ms).
qemu_start() {
    local work=$1; LOG=$2; shift 2
    rm -f "$work/in"; mkfifo "$work/in"
    QEMU_T0=$(now_ms)
    "$@" < "$work/in" > "$LOG" 2>&1 &
    QEMU_PID=$!
    exec 3> "$work/in"
}

# wait_count TEXT N: wait until LOG holds at least N copies of TEXT (TIMEOUT seconds).
# Returns 1 if QEMU exited first, 3 on timeout.
wait_count() {
    local text=$1 want=$2 deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while [ "$(grep -aoF -- "$text" "$LOG" | wc -l)" -lt "$want" ]; do
        if ! kill -0 "$QEMU_PID" 2>/dev/null; then
            echo "verify: QEMU exited while waiting for \"$text\" #$want" >&2; return 1
        fi
        if [ "$(now_ms)" -gt "$deadline" ]; then
            echo "verify: timeout (${TIMEOUT}s) waiting for \"$text\" #$want" >&2; return 3
        fi
        sleep 0.02
    done
}

# qemu_wait_exit: QEMU must end by itself (poweroff) within TIMEOUT; else it is killed
# and this returns 1. Closes fd 3 afterwards.
qemu_wait_exit() {
    local deadline=$(( $(now_ms) + TIMEOUT * 1000 )) status=0
    while kill -0 "$QEMU_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.02; done
    if kill -0 "$QEMU_PID" 2>/dev/null; then kill "$QEMU_PID"; status=1; fi
    wait "$QEMU_PID" 2>/dev/null
    exec 3>&-
    return $status
}

# check NAME TEXT: TEXT must be somewhere in LOG. Prints ok/FAIL; a failure sets FAILED=1.
check() {
    if grep -aqF -- "$2" "$LOG"; then echo "  ok    $1"; else echo "  FAIL  $1: no \"$2\" on the console"; FAILED=1; fi
}
# check_line NAME LINE: LINE must be a whole console line (an output line of a typed command).
check_line() {
    if tr -d '\r' < "$LOG" | grep -aqxF -- "$2"; then echo "  ok    $1"; else echo "  FAIL  $1: no line \"$2\" on the console"; FAILED=1; fi
}
