# guestd-test: kvm
# Hostile users on the bus. Every method is called with the wrong types
# and number of arguments, empty, over-long and odd strings, control
# characters, integers at 0, negative and 2^63 in the configuration, wrong
# JSON types, unknown keys and missing fields, deep nesting, files that
# are directories, FIFOs or sockets, and extra fds of every kind riding
# along. Each call gets a named error, and none changes anything. Then a
# flood of Start/Stop calls from many connections: the quota holds at every
# moment and another user's calls still answer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
BUSCALL=$(abspath "$B/tests/bus-call")
[ -x "$BUSCALL" ] || skip "$BUSCALL is not built"
daemon_setup
write_policy '{"defaults": {"max_guests": 12, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}}'
daemon_start
install -m 0755 "$BUSCALL" "$DTMP/bus-call"
BC_A=("${AS_A[@]}" "$DTMP/bus-call")
K=$G/hello.elf
M=(/org/guestd1 org.guestd1.Manager)
calls=0

# named WANT-ERROR LABEL bus-call-args...: as A; the call must fail with it.
# Options for bus-call (--fd=...) come first in the arguments.
named() {
        local want=$1 label=$2 opts=(); shift 2
        while [ $# -gt 0 ] && [[ $1 == --* ]]; do opts+=("$1"); shift; done
        calls=$((calls + 1))
        if timeout 20 "${BC_A[@]}" --expect="$want" "${opts[@]}" "$BUS" "$@" >"$TMP/out" 2>"$TMP/err"; then
                ok "$label: $want"
        else
                fail "$label: wanted $want, got: $(cat "$TMP/out" "$TMP/err" | head -c 300)"
        fi
}
ARGS=org.freedesktop.DBus.Error.InvalidArgs
INVAL=org.guestd1.Error.InvalidArgument
cfg() { printf '{"kernel": "%s", "memory_mib": %s, "vcpus": %s%s}' "$K" "${1:-16}" "${2:-1}" "${3:-}"; }

expect_exit 0 "A creates a guest to aim at" "${CTL_A[@]}" create target --kernel "$G/count.elf" --memory 16
expect_exit 0 "A's list" "${CTL_A[@]}" list --json
OBJ=$(json 'd[0]["object"]' <"$TMP/out")
cp "$TMP/out" "$TMP/list-before"
records_before=$(ls "$DTMP/state/guests" | sort | tr '\n' ' ')

# --- wrong types and counts, on every method
named $ARGS "CreateGuest()" "${M[@]}" CreateGuest
named $ARGS "CreateGuest(s)" "${M[@]}" CreateGuest s x
named $ARGS "CreateGuest(ii)" "${M[@]}" CreateGuest ii 1 2
named $ARGS "CreateGuest(sss)" "${M[@]}" CreateGuest sss a b c
named $ARGS "CreateGuest(st)" "${M[@]}" CreateGuest st a 9223372036854775808
for kind in dir pipe socket devnull; do
        named $ARGS "CreateGuest(ss) plus a $kind fd" --fd=$kind "${M[@]}" CreateGuest ss fdguest "$(cfg)"
done
named $ARGS "RemoveGuest()" "${M[@]}" RemoveGuest
named $ARGS "RemoveGuest(u)" "${M[@]}" RemoveGuest u 0
named $ARGS "GetGuest(b)" "${M[@]}" GetGuest b true
named $ARGS "ListGuests(s)" "${M[@]}" ListGuests s x
named $ARGS "GetQuota(t)" "${M[@]}" GetQuota t 18446744073709551615
named $ARGS "ReloadPolicy(s)" "${M[@]}" ReloadPolicy s /etc/shadow
named $ARGS "Start(b)" "$OBJ" org.guestd1.Guest Start b true
named $ARGS "Stop()" "$OBJ" org.guestd1.Guest Stop
named $ARGS "Stop(s)" "$OBJ" org.guestd1.Guest Stop s yes
named $ARGS "Stop(i)" "$OBJ" org.guestd1.Guest Stop i -1
named $ARGS "Pause(u)" "$OBJ" org.guestd1.Guest Pause u 4294967295
named $ARGS "Unpause(x)" "$OBJ" org.guestd1.Guest Unpause x -9223372036854775808
named $ARGS "OpenConsole(h)" --fd=pipe "$OBJ" org.guestd1.Guest OpenConsole
named $ARGS "GetConsoleLog(d)" "$OBJ" org.guestd1.Guest GetConsoleLog d 1e308
named org.freedesktop.DBus.Error.UnknownMethod "a method that does not exist" "${M[@]}" Frobnicate
named org.guestd1.Error.NoSuchGuest "a guest object that does not exist" /org/guestd1/guest/_31000_5fnope org.guestd1.Guest Start
named org.guestd1.Error.NoSuchGuest "a path below the guests" /org/guestd1/guest/x/y org.guestd1.Guest Start
named org.freedesktop.DBus.Error.UnknownMethod "the guest interface on the manager" /org/guestd1 org.guestd1.Guest Start

# --- names
long=$(printf 'x%.0s' $(seq 300))
for n in "" "$long" "a/b" ".." "." "../../etc/passwd" '\x01' 'a\x0ab' 'a\x7fb' " " "a b" "*" "\$(id)" "x\\\\y"; do
        named $INVAL "CreateGuest name '${n:0:16}'" "${M[@]}" CreateGuest ss "$n" "$(cfg)"
        named "org.guestd1.Error.NoSuchGuest|$INVAL" "GetGuest name '${n:0:16}'" "${M[@]}" GetGuest s "$n"
        named "org.guestd1.Error.NoSuchGuest|$INVAL" "RemoveGuest name '${n:0:16}'" "${M[@]}" RemoveGuest s "$n"
done

# --- configurations: JSON that is not an object, wrong types, integers at
# the edges, unknown keys, missing fields, nesting, size
deep=$("$PY" -c 'print("[" * 5000 + "]" * 5000)')
deepobj=$("$PY" -c 'print("{\"kernel\": " + "{\"a\": " * 3000 + "1" + "}" * 3000 + "}")')
big=$("$PY" -c 'print("{\"kernel\": \"/x\", \"memory_mib\": 16, \"vcpus\": 1, \"cmdline\": \"" + "a" * 70000 + "\"}")')
i=0
while IFS= read -r c; do
        i=$((i + 1))
        named $INVAL "config $i: ${c:0:60}" "${M[@]}" CreateGuest ss "bad$i" "$c"
done <<EOT
$(cfg 0)
$(cfg -1)
$(cfg 1)
$(cfg 9223372036854775808)
$(cfg 18446744073709551616)
$(cfg 1e3)
$(cfg '"16"')
$(cfg null)
$(cfg true)
$(cfg 16 0)
$(cfg 16 -1)
$(cfg 16 9223372036854775807)
$(cfg 16 4294967297)
$(cfg 16 1.0)
$(cfg 16 '[1]')
$(cfg 16 1 ', "unknown": 1')
$(cfg 16 1 ', "cmdline": 7')
$(cfg 16 1 ', "cmdline": null')
$(cfg 16 1 ', "initrd": ""')
$(cfg 16 1 ', "initrd": "relative/path"')
$(cfg 16 1 ', "disks": {}')
$(cfg 16 1 ', "disks": [7]')
$(cfg 16 1 ', "disks": [{}]')
$(cfg 16 1 ', "disks": [{"path": "/x", "read_only": "yes"}]')
$(cfg 16 1 ', "disks": [{"path": "/x", "id": 5}]')
$(cfg 16 1 ', "disks": [{"path": "/x", "id": "\u0000"}]')
$(cfg 16 1 ', "cmdline": "a\u0000b"')
{"memory_mib": 16, "vcpus": 1}
{"kernel": "", "memory_mib": 16, "vcpus": 1}
{"kernel": "/x\u0000y", "memory_mib": 16, "vcpus": 1}
{"kernel": null, "memory_mib": 16, "vcpus": 1}
{"kernel": ["/x"], "memory_mib": 16, "vcpus": 1}
{}
[]
null
7
"string"
{"kernel": "/x", "memory_mib": 16, "vcpus": 1
{"kernel": "/x", "memory_mib": 16, "vcpus": 1}}
{"kernel": "/x", "memory_mib": 16, "vcpus": 1} trailing
$deep
$deepobj
$big
EOT
named $INVAL "an empty config" "${M[@]}" CreateGuest ss empty ""

# --- files that are not regular files: refused by CreateGuest with a named
# error (it opens them as the caller, as Start does), nothing created.
mkfifo -m 0666 "$G/fifo"
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$G/sock"
chmod 0666 "$G/sock"
for f in "$G:a directory" "$G/fifo:a FIFO" "$G/sock:a socket" "/dev/null:a device" "/proc/self/mem:a proc file"; do
        path=${f%%:*} what=${f#*:}
        named "$INVAL|org.guestd1.Error.AccessDenied" "kernel is $what: CreateGuest" "${M[@]}" CreateGuest ss "file$calls" \
                "$(printf '{"kernel": "%s", "memory_mib": 16, "vcpus": 1}' "$path")"
        named "$INVAL|org.guestd1.Error.AccessDenied" "disk is $what: CreateGuest" "${M[@]}" CreateGuest ss "disk$calls" \
                "$(cfg 16 1 ', "disks": [{"path": "'"$path"'"}]')"
done

# --- nothing changed
expect_exit 0 "A's list after the barrage" "${CTL_A[@]}" list --json
check "A's guests are exactly as before" cmp -s "$TMP/out" "$TMP/list-before"
check "the guest records are exactly as before" [ "$(ls "$DTMP/state/guests" | sort | tr '\n' ' ')" = "$records_before" ]
check "no launcher runs" [ -z "$(launcher_pids)" ]
check "guestd is alive" kill -0 "$GUESTD_PID"
echo "    $calls hostile calls, each refused with the expected named error"
echo "hostile_bus_calls=$calls" >>"$TMP/report"

# --- a flood of Start and Stop from many connections
expect_exit 0 "B creates a guest" "${CTL_B[@]}" create calm --kernel "$G/hello.elf" --memory 16
for i in 1 2 3 4 5 6; do
        ctl_a create "f$i" --kernel "$G/count.elf" --memory 16 --vcpus $((i % 2 + 1)) --cmdline "count.delay=200000" >/dev/null ||
                fail "create f$i"
done
sampler_start
# Each round starts and kills a launcher: in the nested test VM, where
# that takes ~100 times longer than on a host's KVM, fewer rounds.
if [ "${GUESTD_IN_VM:-0}" = 1 ]; then FLOOD=${FLOOD_ROUNDS:-6}; else FLOOD=${FLOOD_ROUNDS:-25}; fi
echo "    flood: 12 connections, $FLOOD rounds of Start and Stop(force) each"
pids=()
for i in 1 2 3 4 5 6; do
        obj=$(ctl_a status "f$i" --json | json 'd["object"]')
        for conn in 1 2; do
                # Each connection: FLOOD x (Start, Stop(force)), replies awaited.
                ( for r in $(seq "$FLOOD"); do
                        "${BC_A[@]}" "$BUS" "$obj" org.guestd1.Guest Start >/dev/null 2>&1
                        "${BC_A[@]}" "$BUS" "$obj" org.guestd1.Guest Stop b true >/dev/null 2>&1
                  done ) &
                pids+=($!)
        done
done
answered=0
for r in $(seq 20); do
        "${CTL_B[@]}" start calm >/dev/null 2>&1 || true
        if "${CTL_B[@]}" list >/dev/null 2>&1; then answered=$((answered + 1)); fi
done
wait "${pids[@]}"
sampler_stop
check "B's 20 calls all answered during the flood" [ "$answered" = 20 ]
sampler_verdict 2 4 >"$TMP/verdict"
rc=$?
echo "    $(cat "$TMP/verdict")"
check "the quota held in every sample during the flood" [ "$rc" = 0 ]
check "the flood really ran guests" grep -q 'active_samples=[1-9]' "$TMP/verdict"
for i in 1 2 3 4 5 6; do
        ctl_a stop "f$i" --force >/dev/null 2>&1
done
check "guestd is alive after the flood" kill -0 "$GUESTD_PID"
running_used() { ctl_a quota --json | json 'd["running"]["used"]'; }
check "nothing left charged after everything stopped" wait_until 20 eval '[ "$(running_used)" = 0 ]'
finish
