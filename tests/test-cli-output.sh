#!/usr/bin/env bash
# What guestctl prints and how it reads what it is given (issue 22), with
# the real guestd on a private bus, as the unprivileged test users and as
# root: list, quota, budget and status as tables or fields and as JSON
# (the keys scripts read), --no-legend, --json on every verb that prints
# (stop included), sizes with units (512M, 1.5G) and the refusals of bad
# ones (the nearest even MiB suggested), an admin naming a guest
# USER/NAME as list shows it, and errors that say what the user can do,
# never a D-Bus method's name.
# No guest runs here: no KVM is needed (a Start on a host without it is
# refused, which is all start --json needs).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon-lib.sh"
need_launcher
need_daemon_without_kvm
daemon_setup
write_policy '{"defaults": {"max_guests": 8, "max_running": 2, "max_vcpus": 4, "max_memory_mib": 4096}}'
daemon_start
K=$G/hello.elf
: >"$TMP/all-errors"
keep_err() { cat "$TMP/err" >>"$TMP/all-errors"; }

# --- sizes with units, and what is refused (before guestd is asked)
expect_exit 0 "create g1 --memory 1.5G" "${CTL_A[@]}" create g1 --kernel "$K" --memory 1.5G --vcpus 2
expect_exit 0 "create g2 --memory 512M" "${CTL_A[@]}" create g2 --kernel "$K" --memory 512M
expect_exit 0 "create g3 --memory 64 (MiB)" "${CTL_A[@]}" create g3 --kernel "$K" --memory 64
expect_exit 0 "g1's status --json" "${CTL_A[@]}" status g1 --json
check "1.5G is 1536 MiB" [ "$(json 'd["memory_mib"]' <"$TMP/out")" = 1536 ]
expect_exit 0 "g2's status --json" "${CTL_A[@]}" status g2 --json
check "512M is 512 MiB" [ "$(json 'd["memory_mib"]' <"$TMP/out")" = 512 ]
# refused WANT NAME PATTERN ARGS...: guestctl refuses, saying PATTERN.
refused() {
        local want=$1 name=$2 pattern=$3; shift 3
        expect_exit "$want" "$name" "${CTL_A[@]}" "$@" && expect_grep "$TMP/err" "$pattern" "$name: says '$pattern'"
        keep_err
}
refused 8 "--memory 3: odd" "not a whole, even number of MiB.*the nearest is 4M" create m --kernel "$K" --memory 3
refused 8 "--memory 1.3G: not whole MiB" "the nearest is 1332M" create m --kernel "$K" --memory 1.3G
refused 8 "--memory 0" "less than the 2 MiB a guest needs" create m --kernel "$K" --memory 0
refused 8 "--memory 2T: past the limit" "more than the 1048576 MiB" create m --kernel "$K" --memory 2T
refused 2 "--memory 2GB: which unit?" "write 2G or 2GiB" create m --kernel "$K" --memory 2GB
refused 2 "--memory lots: not a size" "takes a size such as 512M, 2G or 1.5GiB" create m --kernel "$K" --memory lots
refused 8 "--vcpus 0" "a guest has 1 to 64 vCPUs" create m --kernel "$K" --vcpus 0
refused 2 "--disk with an unknown option" "Unknown disk option 'format=qcow2'" create m --kernel "$K" --disk "$K,format=qcow2"
expect_exit 3 "m was never created" "${CTL_A[@]}" status m
keep_err

# --- list: a table, --no-legend, --json
expect_exit 0 "A's list" "${CTL_A[@]}" list
expect_grep "$TMP/out" "^NAME  *STATE  *VCPUS  *MEMORY$" "list: the header, no OWNER column for one's own guests"
expect_grep "$TMP/out" "^g1  *defined  *2  *1536 MiB$" "list: g1's row"
expect_exit 0 "A's list --no-legend" "${CTL_A[@]}" list --no-legend
check "list --no-legend: no header" bash -c '! grep -q "^NAME" "$1"' - "$TMP/out"
check "list --no-legend: the three rows" [ "$(grep -c defined "$TMP/out")" = 3 ]
expect_exit 0 "A's list --json" "${CTL_A[@]}" list --json
check "list --json: an array of the guests, with today's keys" \
        [ "$(json '[sorted(g.keys()) for g in d if g["name"] == "g1"][0]' <"$TMP/out")" = \
          "['memory_mib', 'name', 'object', 'owner', 'state', 'vcpus']" ]
check "list --json: numbers are numbers" [ "$(json '[(g["memory_mib"], g["vcpus"], g["owner"]) for g in d if g["name"] == "g1"][0]' <"$TMP/out")" = "(1536, 2, $UID_A)" ]
expect_exit 0 "root's list" "${CTL_ROOT[@]}" list
expect_grep "$TMP/out" "^NAME  *OWNER  *STATE  *VCPUS  *MEMORY$" "root's list: an OWNER column"
expect_grep "$TMP/out" "^g1  *$USER_A  *defined  *2  *1536 MiB$" "root's list names A"

