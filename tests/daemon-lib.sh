# Helpers for the tests that run the real guestd (sourced after lib.sh).
#
# Each test gets its own world: a private, system-bus-like dbus-daemon
# (tests/dbus-test.conf, which includes the shipped dbus/org.guestd1.conf),
# the real guestd running as root on it with temporary state and runtime
# directories and a test policy, and two unprivileged users,
# guestd-test-a and guestd-test-b (created once, kept), who drive it with
# the real guestctl. Nothing here touches /dev/kvm's mode: the users never
# get it, that is the point. Everything started is stopped on exit.
#
#   need_daemon                   skip unless root, KVM, guestd, guestctl
#   daemon_setup                  users, bus, directories, payload copies
#   write_policy JSON             the policy file guestd reads
#   daemon_start / daemon_kill    (re)start guestd / kill -9 it
#   daemon_wait_name              wait until $GUESTD_PID owns org.guestd1
#   as_a CMD..., as_b CMD...      run CMD as test user A / B
#   ctl_a ARGS..., ctl_b, ctl_root  guestctl as A / B / root on the test bus
#   "${CTL_A[@]}" ...             the same as a command line, for expect_exit
#   wait_state WHO NAME STATE [SECONDS]
#   launcher_pids                 pids of live processes in the launcher uid range

# Absolute: tests run guestctl from other directories, guestd may chdir.
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
GUESTD=${GUESTD:-$(abspath "$B/guestd")} # GUESTD=... to test another build
GUESTCTL=$(abspath "$B/guestctl")
LAUNCHER_ABS=$(abspath "$LAUNCHER")
USER_A=guestd-test-a
USER_B=guestd-test-b
# Launchers run as uids from this range (guestd --launcher-uids). Far from
# anything a distribution or systemd's DynamicUser hands out.
LAUNCHER_UID_MIN=${LAUNCHER_UID_MIN:-3740000}
LAUNCHER_UID_MAX=$((LAUNCHER_UID_MIN + 99))

# need_daemon_without_kvm: what a daemon test needs when it runs no guest
# (guestd, guestctl, root, the bus, setpriv, python3); need_daemon adds
# /dev/kvm.
need_daemon_without_kvm() {
        [ -x "$GUESTD" ] || skip "guestd is not built ($GUESTD)"
        [ -x "$GUESTCTL" ] || skip "guestctl is not built ($GUESTCTL)"
        [ "$(id -u)" = 0 ] || skip "daemon tests run guestd as root and switch to test users: run them as root"
        command -v dbus-daemon >/dev/null || skip "dbus-daemon is missing (make deps)"
        command -v setpriv >/dev/null || skip "setpriv is missing (util-linux)"
        [ -n "$PY" ] || skip "python3 is missing"
}
need_daemon() {
        need_daemon_without_kvm
        [ -c /dev/kvm ] || skip "/dev/kvm is missing: KVM tests cannot run on this machine"
}

ensure_user() {
        id -u "$1" >/dev/null 2>&1 && return 0
        useradd --system --no-create-home --user-group --home-dir /nonexistent \
                --shell /usr/sbin/nologin --comment "guestd integration tests" "$1" ||
                skip "cannot create test user $1"
}

DTMP=
BUS=
BUS_PID=
GUESTD_PID=

daemon_setup() {
        ensure_user "$USER_A"
        ensure_user "$USER_B"
        UID_A=$(id -u "$USER_A") UID_B=$(id -u "$USER_B")
        # World-traversable so the test users reach the bus socket and the
        # payloads; state and runtime directories stay root's.
        DTMP=$(mktemp -d /tmp/guestd-daemon-test.XXXXXX)
        chmod 755 "$DTMP"
        mkdir -m 700 "$DTMP/state" "$DTMP/run"
        mkdir -m 755 "$DTMP/bus" "$DTMP/guests"
        # Payload copies the test users can read (the build tree may not be).
        for g in hello count echo kbd blk memtouch hostile-virtq hostile-mmio hostile-ports hostile-serial end-triple end-badinsn; do
                install -m 0644 "$GUESTS/$g.elf" "$DTMP/guests/$g.elf"
        done
        G=$DTMP/guests
        trap daemon_cleanup EXIT
        BUS=unix:path=$DTMP/bus/socket
        # As arrays too, so that lib.sh's expect_exit (which runs its
        # command under timeout(1)) can run them: CTL_A=(... guestctl --bus).
        AS_A=(setpriv --reuid="$USER_A" --regid="$USER_A" --init-groups --)
        AS_B=(setpriv --reuid="$USER_B" --regid="$USER_B" --init-groups --)
        CTL_A=("${AS_A[@]}" "$GUESTCTL" --bus "$BUS")
        CTL_B=("${AS_B[@]}" "$GUESTCTL" --bus "$BUS")
        CTL_ROOT=("$GUESTCTL" --bus "$BUS")
        bus_start tests/dbus-test.conf
        write_policy '{"defaults": {}}'
}

