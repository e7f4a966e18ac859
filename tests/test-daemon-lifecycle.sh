# guestd-test: kvm
# The life of a guest through guestd, driven by an unprivileged user with
# guestctl: create, list and status (human and --json), start, console
# output in `guestctl log` and on `guestctl console`, typing into the
# console, pause/unpause, stop and stop --force, remove; and the named
# errors and exit codes for the wrong state, an unknown guest, a duplicate.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
daemon_start

# --- create, list, status
expect_exit 0 "A creates hello" "${CTL_A[@]}" create hello --kernel "$G/hello.elf" --memory 16
expect_exit 9 "a second hello is refused (Exists)" "${CTL_A[@]}" create hello --kernel "$G/hello.elf" --memory 16
expect_grep "$TMP/err" "^guestctl: .*hello" "Exists error names the guest"
# Relative paths are the caller's working directory.
expect_exit 0 "A creates count with a relative kernel path" \
        bash -c 'cd "$1" && shift && exec "$@"' - "$G" "${CTL_A[@]}" create count --kernel ./count.elf --memory 16 --vcpus 2 \
        --cmdline "count.delay=20000"

expect_exit 0 "list" "${CTL_A[@]}" list
expect_grep "$TMP/out" "^NAME  *STATE  *VCPUS  *MEMORY$" "list header"
expect_grep "$TMP/out" "^hello  *defined  *1  *16 MiB$" "list row for hello"
expect_grep "$TMP/out" "^count  *defined  *2  *16 MiB$" "list row for count"
expect_exit 0 "list --json" "${CTL_A[@]}" list --json
check "list --json: both guests, owner A, memory, vcpus" \
        [ "$(json 'sorted((g["name"], g["state"], g["owner"], g["memory_mib"], g["vcpus"]) for g in d)' <"$TMP/out")" = \
          "[('count', 'defined', $UID_A, 16, 2), ('hello', 'defined', $UID_A, 16, 1)]" ]
check "list --json: object paths under /org/guestd1/guest/" \
        [ "$(json 'all(g["object"].startswith("/org/guestd1/guest/") for g in d)' <"$TMP/out")" = True ]

expect_exit 0 "status count" "${CTL_A[@]}" status count
expect_grep "$TMP/out" "State: defined" "status: state"
expect_grep "$TMP/out" "Kernel: $G/count.elf$" "status: relative kernel path was made absolute"
expect_grep "$TMP/out" "Cmdline: count.delay=20000" "status: cmdline"
expect_grep "$TMP/out" "Owner: $USER_A (uid $UID_A)" "status: owner"
expect_exit 0 "status --json" "${CTL_A[@]}" status count --json
check "status --json: name, state, owner, memory, vcpus, config" \
        [ "$(json '(d["name"], d["state"], d["owner"], d["memory_mib"], d["vcpus"], d["config"]["kernel"], d["config"]["memory_mib"])' <"$TMP/out")" = \
          "('count', 'defined', $UID_A, 16, 2, '$G/count.elf', 16)" ]

# DBUS_SYSTEM_BUS_ADDRESS instead of --bus.
expect_exit 0 "list via DBUS_SYSTEM_BUS_ADDRESS" env DBUS_SYSTEM_BUS_ADDRESS="$BUS" "${AS_A[@]}" "$GUESTCTL" list
expect_grep "$TMP/out" "^hello " "list via DBUS_SYSTEM_BUS_ADDRESS shows hello"

# --- hello: start, prints, powers off by itself
expect_exit 0 "start hello" "${CTL_A[@]}" start hello
check "hello powers off: state stopped" wait_state a hello stopped 20
expect_exit 0 "log hello" "${CTL_A[@]}" log hello
expect_grep "$TMP/out" "Hello from the guestd test guest" "hello's console output is in the log"
expect_exit 0 "log --json" "${CTL_A[@]}" log hello --json
check "log --json carries the text" [ "$(json '"Hello from" in d["log"]' <"$TMP/out")" = True ]
expect_exit 0 "status after power-off" "${CTL_A[@]}" status hello --json
echo "    hello's state_reason: $(json 'd.get("state_reason")' <"$TMP/out")"
check "a stopped guest has a reason" [ -n "$(json 'd.get("state_reason") or ""' <"$TMP/out")" ]