# --- an admin types what list shows: USER/NAME as well as UID/NAME
expect_exit 0 "root's status $USER_A/g1" "${CTL_ROOT[@]}" status "$USER_A/g1"
expect_grep "$TMP/out" "Owner: $USER_A (uid $UID_A)" "status USER/NAME finds A's guest"
expect_exit 0 "root's status $UID_A/g1" "${CTL_ROOT[@]}" status "$UID_A/g1"
expect_exit 3 "status of a user that does not exist" "${CTL_ROOT[@]}" status "no-such-user-here/g1"
expect_grep "$TMP/err" "There is no user 'no-such-user-here'" "the unknown user is named"
keep_err

# --- status: fields
expect_exit 0 "A's status g1" "${CTL_A[@]}" status g1
expect_grep "$TMP/out" "^ *State: defined$" "status: state"
expect_grep "$TMP/out" "^ *Memory: 1536 MiB$" "status: memory"
expect_grep "$TMP/out" "^ *Kernel: $K$" "status: kernel"
expect_grep "$TMP/out" "^ *Handle: [0-9a-f]\{32\}$" "status: handle"
expect_exit 0 "status --no-legend is accepted" "${CTL_A[@]}" status g1 --no-legend

# --- quota and budget: a table and fields, --no-legend, --json
expect_exit 0 "A's quota" "${CTL_A[@]}" quota
expect_grep "$TMP/out" "^RESOURCE  *USED  *LIMIT$" "quota: the header"
expect_grep "$TMP/out" "^guests  *3  *8$" "quota: 3 of 8 guests"
expect_grep "$TMP/out" "Host page tables: budget .* MiB" "quota: the host's page tables"
expect_exit 0 "A's quota --no-legend" "${CTL_A[@]}" quota --no-legend
check "quota --no-legend: no header" bash -c '! grep -q "^RESOURCE" "$1"' - "$TMP/out"
expect_grep "$TMP/out" "^guests  *3  *8$" "quota --no-legend: the rows"
expect_exit 0 "A's quota --json" "${CTL_A[@]}" quota --json
check "quota --json: resources {used, limit}, and page_tables" \
        [ "$(json '(d["guests"]["used"], d["guests"]["limit"], d["memory_mib"]["limit"], "budget_bytes" in d["page_tables"])' <"$TMP/out")" = \
          "(3, 8, 4096, True)" ]
expect_exit 0 "A's budget" "${CTL_A[@]}" budget
expect_grep "$TMP/out" "Host page tables: budget .* MiB" "budget: the budget"
expect_grep "$TMP/out" "KVM's MMU: .*; caps \(take\|have no\) effect" "budget: the MMU"
expect_exit 0 "root sets the budget to 1G" "${CTL_ROOT[@]}" budget 1G --json
check "budget 1G is 1024 MiB" [ "$(json 'd["budget_bytes"]' <"$TMP/out")" = $((1024 * 1024 * 1024)) ]
expect_exit 8 "budget 1.5M: not whole MiB" "${CTL_ROOT[@]}" budget 1.5M
keep_err
expect_exit 0 "root: the policy's budget again" "${CTL_ROOT[@]}" budget policy

# --- --json on every verb that prints; console refuses it
expect_exit 0 "create --json" "${CTL_A[@]}" create g4 --kernel "$K" --json
check "create --json: name and object" [ "$(json 'sorted(d.keys())' <"$TMP/out")" = "['name', 'object']" ]
expect_exit 0 "log --json" "${CTL_A[@]}" log g4 --json
check "log --json: name and log" [ "$(json 'sorted(d.keys())' <"$TMP/out")" = "['log', 'name']" ]
for verb in stop start pause unpause suspend resume remove; do
        "${CTL_A[@]}" "$verb" g4 --json --no-legend >"$TMP/out" 2>"$TMP/err"
        rc=$?
        keep_err
        [ $rc != 2 ] && ok "$verb takes --json and --no-legend (exit $rc)" || fail "$verb --json: a usage error: $(cat "$TMP/err")"
done
expect_exit 2 "console does not take --json" "${CTL_A[@]}" console g1 --json
keep_err

# --- errors say what the user can do
expect_exit 3 "status of a guest A does not have" "${CTL_A[@]}" status nope
expect_grep "$TMP/err" "You have no guest named 'nope'; \`guestctl list\` shows yours." "NoSuchGuest in guestctl's words"
keep_err
expect_exit 3 "stop of a guest A does not have" "${CTL_A[@]}" stop nope
keep_err
expect_exit 7 "no guestd on the bus" "${CTL_A[@]}" --bus "unix:path=$DTMP/nonexistent" list
keep_err
check "no error names a D-Bus method" bash -c '! grep -E "ListGuests|GetGuest|CreateGuest|RemoveGuest|GetQuota|GetAll|OpenConsole|GetConsoleLog|SetPageTableBudget" "$1"' - "$TMP/all-errors"
grep -q . "$TMP/all-errors" && sed 's/^/    /' "$TMP/all-errors" | sort -u | head -n 40
finish
