# guestd-test: kvm
# Suspend and resume through guestd, as unprivileged users with guestctl
# (issue 9): count goes on from the next number across suspend/resume and
# across pause + suspend; memtouch finds its memory intact; blk's write
# made before the suspend reads back after the resume; a suspended guest
# holds no launcher and no running quota, its snapshot is root's and
# unreadable to its owner; it survives a guestd restart, and a fresh guestd
# after every process of the old one ended (a host reboot); a guestd killed
# while the launcher writes the snapshot commits it when it comes back.
# Every failure is named and loses nothing: snapshot quota (before anything
# is written), a full disk (the guest goes on), a corrupt, truncated or
# missing snapshot and a disk that went away (it stays suspended, its file
# kept), stop and remove of a suspended guest, another user.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
POLICY='{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024, "max_snapshot_mib": 400}}'
write_policy "$POLICY"
daemon_start
SNAPS=$DTMP/state/snapshots

# The count lines of a console log, checked consecutive from the first;
# prints the last number (fails on a repeat or a gap).
count_last() {
        awk '/^count [0-9]+\r?$/ { sub(/\r$/, "", $2); n = $2 + 0
                                    if (seen && n != last + 1) { printf "count %d after count %d\n", n, last; bad = 1; exit 1 }
                                    last = n; seen = 1 }
             END { if (!bad && seen) print last; else if (!seen) { print "no count"; exit 1 } }' "$1"
}
log_to() { ctl_a log "$1" >"$2" 2>/dev/null; }
no_launcher() { [ -z "$(launcher_pids)" ]; }
no_files() { [ ! -e "$SNAPS/${UID_A}_$1.snap.new" ] && [ ! -e "$SNAPS/${UID_A}_$1.snap" ]; }
# Root's ReloadPolicy: answered once the new policy is in force.
RELOAD=(busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager ReloadPolicy)

# --- count: suspend, resume, and the count goes on
expect_exit 0 "A creates count" "${CTL_A[@]}" create count --kernel "$G/count.elf" --memory 16 --vcpus 2 \
        --cmdline "count.delay=3000000"
expect_exit 0 "start count" "${CTL_A[@]}" start count
check "count counts" wait_log a count "^count 3" 60
expect_exit 0 "suspend count" "${CTL_A[@]}" suspend count
check "count is suspended" [ "$(guest_state a count)" = suspended ]
check "no launcher runs for a suspended guest" no_launcher
log_to count "$TMP/log1"
before=$(count_last "$TMP/log1")
echo "    counted to $before before the suspend"
check "the snapshot is in guestd's state directory" [ -f "$SNAPS/${UID_A}_count.snap" ]
check "the snapshot is root's, mode 0600" [ "$(stat -c '%U %a' "$SNAPS/${UID_A}_count.snap")" = "root 600" ]
expect_exit 1 "A cannot read the snapshot" "${AS_A[@]}" cat "$SNAPS/${UID_A}_count.snap"
expect_exit 1 "B cannot read the snapshot" "${AS_B[@]}" cat "$SNAPS/${UID_A}_count.snap"
used_kib=$(du -k "$SNAPS/${UID_A}_count.snap" | cut -f1)
check "the snapshot is sparse: $used_kib KiB on disk for 16 MiB of RAM" [ "$used_kib" -lt 4096 ]
expect_exit 0 "quota --json" "${CTL_A[@]}" quota --json
check "a suspended guest holds no running guest, vCPU or memory quota" \
        [ "$(json '(d["running"]["used"], d["vcpus"]["used"], d["memory_mib"]["used"])' <"$TMP/out")" = "(0, 0, 0)" ]
check "its snapshot counts against snapshot storage, at its real size" \
        [ "$(json 'd["snapshot_mib"]["used"] == ('"$used_kib"' + 1023) // 1024' <"$TMP/out")" = True ]
expect_exit 0 "status shows the snapshot" "${CTL_A[@]}" status count
expect_grep "$TMP/out" "Snapshot: .* MiB on disk" "status: snapshot size"

