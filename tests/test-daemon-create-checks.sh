# CreateGuest checks what create can know (issue 22). The guest's files
# are opened as the caller, by the same opener as Start's
# (daemon/open-as-caller.c), before anything is written: a kernel that
# does not exist, one only root may read, a disk the caller may read but
# not write, a FIFO or a device fail the create with a named error naming
# the file, and tell the caller nothing about a file they cannot open
# beyond that. A guest whose memory or vCPUs alone exceed the caller's
# per-user maxima is QuotaExceeded, naming the limit and the value. A disk
# whose first sector is an image format's magic (qcow2, VMDK, VDI, VHD,
# VHDX, QED, Parallels: made with qemu-img where it is installed) is
# refused saying how to convert it; a raw one, the converted file
# included, is accepted. Start checks a disk again (it may have been
# replaced since). A kernel on a mount that never answers fails the create
# with Timeout while others are answered, and a user's opens under way are
# bounded. After every refusal nothing is left behind.
# No guest runs here: no KVM is needed (a Start on a host without it gets
# as far as its files, then KvmUnavailable).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon_without_kvm
daemon_setup
OPEN_TIMEOUT=3
write_policy '{"defaults": {"max_guests": 8, "max_running": 2, "max_vcpus": 2, "max_memory_mib": 256}, "timeouts": {"open_files": '$OPEN_TIMEOUT'}}'
daemon_start

K=$G/hello.elf
# refused WANT_EXIT NAME PATTERN CMD...: the call fails with WANT_EXIT, its
# message matches PATTERN (grep -F), and no guest of that name exists.
refused() {
        local want=$1 name=$2 pattern=$3; shift 3
        expect_exit "$want" "$name" "$@" || return 1
        echo "    $(head -c 400 "$TMP/err")"
        expect_grep "$TMP/err" "$pattern" "$name: the message says '$pattern'"
}
# guests_of WHO: the names of WHO's guests, sorted, on one line.
guests_of() { "ctl_$1" list --json | json '" ".join(sorted(g["name"] for g in d))'; }
records() { ls "$DTMP/state/guests" | sort | tr '\n' ' '; }

# --- files that are not there or not the caller's
refused 8 "a kernel that does not exist" "The kernel $G/does-not-exist.elf does not exist." \
        "${CTL_A[@]}" create missing --kernel "$G/does-not-exist.elf" --memory 16
install -m 0600 "$K" "$G/root-only.elf"
refused 4 "a kernel only root may read" "You may not read the kernel $G/root-only.elf (Permission denied)" \
        "${CTL_A[@]}" create rootkernel --kernel "$G/root-only.elf" --memory 16
install -m 0644 /dev/null "$G/read-only.img" && truncate -s 1M "$G/read-only.img"
refused 4 "a disk A may read but not write" "You may not read and write the disk $G/read-only.img" \
        "${CTL_A[@]}" create rodisk --kernel "$K" --memory 16 --disk "$G/read-only.img"
refused 4 "an initrd only root may read" "You may not read the initrd $G/root-only.elf" \
        "${CTL_A[@]}" create rootinitrd --kernel "$K" --initrd "$G/root-only.elf" --memory 16
ln -s "$G/root-only.elf" "$G/link-to-root-only.elf"
refused 4 "a symbolic link to root's kernel (followed as A)" "You may not read the kernel $G/link-to-root-only.elf" \
        "${CTL_A[@]}" create rootlink --kernel "$G/link-to-root-only.elf" --memory 16

# What A learns about files A cannot reach is what A could learn by
# trying: in a directory only root may enter, a file that exists and one
# that does not give the same sentence; a root-only qcow2 disk is "may not
# read", never "a qcow2 image".
mkdir -m 0700 "$G/secret"
install -m 0644 "$K" "$G/secret/there.elf"
expect_exit 4 "a kernel in root's directory that exists" "${CTL_A[@]}" create hidden1 --kernel "$G/secret/there.elf" --memory 16
sed "s|there.elf|NAME|" "$TMP/err" >"$TMP/err-there"
expect_exit 4 "a kernel in root's directory that does not exist" "${CTL_A[@]}" create hidden2 --kernel "$G/secret/nothere.elf" --memory 16
sed "s|nothere.elf|NAME|" "$TMP/err" >"$TMP/err-nothere"
check "the two sentences are the same but for the name" cmp -s "$TMP/err-there" "$TMP/err-nothere"
echo "    $(cat "$TMP/err-there")"