# --- count: runs until stopped; pause freezes it
expect_exit 0 "start count" "${CTL_A[@]}" start count
check "count is running" wait_state a count running 20
expect_exit 6 "starting a running guest is BadState" "${CTL_A[@]}" start count
expect_exit 6 "removing a running guest is BadState" "${CTL_A[@]}" remove count
check "count's console output reaches the log" wait_log a count "count 3" 20
expect_exit 0 "list shows count running" "${CTL_A[@]}" list
expect_grep "$TMP/out" "^count  *running " "list row: running"

last_count() { ctl_a log count | sed -n 's/^count \([0-9]*\)$/\1/p' | tail -n 1; }
expect_exit 0 "pause count" "${CTL_A[@]}" pause count
check "count is paused" wait_state a count paused 10
expect_exit 6 "pausing a paused guest is BadState" "${CTL_A[@]}" pause count
# An absence over an interval: a second of no output.
n1=$(last_count); sleep 1; n2=$(last_count)
check "no console output while paused ($n1 -> $n2)" [ -n "$n1" -a "$n1" = "$n2" ]
expect_exit 0 "unpause count" "${CTL_A[@]}" unpause count
check "count is running again" wait_state a count running 10
check "counting goes on after unpause" wait_log a count "count $((n2 + 3))$" 20
expect_exit 6 "unpausing a running guest is BadState" "${CTL_A[@]}" unpause count

# console from a script: stdin at EOF, output until 1.5 s of silence. count
# never goes quiet, so bound it with timeout(1) and read what came.
timeout 2 "${CTL_A[@]}" console count --idle 1500 </dev/null >"$TMP/console" 2>"$TMP/console.err"
check "console shows count's live output" grep -q '^count [0-9]*$' "$TMP/console"

expect_exit 0 "stop count" "${CTL_A[@]}" stop count
check "count is stopped" wait_state a count stopped 20
expect_exit 6 "stopping a stopped guest is BadState" "${CTL_A[@]}" stop count
expect_exit 6 "pausing a stopped guest is BadState" "${CTL_A[@]}" pause count
expect_exit 0 "start count again" "${CTL_A[@]}" start count
check "count runs again" wait_state a count running 20
expect_exit 0 "stop --force" "${CTL_A[@]}" stop count --force
check "count is stopped after --force" wait_state a count stopped 10
check "no launcher is left" [ -z "$(launcher_pids)" ]

# --- typing into the console: echo answers in upper case, "quit" ends it
expect_exit 0 "A creates echo" "${CTL_A[@]}" create echo --kernel "$G/echo.elf" --memory 16
expect_exit 0 "start echo" "${CTL_A[@]}" start echo
check "echo is running" wait_state a echo running 20
printf 'hello guest\nquit\n' | timeout 30 "${CTL_A[@]}" console echo --idle 0 >"$TMP/console" 2>"$TMP/console.err"
check "console input reached the guest and its answer came back" grep -q "echo: HELLO GUEST" "$TMP/console"
check "the guest powered off on quit" wait_state a echo stopped 20

# --- unknown guests, remove
expect_exit 3 "status of an unknown guest is NoSuchGuest" "${CTL_A[@]}" status nosuch
expect_grep "$TMP/err" "^guestctl: " "NoSuchGuest message on stderr"
expect_exit 3 "start of an unknown guest is NoSuchGuest" "${CTL_A[@]}" start nosuch
expect_exit 3 "remove of an unknown guest is NoSuchGuest" "${CTL_A[@]}" remove nosuch
expect_exit 0 "quota" "${CTL_A[@]}" quota
expect_grep "$TMP/out" "^RESOURCE  *USED  *LIMIT$" "quota header"
expect_grep "$TMP/out" "^guests  *3  *8$" "quota: 3 of 8 guests"
for g in hello count echo; do
        expect_exit 0 "remove $g" "${CTL_A[@]}" remove "$g"
done
expect_exit 0 "list --json after remove" "${CTL_A[@]}" list --json
check "no guests left" [ "$(json 'len(d)' <"$TMP/out")" = 0 ]
check "no guest records left in the state directory" [ -z "$(find "$DTMP/state" -name "${UID_A}_*")" ]

# --- the client's own errors
expect_exit 2 "unknown verb" "${CTL_A[@]}" frobnicate
expect_exit 2 "create without --kernel" "${CTL_A[@]}" create x
expect_exit 2 "option of another verb" "${CTL_A[@]}" list --force
expect_exit 0 "verb --help" "${CTL_A[@]}" stop --help
expect_grep "$TMP/out" "stop NAME \[--force\]" "stop --help shows its usage"
expect_exit 7 "no daemon on the bus address" "${AS_A[@]}" "$GUESTCTL" --bus "unix:path=$DTMP/nonexistent" list
finish
