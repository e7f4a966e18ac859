# guestd-test: kvm
# A launcher taken over by its guest (issue 20, items 4, 6, 7): guestd runs
# tests/hostile-launcher in the real launcher's place, one scenario per
# guest (its command line's hostile=NAME). Whatever it sends, guestd ends
# it as a protocol error and goes on: no forged or flooded log line, no
# invalid UTF-8 or terminal escape on the bus, no record too large to load,
# no other user's call held up; a launcher whose record could not be
# loaded is named loudly and its uid is never handed to another launcher.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_daemon
HOSTILE=$(abspath "$B/tests/hostile-launcher")
[ -x "$HOSTILE" ] || skip "$HOSTILE is not built"
LAUNCHER_ABS=$HOSTILE
daemon_setup
write_policy '{"defaults": {"max_guests": 32, "max_running": 4, "max_vcpus": 8, "max_memory_mib": 1024}}'
daemon_start

# reason_of NAME: A's guest's state reason.
reason_of() { ctl_a status "$1" 2>/dev/null | sed -n 's/^ *Reason: //p'; }
# no_line PATTERN FILE
no_line() { ! grep -q -- "$1" "$2"; }
# A barrier, and a check that guestd answers: root's GetManagedObjects
# (every guest's properties on the bus at once) and A's list.
bus_whole() {
        busctl --address="$BUS" call org.guestd1 /org/guestd1 org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null &&
                ctl_a list >/dev/null
}

# --- each malformed message ends its launcher as a protocol error
for s in error-long error-forge error-utf8 exit-utf8 exit-escape asked-forge oversized garbage no-type wrong-dir out-of-order fd-flood \
        violation-bad supervise-fake mmu-set-bad poweroff-bad; do
        expect_exit 0 "A creates h-$s" "${CTL_A[@]}" create "h-$s" --kernel "$G/hello.elf" --memory 16 --cmdline "hostile=$s"
        # The Start may be answered before or after the launcher's misstep.
        expect_exit 0 "A starts h-$s (it says 'running' first)" "${CTL_A[@]}" start "h-$s"
        check "h-$s ends as crashed" wait_state a "h-$s" crashed 30
        r=$(reason_of "h-$s")
        case "$s" in
        asked-forge) ;; # shutdown_asked is allowed only while stopping: "unexpected"
        *) check "h-$s: the reason names the protocol error ($r)" grep -q "protocol" <<<"$r" ;;
        esac
        check "guestd answers everyone after h-$s" bus_whole
done
check "guestd is alive" kill -0 "$GUESTD_PID"
check "no forged line in guestd's log" no_line "^<0>guestd: Guest 0_prod" "$DTMP/guestd.log"
check "no raw ESC from a launcher in guestd's log" no_line $'\e' "$DTMP/guestd.log"
check "no 65000-byte line in guestd's log" [ "$(awk 'length > 4096' "$DTMP/guestd.log" | wc -l)" = 0 ]
check "every record fits what the loader reads" [ "$(find "$DTMP/state/guests" -name '*.json' -size +80k | wc -l)" = 0 ]
expect_exit 0 "root's status of h-exit-escape" "${CTL_ROOT[@]}" status "$UID_A/h-exit-escape"
check "no ESC byte on the bus" no_line $'\e' "$TMP/out"

# --- a restart loads every record again, each guest's quota still counted
daemon_stop
daemon_start
check "no record was ignored at start" no_line "ignoring it" "$DTMP/guestd.log"
expect_exit 0 "A's list after the restart" "${CTL_A[@]}" list --json
check "A still has all 16 guests" [ "$(json 'len(d)' <"$TMP/out")" = 16 ]

# --- floods: B's calls are answered meanwhile, the log stays bounded
expect_exit 0 "B creates bystander" "${CTL_B[@]}" create bystander --kernel "$G/hello.elf" --memory 16
lines_before=$(wc -l <"$DTMP/guestd.log")
for s in error-flood state-flood; do
        expect_exit 0 "A creates h-$s" "${CTL_A[@]}" create "h-$s" --kernel "$G/hello.elf" --memory 16 --cmdline "hostile=$s"
        expect_exit 0 "A starts h-$s" "${CTL_A[@]}" start "h-$s"
done
slow=0
for i in $(seq 10); do
        TEST_TIMEOUT=5 expect_exit 0 "B's status while both flood ($i)" "${CTL_B[@]}" status bystander >/dev/null || slow=$((slow + 1))
        sleep 1
done
check "B was answered within 5 s every time during the floods" [ "$slow" = 0 ]
check "guestd throttles the flooding launchers" grep -q "reading it no faster than that" "$DTMP/guestd.log"
check "the error flood's lines are suppressed past the budget" grep -q "more lines suppressed" "$DTMP/guestd.log"
flood_lines=$(tail -n +"$lines_before" "$DTMP/guestd.log" | grep -c "launcher: flood")
check "at most the log budget of flood lines a window ($flood_lines in ~12 s)" [ "$flood_lines" -le 150 ]
for s in error-flood state-flood; do
        expect_exit 0 "A stops h-$s" "${CTL_A[@]}" stop --force "h-$s"
done

# --- a launcher whose record guestd cannot load: named, its uid never reused
daemon_stop
LAUNCHER_UID_MAX=$LAUNCHER_UID_MIN # one launcher uid: the next Start would take the orphan's
daemon_start
expect_exit 0 "A creates h-stay" "${CTL_A[@]}" create h-stay --kernel "$G/hello.elf" --memory 16 --cmdline "hostile=stay"
expect_exit 0 "A starts h-stay" "${CTL_A[@]}" start h-stay
check "h-stay runs" wait_state a h-stay running 20
stay_pid=$(launcher_pids | head -n 1)
check "its launcher runs as the one launcher uid" [ "$(ps -o uid= -p "$stay_pid" | tr -d ' ')" = "$LAUNCHER_UID_MIN" ]
daemon_stop
# A record past what the loader reads (an attacker's or a disk's doing).
head -c 100000 /dev/zero | tr '\0' ' ' >>"$DTMP/state/guests/${UID_A}_h-stay.json"
daemon_start
check "guestd ignores the record, by name" grep -q "${UID_A}_h-stay.json is larger than any guestd writes" "$DTMP/guestd.log"
check "guestd names the launcher it cannot account for" \
        grep -q "Process $stay_pid runs as launcher uid $LAUNCHER_UID_MIN but belongs to no guest" "$DTMP/guestd.log"
check "at error priority" grep -q "^<3>guestd: Process $stay_pid runs as launcher uid" "$DTMP/guestd.log"
expect_exit 0 "A creates h-next" "${CTL_A[@]}" create h-next --kernel "$G/hello.elf" --memory 16 --cmdline "hostile=stay"
expect_exit 1 "A's Start of h-next finds no free launcher uid (the orphan holds the only one)" "${CTL_A[@]}" start h-next
check "no second launcher under the orphan's uid" [ "$(launcher_pids | wc -l)" = 1 ]
kill -KILL "$stay_pid"
for i in $(seq 50); do [ "$(launcher_pids | wc -l)" = 0 ] && break; sleep 0.1; done
expect_exit 0 "once the orphan is gone, h-next starts" "${CTL_A[@]}" start h-next
expect_exit 0 "A stops h-next" "${CTL_A[@]}" stop --force h-next

finish