# --- what is not a file: the opener's rules, at create
mkfifo -m 0666 "$G/fifo"
refused 8 "a FIFO as the disk (never opened for long, never read)" "The disk $G/fifo is not a regular file or block device." \
        timeout 10 "${CTL_A[@]}" create fifodisk --kernel "$K" --memory 16 --disk "$G/fifo"
refused 8 "a device (/dev/null) as the disk" "The disk /dev/null is not a regular file or block device." \
        "${CTL_A[@]}" create devdisk --kernel "$K" --memory 16 --disk /dev/null
refused 8 "a directory as the kernel" "The kernel $G is not a regular file." \
        "${CTL_A[@]}" create dirkernel --kernel "$G" --memory 16

# --- sizes: a guest that alone could never start under A's policy
refused 5 "memory over A's max_memory_mib" \
        "'big' would need 512 MiB of memory to run, more than your 256 (max_memory_mib) for all your running guests together: it could never start." \
        "${CTL_A[@]}" create big --kernel "$K" --memory 512
refused 5 "vCPUs over A's max_vcpus" "'wide' would need 3 vCPUs to run, more than your 2 (max_vcpus)" \
        "${CTL_A[@]}" create wide --kernel "$K" --memory 16 --vcpus 3
refused 8 "memory over the absolute limit (1 TiB) is InvalidArgument, as before" "1048576" \
        "${CTL_A[@]}" create huge --kernel "$K" --memory 2097152
expect_exit 0 "memory at A's maximum is fine" "${CTL_A[@]}" create atmax --kernel "$K" --memory 256 --vcpus 2

# --- disk formats, told from the contents
truncate -s 1M "$G/raw.img" && chown "$USER_A" "$G/raw.img"
expect_exit 0 "a raw disk is accepted" "${CTL_A[@]}" create rawdisk --kernel "$K" --memory 16 --disk "$G/raw.img"
if command -v qemu-img >/dev/null; then
        qemu-img create -q -f qcow2 "$G/web.qcow2" 1G || fail "qemu-img create -f qcow2"
else
        # qcow2's header by hand (QEMU's docs/interop/qcow2.txt): magic,
        # version 3, no backing file, 64 KiB clusters, 1 GiB.
        "$PY" -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack(">4sIQIIQ", b"QFI\xfb", 3, 0, 0, 16, 1 << 30) + bytes(488))' \
                "$G/web.qcow2"
        echo "    (qemu-img is not installed: a qcow2 header written by hand)"
fi
chown "$USER_A" "$G/web.qcow2"
refused 8 "a qcow2 disk" "The disk $G/web.qcow2 is a qcow2 image" \
        "${CTL_A[@]}" create qcow --kernel "$K" --memory 16 --disk "$G/web.qcow2"
expect_grep "$TMP/err" "qemu-img convert -O raw $G/web.qcow2 $G/web.qcow2.raw" "the message says how to convert it"
refused 8 "a qcow2 disk read-only too" "is a qcow2 image" \
        "${CTL_A[@]}" create qcowro --kernel "$K" --memory 16 --disk "$G/web.qcow2,ro"
install -m 0600 "$G/web.qcow2" "$G/root-only.qcow2"
refused 4 "a qcow2 disk only root may read: A learns no format" "You may not read and write the disk $G/root-only.qcow2" \
        "${CTL_A[@]}" create rootqcow --kernel "$K" --memory 16 --disk "$G/root-only.qcow2"
