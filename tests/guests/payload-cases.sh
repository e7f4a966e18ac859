# tests/guests/payload-cases.sh: the checks of the test payloads, shared by
# tests/test-payloads-qemu.sh and tests/test-payloads-launcher.sh, so that
# QEMU and our launcher are held to the same expectations. Sourced after
# tests/lib.sh (skip, fail, ok, finish, $TMP, $GUESTS).
#
# The sourcing script defines boot_payload, which boots one payload as the
# P_* variables describe, leaves the console output in $TMP/console and
# sets RESULT to one of:
#   ok              the guest powered off with 0
#   fail            the guest powered off with a non-zero value
#   reset           the guest asked for a CPU reset
#   triple-fault    the guest triple faulted
#   shutdown        reset or triple fault, when the VMM cannot tell which
#   internal-error  KVM internal error (emulation failure)
#   timeout         still running when the timeout hit
#   vmm-error:<rc>  anything else
# P_KERNEL P_CMDLINE P_INITRD P_DISK P_DISK_RO(0/1) P_SERIAL P_MEM(MiB)
# P_TIMEOUT(s).

PAYLOAD_MEM=64

# payload_case NAME WANT KERNEL CMDLINE [initrd=F] [disk=F] [ro=1]
#              [serial=S] [timeout=SEC] [+REGEX]... [-REGEX]...
# Boots KERNEL with CMDLINE, wants RESULT WANT, every +REGEX to match a line
# of the console output (grep -E) and no -REGEX to.
payload_case() {
        local name=$1 want=$2 arg re bad=0
        P_KERNEL=$3 P_CMDLINE=$4 P_INITRD= P_DISK= P_DISK_RO=0 P_SERIAL= P_TIMEOUT=60 P_MEM=$PAYLOAD_MEM
        shift 4
        local expect=() reject=()
        for arg in "$@"; do
                case $arg in
                initrd=*) P_INITRD=${arg#initrd=} ;;
                disk=*) P_DISK=${arg#disk=} ;;
                ro=*) P_DISK_RO=${arg#ro=} ;;
                serial=*) P_SERIAL=${arg#serial=} ;;
                timeout=*) P_TIMEOUT=${arg#timeout=} ;;
                mem=*) P_MEM=${arg#mem=} ;;
                +*) expect+=("${arg#+}") ;;
                -*) reject+=("${arg#-}") ;;
                *) echo "payload_case: bad argument '$arg'" >&2; exit 1 ;;
                esac
        done
        if [ ! -f "$P_KERNEL" ]; then
                fail "$name: $P_KERNEL is not built"
                return 1
        fi
        RESULT=
        boot_payload
        tr -d '\r' <"$TMP/console" >"$TMP/console.txt"
        if [ "$RESULT" != "$want" ]; then
                fail "$name: result $RESULT, wanted $want"
                bad=1
        fi
        for re in "${expect[@]}"; do
                grep -Eq -- "$re" "$TMP/console.txt" || { fail "$name: no line matches '$re'"; bad=1; }
        done
        for re in "${reject[@]}"; do
                grep -Eq -- "$re" "$TMP/console.txt" && { fail "$name: a line matches '$re'"; bad=1; }
        done
        if [ $bad = 0 ]; then
                ok "$name ($RESULT)"
                return 0
        fi
        echo "    --- output of $name (last 40 lines):" >&2
        tail -n 40 "$TMP/console.txt" | sed 's/^/    /' >&2
        return 1
}

# blk_word FILE SECTOR WORD: the 64-bit word the blk payload wrote there,
# as 16 hex digits, read from the disk file on the host.
blk_word() {
        od -An -v -tx8 -j $(($2 * 512 + $3 * 8)) -N 8 "$1" | tr -d ' \n'
}
# blk_pattern SECTOR WORD SEED: what blk.c's pattern() gives (bash
# arithmetic wraps around at 64 bits, as the guest's does).
blk_pattern() {
        printf '%016x' $(((($1 << 6 | $2) * 0xff51afd7ed558ccd) ^ $3))
}

