#!/usr/bin/env bash
# make report: the security figures, in tests/REPORT.md. Runs the hostile
# guest, hostile user, sandbox, availability, stop and confidentiality
# tests and the fuzz targets, and writes down what they did: payloads run
# and survived, calls refused, abuse trials with the quota intact, waits
# that stayed bounded, fuzz executions without a crash.
#
# The tests need a stock /dev/kvm: where there is none (or PVM's), they
# run in one boot of the nested test VM (tests/vm/run-in-vm.sh), which
# sends their logs back on its output between markers; the fuzz targets
# run here.
set -u
cd "$(dirname "$0")/.."
: "${B:?}" "${FUZZ_SECONDS:=60}"
OUT=${REPORT_OUT:-tests/REPORT.md}
TMP=$(mktemp -d /tmp/guestd-report.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
TESTS="test-launcher-hostile test-daemon-hostile test-daemon-hostile-bus test-daemon-sandbox test-daemon-concurrency
test-daemon-availability test-daemon-stop test-daemon-confidentiality test-daemon-forged-signals test-daemon-hostile-launcher
test-daemon-polkit test-daemon-snapshot-bound"
run() { # run NAME: the test's full output in $TMP/NAME.log
        echo "report: running tests/$1.sh" >&2
        B=$B bash "tests/$1.sh" >"$TMP/$1.log" 2>&1
        local rc=$?
        [ $rc = 0 ] || { echo "report: tests/$1.sh failed (exit $rc)" >&2; status=1; }
        echo $rc >"$TMP/$1.rc"
}
verdict() { [ "$(cat "$TMP/$1.rc" 2>/dev/null)" = 0 ] && echo "passed" || echo "**FAILED**"; }
checks() { grep -c '^ok: ' "$TMP/$1.log"; }

# In the VM (REPORT_VM_PART=1): run the tests, print each log between markers.
if [ "${REPORT_VM_PART:-0}" = 1 ]; then
        for t in $TESTS; do
                run $t
                echo "=== report-log $t $(cat "$TMP/$t.rc")"
                cat "$TMP/$t.log"
                echo "=== report-end $t"
        done
        exit 0
fi
kvm_here=1
{ [ -c /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; } || kvm_here=0
if [ $kvm_here = 1 ]; then
        for t in $TESTS; do run $t; done
        ENVIRONMENT="$(uname -r), this host's /dev/kvm"
else
        echo "report: no stock /dev/kvm here: the tests run in the nested test VM" >&2
        tests/vm/run-in-vm.sh -- env REPORT_VM_PART=1 B="$B" bash tests/report.sh >"$TMP/vm.out" 2>"$TMP/vm.err" || status=1
        for t in $TESTS; do
                awk -v t="$t" '$0 ~ "^=== report-end " t "$" { on = 0 } on { print } $0 ~ "^=== report-log " t " " { on = 1 }' \
                        "$TMP/vm.out" | tr -d '\r' >"$TMP/$t.log"
                sed -n "s/^=== report-log $t \([0-9]*\).*/\1/p" "$TMP/vm.out" | tr -d '\r' >"$TMP/$t.rc"
                [ "$(cat "$TMP/$t.rc")" = 0 ] || { echo "report: tests/$t.sh failed in the VM (exit $(cat "$TMP/$t.rc"))" >&2; status=1; }
        done
        ENVIRONMENT="the nested test VM (Debian's kernel under QEMU TCG) on $(uname -r)"
fi
echo "report: fuzzing each target for ${FUZZ_SECONDS}s" >&2
make --no-print-directory fuzz FUZZ_SECONDS="$FUZZ_SECONDS" >"$TMP/fuzz.log" 2>&1 || status=1

{
        echo "# Security test report"
        echo
        echo "Made by \`make report\` (\`B=$B FUZZ_SECONDS=$FUZZ_SECONDS tests/report.sh\`) on $(date -u +%Y-%m-%d), the tests in"
        echo "$ENVIRONMENT, $(nproc) cores. Each section names the test that produced it; all of them also run in \`make check\`."
        echo
        echo "## Attackers, and the tests that play them"
        echo
        echo "Every design names who can reach it (docs/design.md); each class of attacker is played by these tests, the"
        echo "verdicts from this run. Unit tests and fuzz targets beside the code (below) cover the parsers each one reaches."
        echo
        echo "| attacker | what they can reach | played by |"
        echo "|---|---|---|"
        echo "| a local user on the bus | guestd's methods and properties; signals they send or forge; paths they name | \`test-daemon-hostile-bus\` ($(verdict test-daemon-hostile-bus)), \`test-daemon-forged-signals\` ($(verdict test-daemon-forged-signals)): forged PrepareForShutdown and NameOwnerChanged, \`test-daemon-confidentiality\` ($(verdict test-daemon-confidentiality)), \`test-daemon-availability\` ($(verdict test-daemon-availability)), \`test-daemon-stop\` ($(verdict test-daemon-stop)), \`test-daemon-concurrency\` ($(verdict test-daemon-concurrency)); unit: \`test-open-as-caller\` (magic links, guestd's fds), \`test-bus-sender\`, \`test-config\` |"
        echo "| a user with polkit's manage | other users' guests, created for any uid, root's included | \`test-daemon-polkit\` ($(verdict test-daemon-polkit)): a guest created for root naming root's files is opened with the admin's rights and refused |"
        echo "| a launcher taken over by its guest | the launcher protocol, its stderr, the snapshot file it writes | \`test-daemon-hostile-launcher\` ($(verdict test-daemon-hostile-launcher), $(checks test-daemon-hostile-launcher) checks; \`tests/hostile-launcher.c\`: oversized, non-UTF-8 and control-character texts, malformed, out-of-order and fd-carrying messages, floods, an unaccountable launcher), \`test-daemon-snapshot-bound\` ($(verdict test-daemon-snapshot-bound): a snapshot written past its reserve, a launcher that keeps the file), \`test-daemon-sandbox\` ($(verdict test-daemon-sandbox)); unit: \`test-protocol\`, \`test-guest\` (record bounds), \`test-launcher-log\`; fuzz: protocol, snapshot |"
        echo "| a hostile guest | its emulated devices, its console bytes | \`test-launcher-hostile\` ($(verdict test-launcher-hostile)), \`test-daemon-hostile\` ($(verdict test-daemon-hostile)); fuzz: virtqueue |"
        echo
        echo "### The class sweep behind issue 20"
        echo
        echo "Each hole the review of 2026-12 found was fixed with the class it belongs to; what was searched, and what else turned up:"
        echo
        echo "- **Signals guestd believes** (\`sd_bus_match_signal\`, \`sd_bus_add_match\`, \`sd_bus_track_new\` in \`daemon/\`): logind's PrepareForShutdown and NameOwnerChanged matches, and the \`sd_bus_track\` of every subscription (\`signals.c\`) and polkit grant (\`polkit.c\`), which sd-bus ends on the driver's NameOwnerChanged; machined and polkit are only called. One filter (\`daemon/bus-sender.c\`) now drops, before any match, the driver's interface from anyone but the driver and every signal addressed to guestd; PrepareForShutdown counts only from login1's current unique owner."
        echo "- **Forks that act for a user** (\`fork\`, \`clone\`, \`clone3\`, \`exec\` in \`daemon/\`, \`cli/\`, \`launcher/\`): the file opener (now \`close_range\`, /dev/null as its standard streams), the launcher's spawn (already \`close_range\` from fd 4 before its exec); \`guestctl\` forks nothing."
        echo "- **Paths a user names** (every \`open\`/\`openat\`/\`fopen\` in \`daemon/\`): only the kernel, initrd and disks, all through the opener (now \`openat2\` with \`RESOLVE_NO_MAGICLINKS\`, as the person who named them: \`files_uid\`); the others are guestd's own (state and runtime directories, cgroups, /proc) or root's (policy, \`--launcher\`)."
        echo "- **Text from a less trusted side** (every string a launcher message carries, a guest record's fields, what reaches the log, the bus and a terminal): \`error\`, \`exited\` (\`exit_name\`, \`reason\`), \`shutdown_asked\` (\`how\`, \`why\`) and the suspend messages are checked in their decoders; a state's reason is escaped and cut wherever it is set or loaded; the launcher's stderr was already escaped and rate-limited; every log line is escaped (\`common/log.c\`); \`guestctl\` escapes console bytes and reasons on a terminal. Found on the way: the decoders' optional strings did not refuse an embedded NUL, as required ones did (now one check for both); records were written pretty-printed, so their size did not follow from their fields' bounds (now one line, and never past what the loader reads)."
        echo "- **Rates**: a launcher's messages were read until its socket was empty, so a flood held the event loop; now a budget per second and per read."
        echo
        echo "## Hostile guests"
        echo
        echo "Against the launcher alone (\`tests/test-launcher-hostile.sh\`: $(verdict test-launcher-hostile), $(checks test-launcher-hostile) checks):"
        echo
        sed -n 's/^    \(hostile-mmio: .*\)/- \1/p; s/^    \(hostile-ports: .*\)/- \1/p; s/^    flood: /- hostile-serial: /p' \
                "$TMP/test-launcher-hostile.log"
        grep -q '^ok: triple fault' "$TMP/test-launcher-hostile.log" && echo "- end-triple: triple fault, exit 4 with its reason"
        grep -q '^ok: the instruction is named' "$TMP/test-launcher-hostile.log" &&
                echo "- end-badinsn: an instruction KVM cannot emulate, exit 5, the instruction bytes named"
        echo "- hostile-virtq, case by case (an error status, DEVICE_NEEDS_RESET or a refused queue; never OK, never silence):"
        echo
        sed -n 's/^    hostile-virtq: \(.*\): \(.*\)$/  | \1 | \2 |/p' "$TMP/test-launcher-hostile.log" |
                { echo "  | case | the device |"; echo "  |---|---|"; cat; }
        echo
        echo "Through guestd, as user A, while user B's guest runs (\`tests/test-daemon-hostile.sh\`: $(verdict test-daemon-hostile), $(checks test-daemon-hostile) checks):"
        echo
        echo "| payload | how it ended | B's guest | ListGuests during it |"
        echo "|---|---|---|---|"
        for p in virtq mmio ports triple badinsn; do
                line=$(sed -n "s/^    $p: //p" "$TMP/test-daemon-hostile.log" | head -n 1)
                b=$(grep -q "^ok: $p: bystander still counting" "$TMP/test-daemon-hostile.log" && echo "ran on, untouched" || echo "**affected**")
                l=$(grep -q "^ok: $p: guestd answers B's ListGuests" "$TMP/test-daemon-hostile.log" && echo answered || echo "**no answer**")
                echo "| hostile-$p / end-$p | ${line:-?} | $b | $l |" | sed 's|hostile-triple / end-triple|end-triple (triple fault)|; s|hostile-badinsn / end-badinsn|end-badinsn (instruction KVM cannot emulate)|; s| / end-[a-z]*||'
        done
        f=$(sed -n 's/^    flood: //p' "$TMP/test-daemon-hostile.log" | head -n 1)
        echo "| hostile-serial (flood, stopped by the test) | ${f:-?} | $(grep -q '^ok: flood: bystander still running' "$TMP/test-daemon-hostile.log" && echo "ran on, untouched" || echo "**affected**") | $(grep -q "^ok: flood: guestd answers" "$TMP/test-daemon-hostile.log" && echo answered || echo "**no answer**") |"
        echo
        echo "## The launcher's sandbox"
        echo
        echo "Inspected from outside while a guest runs, then each forbidden call made once sandboxed"
        echo "(\`tests/test-daemon-sandbox.sh\`: $(verdict test-daemon-sandbox), $(checks test-daemon-sandbox) checks):"
        echo
        grep -h '^ok: ' "$TMP/test-daemon-sandbox.log" | grep -Ev '^ok: (ioctl-[a-z-]*|open|socket|execve|mmap-exec|ptrace): |exit 0\)' |
                sed 's/^ok: /- /'
        echo
        echo "| forbidden call, made after sandboxing | guestd recorded the guest as crashed with | B's guest and ListGuests |"
        echo "|---|---|---|"
        sed -n 's/^    violation \([a-z-]*\): \(.*\)/\1 \2/p' "$TMP/test-daemon-sandbox.log" | while read -r call reason; do
                ok=$(grep -c "^ok: $call: \(the bystander still runs\|guestd answers ListGuests meanwhile\)" "$TMP/test-daemon-sandbox.log")
                echo "| $call | $reason | $([ "$ok" = 2 ] && echo "untouched, answered" || echo "**see the log**") |"
        done
        echo
        echo "## Hostile users"
        echo
        echo "\`tests/test-daemon-hostile-bus.sh\`: $(verdict test-daemon-hostile-bus), $(checks test-daemon-hostile-bus) checks."
        echo
        sed -n 's/^    \([0-9]* hostile calls.*\)/- \1/p' "$TMP/test-daemon-hostile-bus.log"
        echo '- Strings with NUL or invalid UTF-8 cannot be sent as D-Bus strings at all (the client library and dbus-daemon refuse the message before guestd sees it); a NUL written as `\u0000` inside a configuration is refused by guestd (tested).'
        echo "- Start/Stop flood: 6 guests x 2 connections x ${FLOOD_ROUNDS:-25} rounds of Start + Stop(force) from user A while root sampled every guest's state; $(sed -n 's/^    \(samples=.*\)/\1/p' "$TMP/test-daemon-hostile-bus.log"); user B's calls: $(grep -q "^ok: B's 20 calls all answered" "$TMP/test-daemon-hostile-bus.log" && echo "20 of 20 answered" || echo "**not all answered**")."
        echo "- Concurrent Start calls (\`tests/test-daemon-concurrency.sh\`: $(verdict test-daemon-concurrency)): 2 users x 8 guests, 3 rounds, all fired at once: $(sed -n 's/^    \(samples=.*\)/\1/p' "$TMP/test-daemon-concurrency.log")."
        echo
        echo "## Nobody stalls guestd"
        echo
        echo "\`tests/test-daemon-availability.sh\`: $(verdict test-daemon-availability), $(checks test-daemon-availability) checks."
        echo
        echo "- A's Start with its kernel on a FUSE mount that never answers: $(sed -n 's/^    A.s Start answered after \([0-9]*s\): .*/answered after \1 with/p' "$TMP/test-daemon-availability.log") \`$(sed -n 's/^    A.s Start answered after [0-9]*s: \(guestctl: \)\{0,1\}//p' "$TMP/test-daemon-availability.log")\`; the guest defined again, nothing charged."
        echo "- Meanwhile B's list, status, create and Start: $(grep -c "^ok: B's\|^ok: B starts\|^ok: B creates\|^ok: root's list" "$TMP/test-daemon-availability.log") calls answered; $(sed -n "s/^    \(B's list took at most [0-9]* ms\).*/\1 (the whole guestctl process, in the nested VM)/p" "$TMP/test-daemon-availability.log")."
        echo "- Stop during the open ends the Start at once: $(grep -q '^ok: the Start says it was stopped' "$TMP/test-daemon-availability.log" && echo yes || echo '**no**'); the killed openers reaped, no zombie: $(grep -q '^ok: no opener lingers as a zombie' "$TMP/test-daemon-availability.log" && echo yes || echo '**no**')."
        echo "- Consoles: a second writer refused (Busy), read-only sessions see the output and type nothing, --force takes over; 8 clients per guest and 16 per user, then LimitExceeded; B's Start and console meanwhile: $(grep -c "^ok: .*\(console\|writer\|read-only\|sessions\|LimitExceeded\|17th\|9th\)" "$TMP/test-daemon-availability.log") checks passed."
        echo
        echo "\`tests/test-daemon-stop.sh\`: $(verdict test-daemon-stop), $(checks test-daemon-stop) checks. What \`guestctl stop\` printed:"
        echo
        sed -n 's/^    guestctl stop \(.*\) (\([0-9]*s\)): \(.*\)/- `stop \1` (\2): \3/p' "$TMP/test-daemon-stop.log"
        echo "- Waiting calls per user: $(sed -n 's/^    \(calls=.*\)/\1/p' "$TMP/test-daemon-stop.log" | head -n 1) (70 Stops pipelined on a guest that takes 20 s to stop; the bound is 64)."
        echo
        echo "## Confidentiality"
        echo
        echo "\`tests/test-daemon-confidentiality.sh\`: $(verdict test-daemon-confidentiality), $(checks test-daemon-confidentiality) checks: user B listening (subscribed; raw and eavesdrop match rules; gdbus monitor, dbus-monitor, busctl monitor) while A creates, starts, pauses, stops and removes a guest with a secret command line."
        echo
        grep -h "^ok: B" "$TMP/test-daemon-confidentiality.log" | grep -v "(exit [0-9]*)$" | sed 's/^ok: /- /'
        echo
        echo "## Fuzzing"
        echo
        sed -n '1p' build/fuzz/report.txt 2>/dev/null
        echo
        sed -n '2,$s/^/- /p' build/fuzz/report.txt 2>/dev/null
} >"$OUT"
echo "Wrote $OUT"
exit $status