check "the message does not say qcow2" bash -c '! grep -q qcow2.image "$1"' - "$TMP/err"
if command -v qemu-img >/dev/null; then
        for f in "vmdk:VMDK" "vdi:VDI (VirtualBox)" "vpc:VHD (dynamic)" "vhdx:VHDX" "qed:QED" "parallels:Parallels" "qcow:qcow (version 1)"; do
                fmt=${f%%:*} shown=${f#*:}
                qemu-img create -q -f "$fmt" "$G/disk.$fmt" 64M >/dev/null 2>&1 || { echo "    (qemu-img cannot make $fmt here)"; continue; }
                chown "$USER_A" "$G/disk.$fmt"
                refused 8 "a $fmt disk" "The disk $G/disk.$fmt is a $shown image" \
                        "${CTL_A[@]}" create "d-$fmt" --kernel "$K" --memory 16 --disk "$G/disk.$fmt"
        done
        # As the message says: converted, the same disk is accepted.
        qemu-img convert -O raw "$G/web.qcow2" "$G/web.qcow2.raw" && chown "$USER_A" "$G/web.qcow2.raw" || fail "qemu-img convert"
        expect_exit 0 "the converted disk is accepted" "${CTL_A[@]}" create converted --kernel "$K" --memory 16 --disk "$G/web.qcow2.raw"
        check "it is the 1 GiB disk the qcow2 held" [ "$(stat -c %s "$G/web.qcow2.raw")" = 1073741824 ]
fi

# Start checks the disk again: replaced by a qcow2 since the create, it is
# refused before anything else (KVM included), and the guest stays defined.
cp "$G/raw.img" "$G/raw.img.saved"
cp "$G/web.qcow2" "$G/raw.img"
refused 8 "Start of rawdisk, its disk now a qcow2" "The disk $G/raw.img is a qcow2 image" "${CTL_A[@]}" start rawdisk
check "rawdisk is still defined" [ "$(guest_state a rawdisk)" = defined ]
cp "$G/raw.img.saved" "$G/raw.img"

# --- whose rights: the caller's, not the owner's. Root creates for A with
# a kernel only root may read (root named it); A could not.
expect_exit 0 "root creates a guest for A from root's kernel" "${CTL_ROOT[@]}" create "$UID_A/byroot" --kernel "$G/root-only.elf" --memory 16
check "its record says root's rights open its files" grep -q '"files_uid": *0' "$DTMP/state/guests/${UID_A}_byroot.json"

# --- nothing left behind by any refusal
want="atmax byroot rawdisk"
command -v qemu-img >/dev/null && want="atmax byroot converted rawdisk"
check "A's guests are exactly those accepted ($want)" [ "$(guests_of a)" = "$want" ]
check "one record for each" [ "$(records | wc -w)" = "$(echo $want | wc -w)" ]
check "no launcher ran" [ -z "$(launcher_pids)" ]

# --- a kernel on a mount that never answers: the create waits in the
# event loop and fails with Timeout; B is answered meanwhile; one user's
# opens under way are bounded.
FUSE_HANG=$(abspath "$B/tests/fuse-hang")
[ -c /dev/fuse ] || modprobe fuse 2>/dev/null
if [ -x "$FUSE_HANG" ] && [ -c /dev/fuse ]; then
        HANG=$DTMP/hang
        mkdir -m 755 "$HANG"
        "$FUSE_HANG" "$HANG" >"$TMP/fuse.out" 2>&1 &
        FUSE_PID=$!
        fuse_cleanup() {
                local rc=$?
                kill "$FUSE_PID" 2>/dev/null
                wait "$FUSE_PID" 2>/dev/null
                umount -l "$HANG" 2>/dev/null
                (exit "$rc")
                daemon_cleanup
        }
        trap fuse_cleanup EXIT
        wait_file "$TMP/fuse.out" ready 10 || fail "fuse-hang did not mount"
        children() { ps -o pid= --ppid "$GUESTD_PID" | wc -l; }
        CHILDREN0=$(children)
        T0=$SECONDS
        ( "${CTL_A[@]}" create stuck --kernel "$HANG/vmlinuz" --memory 16 >"$TMP/stuck.out" 2>"$TMP/stuck.err"; echo $? >"$TMP/stuck.rc" ) &
        STUCK_JOB=$!
        check "guestd opens A's kernel in a child" wait_until 5 eval '[ "$(children)" -gt "$CHILDREN0" ]'
        expect_exit 0 "B's list while A's create waits" "${CTL_B[@]}" list
        expect_exit 0 "B creates a guest while A's create waits" "${CTL_B[@]}" create bguest --kernel "$K" --memory 16
        check "A's create is still waiting" [ ! -e "$TMP/stuck.rc" ]
        wait "$STUCK_JOB"
        check "A's create fails with Timeout (exit 12)" [ "$(cat "$TMP/stuck.rc")" = 12 ]
        check "after the policy's open_files timeout" [ $((SECONDS - T0)) -ge "$OPEN_TIMEOUT" ]
        expect_grep "$TMP/stuck.err" "Opening the kernel $HANG/vmlinuz did not finish in time" "the message names the kernel"
        check "stuck was not created" [ "$(guests_of a)" = "$want" ]

        # 16 opens of A's under way at once, then the 17th create is
        # LimitExceeded (whatever its files), B's is not.
        for i in $(seq 16); do
                ( "${CTL_A[@]}" create "s$i" --kernel "$HANG/vmlinuz" --memory 16 >/dev/null 2>&1; echo $? >"$TMP/slot$i.rc" ) &
        done
        check "16 of A's opens under way" wait_until 5 eval '[ "$(children)" -ge "$((CHILDREN0 + 16))" ]'
        refused 5 "A's 17th create while 16 wait is LimitExceeded" "16 opens of your files are under way" \
                "${CTL_A[@]}" create s17 --kernel "$K" --memory 16
        expect_exit 0 "B's create meanwhile is answered" "${CTL_B[@]}" create bguest2 --kernel "$K" --memory 16
        wait_until $((OPEN_TIMEOUT + 10)) eval '[ "$(cat "$TMP"/slot*.rc 2>/dev/null | grep -c "^12$")" = 16 ]'
        check "all 16 ended with Timeout" [ "$(cat "$TMP"/slot*.rc 2>/dev/null | grep -c "^12$")" = 16 ]
        check "none of them was created" [ "$(guests_of a)" = "$want" ]
        check "B's two were" [ "$(guests_of b)" = "bguest bguest2" ]
        check "the killed openers are reaped" wait_until 10 eval '[ "$(children)" -le "$CHILDREN0" ]'
else
        echo "SKIP (part): no fuse-hang or /dev/fuse: the create that never opens is not tried" >&2
fi

# --- creates under way at once: the name and the quota are checked again
# when the files have opened, so two creates of one name make one guest,
# and six against the three left of A's max_guests make three.
pids=()
for i in 1 2; do
        ( ctl_a create twin --kernel "$K" --memory 16 >/dev/null 2>&1; echo $? >"$TMP/twin$i.rc" ) &
        pids+=($!)
done
wait "${pids[@]}"
check "two creates of twin at once: one made it, the other is Exists (exit 9)" \
        [ "$(cat "$TMP"/twin*.rc | sort | tr '\n' ' ')" = "0 9 " ]
left=$((8 - $(echo $want | wc -w) - 1))
pids=()
for i in 1 2 3 4 5 6; do
        ( ctl_a create "many$i" --kernel "$K" --memory 16 >/dev/null 2>&1; echo $? >"$TMP/many$i.rc" ) &
        pids+=($!)
done
wait "${pids[@]}"
check "six creates at once with $left guests left: $left made it, the rest QuotaExceeded (exit 5)" \
        [ "$(cat "$TMP"/many*.rc | grep -c '^0$') $(cat "$TMP"/many*.rc | grep -c '^5$')" = "$left $((6 - left))" ]
check "A has 8 guests, the most max_guests allows" [ "$(ctl_a list --json | json 'len(d)')" = 8 ]
check "guestd is alive after all of it" kill -0 "$GUESTD_PID"
finish