# The cases both VMMs must pass. BZIMAGE_ENTRY is a regex for the line
# saying which entry the bzImage probe came in by.
payload_common_cases() {
        local g=$GUESTS fnv=$GUESTS/fnv1a
        if [ ! -x "$fnv" ]; then
                fail "$fnv is not built"
                return
        fi

        # hello
        payload_case "hello" ok "$g/hello.elf" "" '+^Hello from the guestd test guest$'

        # count
        payload_case "count, 3 lines" ok "$g/count.elf" "count.max=3 count.delay=1000" \
                '+^count 0$' '+^count 2$' '-^count 3$'
        # In the nested test VM this case once stalled the VM's CPU,
        # timers and all, printing flat out (not reproduced alone since):
        # there it prints a line every few milliseconds.
        local forever_delay=1000
        [ "${GUESTD_IN_VM:-0}" = 1 ] && forever_delay=1000000
        payload_case "count, forever" timeout "$g/count.elf" "count.delay=$forever_delay" timeout=3 \
                '+^count 0$' '+^count 5$'
        payload_case "count, then fail" fail "$g/count.elf" "count.max=2 count.delay=10 count.then=fail" \
                '+^count 1$' '+^PROBE FAIL: count.then=fail$'
        payload_case "count, bad option" fail "$g/count.elf" "count.max=x" '+^PROBE FAIL: bad value for count.max'

        # memtouch
        payload_case "memtouch, defaults" ok "$g/memtouch.elf" "" \
                '+^memtouch checksum 0x[0-9a-f]{16}$' '+^memtouch pass 2 \(verify\): .* 0 mismatches' '+^memtouch OK 16 MiB$'
        payload_case "memtouch, 40 MiB through 256 page tables, 3 passes" ok "$g/memtouch.elf" \
                "memtouch.mib=40 memtouch.virt-mib=512 memtouch.passes=3" \
                '+256 page tables' '+^memtouch pass 3 \(verify\)' '+^memtouch OK 40 MiB$'
        payload_case "memtouch, more than the guest has" fail "$g/memtouch.elf" "memtouch.mib=100" \
                '+^PROBE FAIL: memtouch: 100 MiB wanted'

        # blk: write, then verify-only in a second boot, then read-only
        local disk=$TMP/disk.img seed=0x5eed
        rm -f "$disk"
        truncate -s 4M "$disk"
        payload_case "blk, no disk" fail "$g/blk.elf" "" '+^PROBE FAIL: blk: no modern virtio-mmio block device'
        payload_case "blk, verify-only on an empty disk" fail "$g/blk.elf" "blk.verify-only=1" disk="$disk" \
                '+^PROBE FAIL: blk: data differs: sector 0 '
        payload_case "blk, write 300 sectors" ok "$g/blk.elf" "blk.sectors=300 blk.seed=$seed" disk="$disk" serial=guestd-disk0 \
                '+^blk id: ' '+^blk: capacity 8192 sectors' '+^blk: (flush OK|FLUSH not offered)' \
                '+^blk: read back 300 sectors, all match$' '+^blk OK$'
        local s w bad=0
        for s in 0 1 299; do
                for w in 0 63; do
                        [ "$(blk_word "$disk" $s $w)" = "$(blk_pattern $s $w $seed)" ] || bad=1
                done
        done
        [ "$(blk_word "$disk" 300 0)" = 0000000000000000 ] || bad=1
        if [ $bad = 0 ]; then ok "blk, the pattern is in the disk file"; else fail "blk, the pattern is not in the disk file"; fi
        payload_case "blk, verify-only in a second boot" ok "$g/blk.elf" "blk.verify-only=1 blk.sectors=300 blk.seed=$seed" disk="$disk" \
                '+^blk: verify-only' '+^blk OK$' '-^blk: writing'
        payload_case "blk, verify-only beyond what was written" fail "$g/blk.elf" "blk.verify-only=1 blk.sectors=301 blk.seed=$seed" \
                disk="$disk" '+^PROBE FAIL: blk: data differs: sector 300 '
        payload_case "blk, read-only disk" ok "$g/blk.elf" "blk.sectors=300 blk.verify-only=1 blk.seed=$seed" disk="$disk" ro=1 \
                '+^blk: the device is read-only' '+^blk: a write was refused with VIRTIO_BLK_S_IOERR$' \
                '+pattern verified' '+^blk OK \(read-only\)$'
        payload_case "blk, sectors capped at the capacity" ok "$g/blk.elf" "blk.sectors=100000 blk.seed=$seed" disk="$disk" \
                '+capped at the capacity' '+^blk: read back 8192 sectors, all match$' '+^blk OK$'

        # pvh-probe and bzimage-probe: the same checks through both protocols
        local initrd=$TMP/initrd.bin size sum
        head -c 200003 /dev/urandom >"$initrd"
        size=$(stat -c %s "$initrd")
        sum=$("$fnv" "$initrd")
        local probe_opts="probe.mem=$PAYLOAD_MEM probe.modules=1 probe.initrd-size=$size probe.initrd-sum=$sum"
        local k
        for k in pvh-probe.elf bzimage-probe.bzImage; do
                local entry='.'
                [ $k = bzimage-probe.bzImage ] && entry=$BZIMAGE_ENTRY
                payload_case "$k, with initrd" ok "$g/$k" "guestd.test=yes $probe_opts probe.expect-cmdline-token=guestd.test=yes" \
                        initrd="$initrd" "+$entry" '+^cmdline: .*guestd.test=yes' "+^module\[0\]: paddr 0x[0-9a-f]+ size $size fnv1a $sum$" \
                        '+^memmap\[[0-9]+\]: 0x0000000000000000-' '+^check ok: RAM at 1 MiB covers the image' \
                        '+^PROBE OK$' '-^check FAILED'
                payload_case "$k, wrong initrd checksum" fail "$g/$k" "probe.initrd-sum=00000000" initrd="$initrd" \
                        '+^check FAILED: initrd fnv1a' '+^PROBE FAIL: initrd fnv1a'
                payload_case "$k, missing command line token" fail "$g/$k" "probe.expect-cmdline-token=absent" \
                        '+^PROBE FAIL: command line has the token "absent"'
                payload_case "$k, no initrd" ok "$g/$k" "probe.modules=0 probe.mem=$PAYLOAD_MEM" '+^modules: 0$' '+^PROBE OK$'
        done
        payload_case "bzimage-probe.bzImage, loader fields" ok "$g/bzimage-probe.bzImage" "" \
                '+^check ok: hdr.type_of_loader is set' '+^check ok: hdr.header is "HdrS"' '+^check ok: e820_entries' '+^PROBE OK$'
}