expect_exit 6 "start of a suspended guest is refused (BadState)" "${CTL_A[@]}" start count
expect_grep "$TMP/err" "suspended; resume it" "start: the error says resume"
expect_exit 6 "stop without force of a suspended guest is refused" "${CTL_A[@]}" stop count
expect_exit 6 "a second suspend is refused" "${CTL_A[@]}" suspend count
expect_exit 3 "B cannot resume A's guest (NoSuchGuest)" "${CTL_B[@]}" resume count
expect_exit 3 "B cannot name it as A's either (UID/NAME is for admins: to B, A's guest does not exist)" "${CTL_B[@]}" resume "$UID_A/count"

expect_exit 0 "resume count" "${CTL_A[@]}" resume count
check "count runs again" [ "$(guest_state a count)" = running ]
check "the snapshot is gone once the guest runs" [ ! -e "$SNAPS/${UID_A}_count.snap" ]
check "count goes on after the resume" wait_log a count "^count $((before + 3))" 60
log_to count "$TMP/log2"
last=$(count_last "$TMP/log2")
check "count went on from $before to $last with no number repeated or missed" [ "$last" -gt "$before" ] 2>/dev/null
expect_exit 0 "quota after resume" "${CTL_A[@]}" quota --json
check "snapshot storage is free again" [ "$(json 'd["snapshot_mib"]["used"]' <"$TMP/out")" = 0 ]

# --- paused, then suspended: resumes running, counting on
expect_exit 0 "pause count" "${CTL_A[@]}" pause count
expect_exit 0 "suspend the paused count" "${CTL_A[@]}" suspend count
expect_exit 0 "resume it" "${CTL_A[@]}" resume count
log_to count "$TMP/log3"
n=$(count_last "$TMP/log3")
check "after pause + suspend + resume it counts on" wait_log a count "^count $((n + 2))" 60

# --- guestd restarts while count is suspended; then a "reboot": every
# process of the old guestd ended, a fresh one on the same state
expect_exit 0 "suspend count again" "${CTL_A[@]}" suspend count
daemon_stop
daemon_start
check "after a guestd restart count is still suspended" [ "$(guest_state a count)" = suspended ]
daemon_kill KILL
for p in $(launcher_pids); do kill -KILL "$p"; done
daemon_start
check "after a reboot count is still suspended" [ "$(guest_state a count)" = suspended ]
expect_exit 0 "resume after the reboot" "${CTL_A[@]}" resume count
check "count counts after the reboot" wait_log a count "^count [0-9]" 60
log_to count "$TMP/log4"
first=$(awk '/^count [0-9]+/ { print $2 + 0; exit }' "$TMP/log4")
check "it went on from where it was ($first), not from 0" [ "${first:-0}" -gt 3 ]

# --- guestd killed while the launcher writes: the next guestd commits
expect_exit 0 "pause count (so the snapshot is written while guestd is down)" "${CTL_A[@]}" pause count
ctl_a suspend count >/dev/null 2>&1 &
susp=$!
# Once its file exists the launcher has it (guestd makes it when the
# launcher has parked, and hands it over at once).
writing() { [ -e "$SNAPS/${UID_A}_count.snap.new" ] || [ -e "$SNAPS/${UID_A}_count.snap" ]; }
for _ in $(seq 500); do writing && break; sleep 0.01; done
daemon_kill KILL
wait $susp 2>/dev/null
for _ in $(seq 200); do no_launcher && break; sleep 0.1; done
check "the launcher finished its snapshot and ended with guestd gone" no_launcher
daemon_start
check "the restarted guestd committed the snapshot: suspended" [ "$(guest_state a count)" = suspended ]
check "no half-written file is left" [ ! -e "$SNAPS/${UID_A}_count.snap.new" ]
expect_exit 0 "resume the committed snapshot" "${CTL_A[@]}" resume count
check "and it counts" wait_log a count "^count [0-9]" 60

# --- guestd killed while the guest is suspending and the launcher has not
# finished: either running or suspended afterwards, never both, never lost
ctl_a suspend count >/dev/null 2>&1 &
susp=$!
for _ in $(seq 100); do [ "$(guest_state a count)" != running ] && break; sleep 0.01; done
daemon_kill KILL
wait $susp 2>/dev/null
daemon_start
s=$(guest_state a count)
if [ "$s" = suspended ]; then
        snapshot_no_launcher() { [ -f "$SNAPS/${UID_A}_count.snap" ] && no_launcher; }
        check "killed mid-suspend: suspended, with its snapshot, no launcher" snapshot_no_launcher
        expect_exit 0 "resume it" "${CTL_A[@]}" resume count
