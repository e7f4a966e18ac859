# guestd-test: kvm
# Bad requests get a named error and change nothing: guest names that are
# not names, impossible memory and vCPU counts, malformed or unknown
# configuration (sent raw with busctl, as any client could), and files the
# caller could not read themselves (the daemon must not read them for the
# caller with root's rights).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon
daemon_setup
write_policy '{"defaults": {"max_guests": 16, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 256}}'
daemon_start

K=$G/hello.elf
# refused WANT_EXIT NAME CMD...: the call fails with WANT_EXIT and a message.
refused() {
        local want=$1 name=$2; shift 2
        expect_exit "$want" "$name" "$@" && check "$name: says why" grep -q '^guestctl: ..........' "$TMP/err"
        echo "    $(head -c 300 "$TMP/err")"
}

# --- names
long=$(printf 'x%.0s' $(seq 300))
for n in "a/b" ".." "." "../etc" "" "$long" ".hidden" "-dash" "sp ace" "tab	x" "ü" 'a$b'; do
        refused 8 "name '${n:0:20}' is InvalidArgument" "${CTL_A[@]}" create --kernel "$K" --memory 16 -- "$n"
done
expect_exit 0 "a 64-character name is fine" "${CTL_A[@]}" create "$(printf 'n%.0s' $(seq 64))" --kernel "$K" --memory 16
refused 8 "a 65-character name is InvalidArgument" "${CTL_A[@]}" create "$(printf 'n%.0s' $(seq 65))" --kernel "$K" --memory 16
for n in "a/b" ".." ""; do
        expect_exit 0 "status of '$n' fails with a named error" bash -c '! "$@"' - "${CTL_A[@]}" status -- "$n"
        check "status of '$n': exit 3 or 8" grep -q '^guestctl: ' "$TMP/err"
done

# --- memory and vCPUs
refused 8 "memory 0" "${CTL_A[@]}" create m0 --kernel "$K" --memory 0
refused 8 "memory 1 (below the minimum)" "${CTL_A[@]}" create m1 --kernel "$K" --memory 1
refused 8 "memory 3 (odd)" "${CTL_A[@]}" create m3 --kernel "$K" --memory 3
refused 8 "memory 2 TiB (huge)" "${CTL_A[@]}" create mhuge --kernel "$K" --memory 2097152
refused 8 "memory 2^63" "${CTL_A[@]}" create mhuge2 --kernel "$K" --memory 9223372036854775808
expect_exit 2 "memory past 2^64 is guestctl's own usage error" "${CTL_A[@]}" create mhuge3 --kernel "$K" --memory 99999999999999999999
refused 8 "vcpus 0" "${CTL_A[@]}" create v0 --kernel "$K" --memory 16 --vcpus 0
refused 8 "vcpus 1000" "${CTL_A[@]}" create v1000 --kernel "$K" --memory 16 --vcpus 1000
refused 8 "disk with an over-long id" "${CTL_A[@]}" create dlong --kernel "$K" --memory 16 --disk "$G/hello.elf,ro,id=$(printf 'i%.0s' $(seq 30))"

# --- raw configuration over the bus
raw() { # raw NAME CONFIG: CreateGuest as A with busctl; must fail.
        expect_exit 1 "raw config: $1" "${AS_A[@]}" busctl --address="$BUS" call org.guestd1 /org/guestd1 org.guestd1.Manager CreateGuest ss "$1" "$2"
        expect_grep "$TMP/err" "InvalidArgument\|nvalid\|must\|nknown\|required\|JSON" "raw config: $1: InvalidArgument with a reason"
        echo "    $(head -c 300 "$TMP/err")"
}
raw json1 '{not json'
raw json2 '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1'
raw json3 '[]'
raw json4 '"a string"'
raw json5 ''
raw unknown '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "bogus": true}'
expect_grep "$TMP/err" "bogus" "the unknown key is named"
raw relative '{"kernel": "hello.elf", "memory_mib": 16, "vcpus": 1}'
raw kernelnum '{"kernel": 7, "memory_mib": 16, "vcpus": 1}'
raw nokernel '{"memory_mib": 16, "vcpus": 1}'
raw memstr '{"kernel": "'"$K"'", "memory_mib": "16", "vcpus": 1}'
raw memneg '{"kernel": "'"$K"'", "memory_mib": -16, "vcpus": 1}'
raw memfrac '{"kernel": "'"$K"'", "memory_mib": 16.5, "vcpus": 1}'
raw disks '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "disks": [{"path": "'"$K"'", "colour": "red"}]}'
raw nine '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "disks": [{"path":"/a"},{"path":"/a"},{"path":"/a"},{"path":"/a"},{"path":"/a"},{"path":"/a"},{"path":"/a"},{"path":"/a"},{"path":"/a"}]}'
big=$("$PY" -c 'print("{\"kernel\": \"/x\", \"memory_mib\": 16, \"vcpus\": 1, \"cmdline\": \"" + "a" * 70000 + "\"}")')
raw huge "$big"
# The command line's limit counts what the launcher appends for each disk
# (common/guest-limits.h): 4096 bytes used to be accepted here and then
# failed every Start, as did a 4095-byte one with a disk.
line4096=$("$PY" -c 'print("a" * 4096)')
raw cmdline4096 '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "cmdline": "'"$line4096"'"}'
expect_grep "$TMP/err" "cmdline" "the refusal names the command line"
line4095=$("$PY" -c 'print("a" * 4095)')
truncate -s 1M "$G/cmdline.img" && chmod 0666 "$G/cmdline.img"
raw cmdline4095disk '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "cmdline": "'"$line4095"'", "cmdline_devices": true, "disks": [{"path": "'"$G/cmdline.img"'"}]}'
expect_grep "$TMP/err" "with 1 disk(s) on the command line it must be at most" "the refusal says the disks count"
raw cmdline4095noacpi '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "cmdline": "'"$line4095"'", "acpi": false, "disks": [{"path": "'"$G/cmdline.img"'"}]}'
expect_grep "$TMP/err" "with 1 disk(s) on the command line it must be at most" "without ACPI too"
raw nodevices '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "acpi": false, "cmdline_devices": false}'
expect_grep "$TMP/err" "without ACPI the command line is the only place" "no ACPI and no command-line devices: refused, saying why"
raw acpinotbool '{"kernel": "'"$K"'", "memory_mib": 16, "vcpus": 1, "acpi": "yes"}'