# bus_start CONFIG: the private bus, with CONFIG (tests/dbus-test.conf, or
# a variant a test writes); bus_stop ends it (guestd with it: stop that
# first).
bus_start() {
        dbus-daemon --config-file="$1" --address="$BUS" --nofork --nopidfile \
                >"$DTMP/dbus.log" 2>&1 &
        BUS_PID=$!
        local i
        for i in $(seq 100); do
                [ -S "$DTMP/bus/socket" ] && busctl --address="$BUS" status org.freedesktop.DBus >/dev/null 2>&1 && break
                sleep 0.05
        done
        [ -S "$DTMP/bus/socket" ] || { cat "$DTMP/dbus.log" >&2; echo "FAIL: private dbus-daemon did not start" >&2; exit 1; }
}
bus_stop() {
        [ -n "$BUS_PID" ] || return 0
        kill "$BUS_PID" 2>/dev/null
        wait "$BUS_PID" 2>/dev/null
        BUS_PID=
        rm -f "$DTMP/bus/socket"
}

write_policy() {
        printf '%s\n' "$1" >"$DTMP/policy.json.tmp" && mv "$DTMP/policy.json.tmp" "$DTMP/policy.json"
}

# daemon_start [EXTRA GUESTD OPTIONS...]: start guestd, wait for its name.
# GUESTD_WRAP: an array of a command guestd runs under (e.g. seccomp-errno).
daemon_start() {
        ${GUESTD_WRAP[@]+"${GUESTD_WRAP[@]}"} "$GUESTD" --bus="$BUS" --state-dir "$DTMP/state" --runtime-dir "$DTMP/run" \
                --policy "$DTMP/policy.json" --launcher "$LAUNCHER_ABS" \
                --launcher-uids "$LAUNCHER_UID_MIN-$LAUNCHER_UID_MAX" "$@" \
                >>"$DTMP/guestd.log" 2>&1 &
        GUESTD_PID=$!
        daemon_wait_name
}

# daemon_wait_name: wait until guestd ($GUESTD_PID) owns org.guestd1; the
# test ends with guestd's log if it exits or does not within 10 s.
daemon_wait_name() {
        local i
        for i in $(seq 200); do
                if ! kill -0 "$GUESTD_PID" 2>/dev/null; then
                        echo "FAIL: guestd exited at start; its log:" >&2
                        tail -n 30 "$DTMP/guestd.log" >&2
                        exit 1
                fi
                busctl --address="$BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                        NameHasOwner s org.guestd1 2>/dev/null | grep -q true && return 0
                sleep 0.05
        done
        echo "FAIL: guestd did not take org.guestd1 within 10 s; its log:" >&2
        tail -n 30 "$DTMP/guestd.log" >&2
        exit 1
}

daemon_kill() {
        [ -n "$GUESTD_PID" ] || return 0
        kill -"${1:-KILL}" "$GUESTD_PID" 2>/dev/null
        wait "$GUESTD_PID" 2>/dev/null
        GUESTD_PID=
}

daemon_stop() {
        [ -n "$GUESTD_PID" ] || return 0
        kill -TERM "$GUESTD_PID" 2>/dev/null
        local i
        for i in $(seq 100); do
                kill -0 "$GUESTD_PID" 2>/dev/null || break
                sleep 0.05
        done
        daemon_kill KILL
}

# Zombies are left out: a launcher that outlived a killed guestd has been
# handed to PID 1, which reaps it when it gets round to it; a zombie holds
# no guest memory, vCPUs or fds.
launcher_pids() {
        ps -e -o pid=,uid=,stat= |
                awk -v lo="$LAUNCHER_UID_MIN" -v hi="$LAUNCHER_UID_MAX" '$2 >= lo && $2 <= hi && $3 !~ /^Z/ { print $1 }'
}

daemon_cleanup() {
        local rc=$?
        daemon_stop
        local p
        for p in $(launcher_pids); do kill -KILL "$p" 2>/dev/null; done
        [ -n "$BUS_PID" ] && { kill "$BUS_PID" 2>/dev/null; wait "$BUS_PID" 2>/dev/null; }
        if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "$DTMP" ] && [ -f "$DTMP/guestd.log" ]; then
                echo "--- guestd log (last 40 lines)" >&2
                tail -n 40 "$DTMP/guestd.log" >&2
        fi
        [ -n "$DTMP" ] && rm -rf "$DTMP"
        rm -rf "$TMP"
        exit "$rc"
}

as_user() {
        local u=$1; shift
        setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}
as_a() { "${AS_A[@]}" "$@"; }
as_b() { "${AS_B[@]}" "$@"; }
ctl_a() { "${CTL_A[@]}" "$@"; }
ctl_b() { "${CTL_B[@]}" "$@"; }
ctl_root() { "${CTL_ROOT[@]}" "$@"; }
# busctl as a test user: busctl_as USER call|get-property|... ARGS...
busctl_as() {
        local u=$1; shift
        as_user "$u" busctl --address="$BUS" "$@"
}

# guest_state WHO NAME: the state, or "" if the guest is not visible.
guest_state() {
        local who=$1 name=$2
        "ctl_$who" status "$name" 2>/dev/null | sed -n 's/^ *State: //p'
}