elif [ "$s" = running ]; then
        check "killed mid-suspend: running, with no snapshot" [ ! -e "$SNAPS/${UID_A}_count.snap" ]
else
        fail "killed mid-suspend: count is '$s', neither running nor suspended"
fi
check "count runs in the end" [ "$(guest_state a count)" = running ]

# --- guestd killed while a resume starts the launcher: afterwards either
# running with no snapshot, or suspended with its snapshot, never both
expect_exit 0 "suspend count" "${CTL_A[@]}" suspend count
ctl_a resume count >/dev/null 2>&1 &
res=$!
for _ in $(seq 200); do [ "$(guest_state a count)" != suspended ] && break; sleep 0.005; done
daemon_kill KILL
wait $res 2>/dev/null
daemon_start
s=$(guest_state a count)
if [ "$s" = running ]; then
        check "killed mid-resume: running, its snapshot deleted" [ ! -e "$SNAPS/${UID_A}_count.snap" ]
elif [ "$s" = suspended ]; then
        check "killed mid-resume: suspended, its snapshot kept" [ -f "$SNAPS/${UID_A}_count.snap" ]
        expect_exit 0 "resume it" "${CTL_A[@]}" resume count
else
        fail "killed mid-resume: count is '$s', neither running nor suspended"
fi
check "count counts in the end" wait_log a count "^count [0-9]" 60

# --- stop --force of a suspended guest discards the snapshot
expect_exit 0 "suspend count" "${CTL_A[@]}" suspend count
expect_exit 0 "stop --force discards the snapshot" "${CTL_A[@]}" stop count --force
check "count is stopped" [ "$(guest_state a count)" = stopped ]
check "its snapshot is gone" [ ! -e "$SNAPS/${UID_A}_count.snap" ]

# --- memtouch: every verify pass after the resume finds its memory intact
expect_exit 0 "A creates memtouch" "${CTL_A[@]}" create mt --kernel "$G/memtouch.elf" --memory 32 \
        --cmdline "memtouch.mib=8 memtouch.passes=0"
expect_exit 0 "start memtouch" "${CTL_A[@]}" start mt
check "memtouch verifies" wait_log a mt "verify): checksum" 60
expect_exit 0 "suspend memtouch" "${CTL_A[@]}" suspend mt
log_to mt "$TMP/mt1"
v1=$(grep -c 'verify): checksum' "$TMP/mt1")
expect_exit 0 "resume memtouch" "${CTL_A[@]}" resume mt
for _ in $(seq 300); do
        log_to mt "$TMP/mt2"
        [ "$(grep -c 'verify): checksum' "$TMP/mt2")" -gt $((v1 + 1)) ] && break
        sleep 0.2
done
v2=$(grep -c 'verify): checksum' "$TMP/mt2")
check "memtouch: $((v2 - v1)) verify passes after the resume" [ "$v2" -gt $((v1 + 1)) ]
no_mismatch() { ! grep -v ', 0 mismatches' "$1" | grep -q mismatches; }
check "memtouch: no mismatch" no_mismatch "$TMP/mt2"

# The progress bar, on a terminal (script(1) gives guestctl one); none
# with --json.
script -qec "$(printf '%q ' "${CTL_A[@]}" suspend mt)" /dev/null >"$TMP/bar" 2>&1
check "on a terminal, suspend draws a progress bar to 100 %" grep -q 'Suspending mt \[#*\] 100%  32/32 MiB' "$TMP/bar"
expect_exit 0 "resume memtouch" "${CTL_A[@]}" resume mt
script -qec "$(printf '%q ' "${CTL_A[@]}" suspend mt --json)" /dev/null >"$TMP/bar" 2>&1
no_bar() { ! grep -q 'Suspending' "$1"; }
check "with --json, no progress bar" no_bar "$TMP/bar"
check "and it suspended" [ "$(guest_state a mt)" = suspended ]