expect_exit 0 "list after all refusals" "${CTL_A[@]}" list --json
check "only the 64-character name was created" [ "$(json 'len(d)' <"$TMP/out")" = 1 ]
check "the state directory holds one guest record" [ "$(find "$DTMP/state" -type f -name "${UID_A}_*" | wc -l)" -le 1 ]

# --- files A cannot read: a root-only kernel, a root-only disk, a disk A may
# read but not write, a kernel that does not exist, a directory. CreateGuest
# opens them as A, as every Start does, and refuses each, naming the file
# (tests/test-daemon-create-checks.sh checks the sentences): the guest is
# never created, let alone run.
install -m 0600 "$G/hello.elf" "$G/root-only.elf"
install -m 0600 /dev/null "$G/root-only.img" && truncate -s 1M "$G/root-only.img"
install -m 0644 /dev/null "$G/read-only.img" && truncate -s 1M "$G/read-only.img"
unreadable() { # unreadable NAME CREATE-ARGS...
        local name=$1; shift
        expect_exit 0 "$name: create is refused" bash -c '! "$@"' - "${CTL_A[@]}" create "$name" "$@"
        echo "    $(head -c 300 "$TMP/err")"
        check "$name: the refusal names a reason" grep -q '^guestctl: .' "$TMP/err"
        check "$name: no such guest" [ -z "$(guest_state a "$name")" ]
        check "$name: the message does not say it started" bash -c '! grep -qi "Hello from" "$1"' - "$TMP/err"
}
unreadable rootkernel --kernel "$G/root-only.elf" --memory 16
unreadable nokernel --kernel "$G/does-not-exist.elf" --memory 16
unreadable rootdisk --kernel "$G/hello.elf" --memory 16 --disk "$G/root-only.img"
unreadable rwdisk --kernel "$G/hello.elf" --memory 16 --disk "$G/read-only.img"
unreadable dirkernel --kernel "$G" --memory 16
expect_exit 0 "A's guest log of rootkernel is empty or absent" bash -c '! "$@" log rootkernel 2>/dev/null | grep -q "Hello from"' - "${CTL_A[@]}"
check "no launcher is left running" [ -z "$(launcher_pids)" ]
# The same root-only kernel works for root (it can read it).
expect_exit 0 "root creates a guest from the root-only kernel" "${CTL_ROOT[@]}" create rootok --kernel "$G/root-only.elf" --memory 16
expect_exit 0 "root starts it" "${CTL_ROOT[@]}" start rootok
check "root's guest ran and stopped" wait_state root rootok stopped 20
# The longest command line CreateGuest accepts with a disk starts: with
# the disk on the command line, and (the default) with it only in ACPI.
longest=$("$PY" -c 'print("a" * (4095 - 48))')
expect_exit 0 "A creates a guest with the longest command line and a disk on it" "${CTL_A[@]}" create longline --kernel "$G/hello.elf" \
        --memory 16 --cmdline "$longest" --disk "$G/cmdline.img" --cmdline-devices
expect_exit 0 "and it starts" "${CTL_A[@]}" start longline
check "it ran and stopped" wait_state a longline stopped 20
expect_exit 0 "A creates a guest with a 4095-byte command line and a disk in ACPI only" "${CTL_A[@]}" create acpiline --kernel "$G/hello.elf" \
        --memory 16 --cmdline "$line4095" --disk "$G/cmdline.img"
expect_exit 0 "A's ACPI-only guest's configuration says so" "${CTL_A[@]}" status acpiline --json
expect_grep "$TMP/out" '"acpi\\*": *true' "acpi is on"
expect_grep "$TMP/out" '"cmdline_devices\\*": *false' "cmdline_devices is off"
expect_exit 0 "and it starts" "${CTL_A[@]}" start acpiline
check "it ran and stopped" wait_state a acpiline stopped 20
expect_exit 0 "root's guest log" "${CTL_ROOT[@]}" log rootok
expect_grep "$TMP/out" "Hello from" "root's guest printed"
check "guestd is alive after all of it" kill -0 "$GUESTD_PID"

# A launcher uid range an account owns part of: refused at start, naming
# the account (found by enumerating the accounts once, not by a lookup per
# uid of the range).
uid_a=$(id -u "$USER_A")
expect_exit 1 "a second guestd with launcher uids around $USER_A's" "$GUESTD" --bus="$BUS" --state-dir "$DTMP/state2" \
        --runtime-dir "$DTMP/run2" --policy "$DTMP/policy.json" --launcher "$LAUNCHER_ABS" --launcher-uids "$((uid_a - 5))-$((uid_a + 5))"
expect_grep "$TMP/err" "Launcher uid [0-9]* belongs to the account '[^']*'" "it names an account of the range"
finish
