# guestd-test: kvm
# guestd's log as a host admin reads it (issue 11). Where $JOURNAL_STREAM
# says stderr is journald's, guestd speaks the journal's native protocol:
# every line has its PRIORITY (a crash is an error, for journalctl -p err)
# and the lines about a guest carry GUEST, OWNER_UID and, for a start, a
# stop, a crash, a sandbox violation and a quota refusal, a MESSAGE_ID.
# A stand-in journald (a datagram socket at /run/systemd/journal/socket,
# in a mount namespace of the test's own, so that a real journald is never
# touched) records what arrives. Without the journal, stderr carries each
# line with its "<N>" priority.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
command -v unshare >/dev/null || skip "unshare (util-linux) is missing"
daemon_setup
stop_receivers() { pkill -f "bind..?/run/systemd/journal/socket" 2>/dev/null; return 0; }
trap 'stop_receivers; daemon_cleanup' EXIT
write_policy '{"defaults": {"max_guests": 8, "max_running": 1, "max_vcpus": 8, "max_memory_mib": 1024}}'
STARTED=fd243e715bc2479583c48e1feac634ec STOPPED=c209e5eef9014916b895707ca8ec2ab0 CRASHED=358a0adf61d14242877ba20d07f0f314
VIOLATION=685b9222e3c14718a515dba09059fc2e QUOTA=efd6b357e3a445a3be93909a25215de2

# journal_daemon RECORDS [GUESTD OPTIONS]: guestd in a mount namespace
# whose /run/systemd/journal is a tmpfs holding the stand-in's socket;
# each datagram goes to RECORDS, one field a line, "--" between entries.
journal_daemon() {
        local records=$1; shift
        : >"$records"
        unshare -m --propagation private bash -c '
                mkdir -p /run/systemd/journal && mount -t tmpfs -o mode=755 tmpfs /run/systemd/journal || exit 1
                "$0" -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/run/systemd/journal/socket\")
os.chmod(\"/run/systemd/journal/socket\", 0o666)
with open(sys.argv[1], \"ab\", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b\"\\n--\\n\")
" "$1" &
                for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
                exec 2>>"$2"
                export JOURNAL_STREAM=$(stat -c %d:%i "$2")
                shift 2
                exec "$@"' "$PY" "$records" "$DTMP/guestd.log" \
                "$GUESTD" --bus="$BUS" --state-dir "$DTMP/state" --runtime-dir "$DTMP/run" --policy "$DTMP/policy.json" \
                --launcher "$LAUNCHER_ABS" --launcher-uids "$LAUNCHER_UID_MIN-$LAUNCHER_UID_MAX" "$@" &
        GUESTD_PID=$!
        daemon_wait_name
}

# entry RECORDS MESSAGE_ID: the entry with that id, fields one a line.
entry() { awk -v id="MESSAGE_ID=$2" 'BEGIN { RS = "\n--\n" } index($0, id) { print; exit }' "$1"; }
has_field() { entry "$1" "$2" | grep -qx -- "$3"; }

# --- on the journal
journal_daemon "$TMP/journal"
expect_exit 0 "A creates c1" "${CTL_A[@]}" create c1 --kernel "$G/count.elf" --memory 16 --cmdline "count.delay=100000"
expect_exit 0 "A creates c2" "${CTL_A[@]}" create c2 --kernel "$G/count.elf" --memory 16
expect_exit 0 "A creates triple" "${CTL_A[@]}" create triple --kernel "$G/end-triple.elf" --memory 16
expect_exit 0 "A starts c1" "${CTL_A[@]}" start c1
expect_exit 5 "A's second start is over max_running 1" "${CTL_A[@]}" start c2
expect_exit 0 "A stops c1" "${CTL_A[@]}" stop c1
expect_exit 0 "A starts triple" "${CTL_A[@]}" start triple
check "triple crashed" wait_state a triple crashed 20
check "the crash reached the journal" wait_until 5 has_field "$TMP/journal" $CRASHED "PRIORITY=3"
for id in STARTED STOPPED CRASHED QUOTA; do
        check "$id: the entry carries its MESSAGE_ID" eval '[ -n "$(entry "$TMP/journal" "${!id}")" ]'
        check "$id: GUEST and OWNER_UID" eval 'entry "$TMP/journal" "${!id}" | grep -qx "OWNER_UID=$UID_A" &&
                entry "$TMP/journal" "${!id}" | grep -qx "GUEST=${UID_A}_.*"'
done
check "the start is about c1" has_field "$TMP/journal" $STARTED "GUEST=${UID_A}_c1"
check "the quota refusal is about c2" has_field "$TMP/journal" $QUOTA "GUEST=${UID_A}_c2"
check "a start is information (PRIORITY=6)" has_field "$TMP/journal" $STARTED "PRIORITY=6"
check "a crash is an error (PRIORITY=3: journalctl -p err)" has_field "$TMP/journal" $CRASHED "PRIORITY=3"
check "every entry says guestd" eval '! awk "BEGIN { RS = \"\n--\n\" } !/SYSLOG_IDENTIFIER=guestd/ && NF" "$TMP/journal" | grep -q .'
check "plain lines have priorities too" grep -qx "PRIORITY=6" "$TMP/journal"
check "nothing went to stderr instead" eval '! grep -q "Guest ${UID_A}_c1" "$DTMP/guestd.log"'
daemon_kill

# --- a sandbox violation
journal_daemon "$TMP/journal2" --test-sandbox-violation=open
expect_exit 0 "A creates box" "${CTL_A[@]}" create box --kernel "$G/count.elf" --memory 16
"${CTL_A[@]}" start box >/dev/null 2>&1
check "box crashed" wait_state a box crashed 20
wait_until 5 has_field "$TMP/journal2" $VIOLATION "PRIORITY=3"
check "the violation has its MESSAGE_ID, as an error" has_field "$TMP/journal2" $VIOLATION "PRIORITY=3"
check "and names the guest" has_field "$TMP/journal2" $VIOLATION "GUEST=${UID_A}_box"
daemon_kill

# --- without a journal: stderr, with priorities
daemon_start
expect_exit 0 "A starts c1 again" "${CTL_A[@]}" start c1
expect_exit 0 "A stops it" "${CTL_A[@]}" stop c1
expect_grep "$DTMP/guestd.log" "^<6>guestd: Guest ${UID_A}_c1: starting -> running" "stderr: information as <6>"
expect_exit 0 "A starts triple again" "${CTL_A[@]}" start triple
check "triple crashed again" wait_state a triple crashed 20
expect_grep "$DTMP/guestd.log" "^<3>guestd: Guest ${UID_A}_triple: .* -> crashed" "stderr: a crash as <3>"
finish