# A snapshot whose checksums are right but whose machine is not this
# guest's (2 vCPUs recorded for a 1-vCPU guest): guestd's check passes, the
# launcher refuses it and ends; the guest stays suspended, the file kept.
cp --sparse=always "$SNAPS/${UID_A}_mt.snap" "$TMP/mt.snap"
"$PY" - "$SNAPS/${UID_A}_mt.snap" <<'PYEOF'
import struct, sys, zlib
f = open(sys.argv[1], "r+b")
fmt = "<8sIIQQQQIIQII"
h = list(struct.unpack(fmt, f.read(struct.calcsize(fmt))))
state_offset, state_size = h[5], h[6]
f.seek(state_offset)
state = bytearray(f.read(state_size))
rtype, index, size = struct.unpack_from("<IIQ", state, 0)
assert rtype == 1 and size == 24, (rtype, size)         # the machine record
struct.pack_into("<I", state, 16 + 8, 2)                 # its n_vcpus
f.seek(state_offset)
f.write(state)
h[8] = zlib.crc32(state)                                 # state_crc32
h[11] = 0
h[11] = zlib.crc32(struct.pack(fmt, *h))                 # header_crc32
f.seek(0)
f.write(struct.pack(fmt, *h))
PYEOF
expect_exit 1 "a snapshot of another machine: the launcher refuses it" "${CTL_A[@]}" resume mt
expect_grep "$TMP/err" "could not be resumed.*stays suspended, its snapshot kept" "the error says it stays suspended"
check "mt stays suspended" [ "$(guest_state a mt)" = suspended ]
check "its snapshot is kept" [ -f "$SNAPS/${UID_A}_mt.snap" ]
expect_grep "$DTMP/guestd.log" "Cannot resume: the snapshot is of a guest with 32 MiB, 2 vCPUs" "the launcher's log names the mismatch"
cp --sparse=always "$TMP/mt.snap" "$SNAPS/${UID_A}_mt.snap"
expect_exit 0 "with its own snapshot back, it resumes" "${CTL_A[@]}" resume mt
expect_exit 0 "stop memtouch" "${CTL_A[@]}" stop mt --force

# --- the launcher killed while it writes the snapshot: the guest's memory
# and vCPUs died with it, so it is crashed, saying so, and no file is left
# (or, had the launcher finished first, suspended with a whole snapshot):
# never "suspended" with half a snapshot
expect_exit 0 "A creates a bigger memtouch" "${CTL_A[@]}" create big --kernel "$G/memtouch.elf" --memory 256 \
        --cmdline "memtouch.mib=128 memtouch.passes=0"
expect_exit 0 "start it" "${CTL_A[@]}" start big
check "it has written its memory" wait_log a big "memtouch pass 1 (write)" 300
ctl_a suspend big >/dev/null 2>"$TMP/big.err" &
susp=$!
for _ in $(seq 1000); do [ -s "$SNAPS/${UID_A}_big.snap.new" ] && break; sleep 0.005; done
for p in $(launcher_pids); do kill -KILL "$p"; done
wait $susp
s=$(guest_state a big)
if [ "$s" = crashed ]; then
        ctl_a status big >"$TMP/big.status" 2>&1
        expect_grep "$TMP/big.status" "ended while suspending" "killed mid-write: crashed, and the reason says it was suspending"
        expect_grep "$TMP/big.err" "could not be suspended" "Suspend failed with the reason"
        check "no snapshot file is left" no_files big
elif [ "$s" = suspended ]; then
        echo "    the launcher had finished before the kill"
        expect_exit 0 "killed after the write: suspended, and it resumes" "${CTL_A[@]}" resume big
        expect_exit 0 "stop it" "${CTL_A[@]}" stop big --force
else
        fail "killed mid-write: big is '$s', neither crashed nor suspended"
fi
expect_exit 0 "remove big" "${CTL_A[@]}" remove big

# --- snapshot quota: refused before anything is written, the guest runs on
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024, "max_snapshot_mib": 10}}'
expect_exit 0 "reload the policy" "${RELOAD[@]}"
expect_exit 0 "start mt" "${CTL_A[@]}" start mt
expect_exit 5 "a suspend past max_snapshot_mib is refused (QuotaExceeded)" "${CTL_A[@]}" suspend mt
expect_grep "$TMP/err" "max_snapshot_mib" "the error names the limit"
check "mt still runs" [ "$(guest_state a mt)" = running ]
check "nothing was written" no_files mt
write_policy "$POLICY"
expect_exit 0 "reload the policy" "${RELOAD[@]}"

