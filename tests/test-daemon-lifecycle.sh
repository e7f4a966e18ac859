# guestd-test: kvm
# The life of a guest through guestd, driven by an unprivileged user with
# guestctl: create, list and status (human and --json), start, console
# output in `guestctl log` and on `guestctl console`, typing into the
# console, pause/unpause, stop and stop --force, remove; and the named
# errors and exit codes for the wrong state, an unknown guest, a duplicate.
# What a guest or its owner wrote reaches a terminal escaped (issue 20,
# item 9): `guestctl log` and `status` on a pseudo-terminal show an escape
# sequence the guest echoed, and one in the command line, as \x1b...;
# --raw, and a pipe, give the bytes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
daemon_start

# on_tty CMD...: CMD with a new pseudo-terminal as its stdin, stdout and
# stderr, as someone at a terminal runs it; prints what it wrote there
# (the terminal makes each "\n" "\r\n").
on_tty() {
        timeout "${TEST_TIMEOUT:-60}" "$PY" -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the command has closed the terminal
        break
    if not data:
        break
    out += data
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))' "$@"
}
# has FILE STRING: FILE holds STRING, byte for byte.
has() { LC_ALL=C grep -qaF -- "$2" "$1"; }
# no_controls FILE: FILE holds no ESC, BEL or (8-bit) CSI byte.
no_controls() { ! LC_ALL=C grep -qa $'[\033\a\x9b]' "$1"; }

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
# The second line is what a hostile guest would print: an escape sequence
# that retitles the window (OSC, ended by BEL), one that clears the screen
# (CSI), a byte that is not UTF-8 and a C1 CSI (U+009B). echo answers in
# upper case: "]0;PWNED".
printf 'hello guest\n\033]0;pwned\a\033[2J\xff\xc2\x9b:\nquit\n' |
        timeout 30 "${CTL_A[@]}" console echo --idle 0 >"$TMP/console" 2>"$TMP/console.err"
check "console input reached the guest and its answer came back" grep -q "echo: HELLO GUEST" "$TMP/console"
check "the guest powered off on quit" wait_state a echo stopped 20
HOSTILE_RAW=$'echo: \033]0;PWNED\a\033[2J\xff\xc2\x9b:'
HOSTILE_SHOWN='echo: \x1b]0;PWNED\x07\x1b[2J\xff\xc2\x9b:'
on_tty "${CTL_A[@]}" log echo >"$TMP/log.tty" 2>&1
check "log on a terminal: the guest's escape sequences and bytes shown escaped" has "$TMP/log.tty" "$HOSTILE_SHOWN"
check "log on a terminal: no ESC, BEL or C1 byte reaches it" no_controls "$TMP/log.tty"
check "log on a terminal: lines stay lines" has "$TMP/log.tty" $'echo: HELLO GUEST\r\n'
on_tty "${CTL_A[@]}" log echo --raw >"$TMP/log.raw" 2>&1
check "log --raw on a terminal: the bytes as the guest wrote them" has "$TMP/log.raw" "$HOSTILE_RAW"
ctl_a log echo >"$TMP/log.pipe" 2>&1
check "log into a pipe: the bytes as the guest wrote them" has "$TMP/log.pipe" "$HOSTILE_RAW"
# Status fields come from the guest's launcher (the reason) and its owner
# (paths, command line: root reads them too).
expect_exit 0 "A creates esc, an escape sequence in its command line" "${CTL_A[@]}" create esc --kernel "$G/hello.elf" \
        --memory 16 --cmdline $'quiet \033[2J\tx'
on_tty "${CTL_A[@]}" status esc >"$TMP/status.tty" 2>&1
check "status on a terminal: the command line escaped" has "$TMP/status.tty" 'Cmdline: quiet \x1b[2J\tx'
on_tty "${CTL_A[@]}" status esc --raw >"$TMP/status.raw" 2>&1
check "status --raw on a terminal: as it is" has "$TMP/status.raw" $'Cmdline: quiet \033[2J\tx'
expect_exit 0 "remove esc" "${CTL_A[@]}" remove esc

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