# wait_state WHO NAME STATE [SECONDS]: wait until NAME is in STATE. Gives
# up at once when the guest crashed or is not there (no point waiting).
wait_state() {
        local who=$1 name=$2 want=$3 secs=${4:-20} s i
        for i in $(seq $((secs * 10))); do
                s=$(guest_state "$who" "$name")
                [ "$s" = "$want" ] && return 0
                if [ "$s" = crashed ] || { [ -z "$s" ] && [ "$i" -gt 3 ]; }; then
                        echo "    $name: state '$s', wanted '$want'; $("ctl_$who" status "$name" 2>&1 | grep -i reason)" >&2
                        return 1
                fi
                sleep 0.1
        done
        echo "    $name: state '$s' after ${secs}s, wanted '$want'" >&2
        return 1
}

# wait_log WHO NAME PATTERN [SECONDS]: wait until the console log matches.
wait_log() {
        local who=$1 name=$2 pattern=$3 secs=${4:-20} i
        for i in $(seq $((secs * 10))); do
                "ctl_$who" log "$name" 2>/dev/null | grep -q -- "$pattern" && return 0
                sleep 0.1
        done
        echo "    $name: no '$pattern' in the console log after ${secs}s" >&2
        return 1
}

# wait_file FILE PATTERN [SECONDS]: wait until FILE has a line matching.
wait_file() {
        local file=$1 pattern=$2 secs=${3:-20} i
        for i in $(seq $((secs * 10))); do
                grep -q -- "$pattern" "$file" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "    no '$pattern' in $file after ${secs}s" >&2
        return 1
}

# wait_until SECONDS CMD...: poll CMD (every 50 ms) until it succeeds;
# fails after SECONDS. For the event a test means, instead of a sleep.
# SECONDS of the clock, not a count of tries: under TCG one try of a
# guestctl call can take a second.
wait_until() {
        local end=$((SECONDS + $1)); shift
        while [ "$SECONDS" -lt "$end" ]; do
                "$@" && return 0
                sleep 0.05
        done
        "$@"
}

# daemon_reload: SIGHUP, then wait until guestd has read the policy (it
# logs that it loaded it, or why it refused it).
daemon_reload() {
        local before; before=$(grep -c "Policy .* loaded\|Refusing the policy\|Cannot read policy" "$DTMP/guestd.log")
        kill -HUP "$GUESTD_PID"
        wait_until 10 eval '[ "$(grep -c "Policy .* loaded\|Refusing the policy\|Cannot read policy" "$DTMP/guestd.log")" -gt '"$before"' ]'
}

# check NAME CMD...: ok if CMD succeeds, else fail.
check() {
        local name=$1; shift
        if "$@"; then ok "$name"; else fail "$name"; fi
}

# json EXPR < JSON: evaluate a python expression on the document `d`; a
# string is printed as it is, anything else as Python's repr (tuples and all).
json() {
        "$PY" -c 'import json, sys; d = json.load(sys.stdin); r = eval(sys.argv[1]); print(r if isinstance(r, str) else repr(r))' "$1"
}

# The quota watch of the concurrency tests: root's ListGuests in a loop
# while the test hammers the daemon, then a verdict over every sample.
#   sampler_start; ...; sampler_stop
#   sampler_verdict MAX_RUNNING MAX_VCPUS   prints "samples=N active_samples=N
#       violations=N worst={uid: (running, vcpus)}"; fails when a sample
#       shows any user with more active guests or vCPUs than allowed.
# A guest counts from "starting" until it is "stopped" (or crashed) again.
sampler_start() {
        rm -f "$TMP/stop-sampling"
        ( while [ ! -e "$TMP/stop-sampling" ]; do
                "${CTL_ROOT[@]}" list --json 2>/dev/null
                echo "---"
          done >"$TMP/samples" ) &
        SAMPLER=$!
}
sampler_stop() {
        touch "$TMP/stop-sampling"
        wait "$SAMPLER"
}
sampler_verdict() {
        "$PY" - "$TMP/samples" "$1" "$2" <<'PYEOF'
import json, sys
text = open(sys.argv[1]).read()
max_running, max_vcpus = int(sys.argv[2]), int(sys.argv[3])
samples = [s for s in text.split("---\n") if s.strip()]
worst, bad, active = {}, 0, 0
for s in samples:
    try:
        guests = json.loads(s)
    except ValueError:
        continue
    per = {}
    for g in guests:
        if g["state"] in ("defined", "stopped", "crashed"):
            continue
        n, v = per.get(g["owner"], (0, 0))
        per[g["owner"]] = (n + 1, v + g["vcpus"])
    for owner, (n, v) in per.items():
        active += 1
        w = worst.get(owner, (0, 0))
        worst[owner] = (max(w[0], n), max(w[1], v))
        if n > max_running or v > max_vcpus:
            bad += 1
print("samples=%d active_samples=%d violations=%d worst=%s" % (len(samples), active, bad, worst))
sys.exit(1 if bad else 0)
PYEOF
}