# --- a full disk: the suspend fails, the guest goes on
# (guestd keeps its snapshot directory open: restarted onto the mount.)
daemon_stop
mount -t tmpfs -o size=1m,mode=0700 guestd-test-full "$SNAPS"
daemon_start
expect_exit 1 "a suspend onto a full disk fails" "${CTL_A[@]}" suspend mt
expect_grep "$TMP/err" "could not be suspended.*No space left" "the error says the disk is full"
check "mt runs on" [ "$(guest_state a mt)" = running ]
check "no half-written file is left" [ -z "$(ls -A "$SNAPS")" ]
daemon_stop
umount "$SNAPS"
daemon_start
expect_exit 0 "stop mt" "${CTL_A[@]}" stop mt --force

# --- blk: its write before the suspend reads back after the resume
truncate -s 1M "$G/disk.img"
chown "$USER_A" "$G/disk.img"
expect_exit 0 "A creates blk" "${CTL_A[@]}" create blk --kernel "$G/blk.elf" --memory 16 --disk "$G/disk.img" --cmdline-devices \
        --cmdline "blk.hold=1 blk.sectors=256"
expect_exit 0 "start blk" "${CTL_A[@]}" start blk
check "blk wrote and holds" wait_log a blk "blk: holding" 60
expect_exit 0 "suspend blk between its write and its read" "${CTL_A[@]}" suspend blk

# A disk that is gone: the resume fails, named; the guest stays suspended.
mv "$G/disk.img" "$G/disk.moved"
expect_exit 8 "resume without its disk fails (InvalidArgument)" "${CTL_A[@]}" resume blk
expect_grep "$TMP/err" "disk.img does not exist" "the error names the disk"
check "blk stays suspended" [ "$(guest_state a blk)" = suspended ]
mv "$G/disk.moved" "$G/disk.img"

# A corrupt, a truncated and a missing snapshot: BadSnapshot, kept.
SNAP=$SNAPS/${UID_A}_blk.snap
cp --sparse=always "$SNAP" "$TMP/blk.snap"
printf 'X' | dd of="$SNAP" bs=1 seek=40 conv=notrunc 2>/dev/null
expect_exit 11 "a corrupt snapshot is refused (BadSnapshot)" "${CTL_A[@]}" resume blk
expect_grep "$TMP/err" "corrupt snapshot" "the error says corrupt"
kept() { [ "$(guest_state a blk)" = suspended ] && [ -f "$SNAP" ]; }
check "blk stays suspended, the file kept" kept
truncate -s 8192 "$SNAP"
expect_exit 11 "a truncated snapshot is refused (BadSnapshot)" "${CTL_A[@]}" resume blk
rm "$SNAP"
expect_exit 11 "a missing snapshot is refused (BadSnapshot)" "${CTL_A[@]}" resume blk
expect_grep "$TMP/err" "snapshot file is missing" "the error says missing"
cp --sparse=always "$TMP/blk.snap" "$SNAP"

expect_exit 0 "resume blk" "${CTL_A[@]}" resume blk
printf '\n' | timeout 30 "${CTL_A[@]}" console blk --idle 0 >/dev/null 2>&1
check "blk read back what it wrote before the suspend, and ended" wait_state a blk stopped 60
log_to blk "$TMP/blk"
check "blk: read back, all match" grep -q "blk: read back 256 sectors, all match" "$TMP/blk"
expect_exit 0 "A creates blk-verify" "${CTL_A[@]}" create blkv --kernel "$G/blk.elf" --memory 16 --disk "$G/disk.img" --cmdline-devices \
        --cmdline "blk.verify-only=1 blk.sectors=256"
expect_exit 0 "start blk-verify" "${CTL_A[@]}" start blkv
check "blk-verify ends" wait_state a blkv stopped 60
log_to blkv "$TMP/blkv"
check "the disk file holds the pattern" grep -q "blk: read back 256 sectors, all match" "$TMP/blkv"

# --- remove of a suspended guest takes its snapshot along
expect_exit 0 "start count" "${CTL_A[@]}" start count
check "count counts" wait_log a count "^count 1" 60
expect_exit 0 "suspend count" "${CTL_A[@]}" suspend count
expect_exit 0 "remove the suspended count" "${CTL_A[@]}" remove count
check "its snapshot is gone" [ ! -e "$SNAPS/${UID_A}_count.snap" ]

finish
