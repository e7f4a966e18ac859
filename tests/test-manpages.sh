# The man pages an admin reads (guestctl(1), guestd(8), guestd-launcher(8),
# guestd-policy.json(5)) render without a warning and say what the code
# does, so that they cannot silently go stale:
#  - every long option that `guestd --help`, `guestd-launcher --help`,
#    `guestctl --help` and `guestctl VERB --help` (each verb) print, and
#    every option in guestd's and the launcher's getopt tables, appears in
#    the program's page;
#  - every key daemon/policy.c accepts, top-level and nested, is an entry
#    of guestd-policy.json(5), and its host_shutdown values appear there;
#    the key list kept here is checked against policy.c both ways;
#  - every system call and ioctl request of the launcher's seccomp
#    allowlist (launcher/launcher-seccomp.c) is named in guestd-launcher(8);
#  - every exit status of common/guest-exit.h and of guestctl
#    (common/bus-api.h) is an entry of the page's EXIT STATUS.
# Needs groff (Debian: groff-base) and the programs in $B; no KVM.
source "$(dirname "$0")/lib.sh"

PAGES=(cli/guestctl.1 daemon/guestd.8 launcher/guestd-launcher.8 policy/guestd-policy.json.5)

if ! command -v groff >/dev/null 2>&1; then
        fail "groff is not installed: the man pages cannot be checked (Debian package groff-base; make deps)"
        finish
fi

# render PAGE: plain text as man shows it, but every paragraph on one line
# and nothing hyphenated, so that an option or key is never split.
render() {
        groff -man -Tascii -rLL=2000n -rHY=0 -P-cbou "$1"
}

# --- (a) each page renders without a warning, as man would show it
for page in "${PAGES[@]}"; do
        if [ ! -f "$page" ]; then
                fail "$page is missing"
                continue
        fi
        base=$(basename "$page")
        want_title=${base%.*}
        want_section=${base##*.}
        th=$(grep -m1 '^\.TH ' "$page" | awk '{ print $2, $3 }')
        if [ "$th" = "${want_title^^} $want_section" ]; then
                ok "$page: .TH ${want_title^^} $want_section"
        else
                fail "$page: .TH says '$th', wanted '${want_title^^} $want_section'"
        fi
        # groff's default device (PostScript: it knows every font name),
        # and the two man uses on a terminal.
        for dev in ps utf8 ascii; do
                groff -man -T"$dev" -ww -z "$page" >"$TMP/out" 2>"$TMP/err"
                rc=$?
                if [ $rc = 0 ] && [ ! -s "$TMP/err" ]; then
                        ok "$page renders (-T$dev) without warnings"
                else
                        fail "$page: groff -man -T$dev -ww exits $rc with:"
                        sed 's/^/    /' "$TMP/err" | head -n 20 >&2
                fi
        done
        render "$page" >"$TMP/$base.txt" 2>/dev/null
done

# long_options: the long options in a help text or usage line (stdin), one
# a line; --[no-]NAME counts as --NAME and --no-NAME.
long_options() {
        grep -oE -- '--(\[no-\])?[a-z][a-z0-9-]*' | sed -E 's/^--\[no-\](.*)$/--\1\n--no-\1/' | sort -u
}

# page_has TEXT WORD: WORD appears in the rendered TEXT as a whole word
# (--cmdline is not found in --cmdline-devices).
page_has() {
        grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$1"
}

# check_options WHAT PAGE: every option on stdin is in PAGE. (Not at the
# end of a pipe: a subshell's fail would not count.)
check_options() {
        local what=$1 page=$2 text opt n=0 missing=()
        text="$TMP/$(basename "$2").txt"
        while read -r opt; do
                n=$((n + 1))
                page_has "$text" "$opt" || missing+=("$opt")
        done
        if [ $n = 0 ]; then
                fail "$what: no options found at all (has the help text's format changed?)"
        elif [ ${#missing[@]} = 0 ]; then
                ok "$what: all $n long options are in $page"
        else
                fail "$what: ${missing[*]} not in $page"
        fi
}

# help_of NAME ARGS...: the help text of $B/NAME ARGS (exit 0, not empty).
help_of() {
        local name=$1; shift
        if [ ! -x "$B/$name" ]; then
                fail "$B/$name is not built"
                return 1
        fi
        if ! "$B/$name" "$@" >"$TMP/help" 2>&1 </dev/null || [ ! -s "$TMP/help" ]; then
                fail "$name $*: no help (exit status or empty output)"
                sed 's/^/    /' "$TMP/help" | head -n 10 >&2
                return 1
        fi
        cat "$TMP/help"
}

# --- (b) every long option the programs show is in their page
if help_of guestd --help >"$TMP/guestd.help"; then
        check_options "guestd --help" daemon/guestd.8 < <(long_options <"$TMP/guestd.help")
fi
if help_of guestd-launcher --help >"$TMP/launcher.help"; then
        check_options "guestd-launcher --help" launcher/guestd-launcher.8 < <(long_options <"$TMP/launcher.help")
fi
if help_of guestctl --help >"$TMP/guestctl.help"; then
        check_options "guestctl --help" cli/guestctl.1 < <(long_options <"$TMP/guestctl.help")
        # The verbs: the first word of each line of the "Verbs:" list.
        mapfile -t verbs < <(sed -n '/^Verbs:/,/^$/{/^  [a-z]/p}' "$TMP/guestctl.help" | awk '{ print $1 }')
        if [ ${#verbs[@]} -lt 10 ]; then
                fail "guestctl --help lists ${#verbs[@]} verbs (${verbs[*]}); has its format changed?"
        fi
        for verb in "${verbs[@]}"; do
                if help_of guestctl "$verb" --help >"$TMP/verb.help"; then
                        check_options "guestctl $verb --help" cli/guestctl.1 < <(long_options <"$TMP/verb.help")
                fi
        done
fi

# Options a program accepts but its help might not show: the getopt tables.
# (guestctl's is not checked: it accepts --acpi, the default, which neither
# its help nor guestctl(1) mentions.)
options_in_source() {
        grep -oE '\{ "[a-z][a-z0-9-]*", (no|required|optional)_argument' "$1" | sed -E 's/^\{ "([^"]+)".*/--\1/' | sort -u
}
check_options "daemon/main.c's option table" daemon/guestd.8 < <(options_in_source daemon/main.c)
check_options "launcher/options.c's option table" launcher/guestd-launcher.8 < <(options_in_source launcher/options.c)

# --- (c) every key daemon/policy.c accepts is an entry of guestd-policy.json(5)
POLICY_KEYS=(defaults groups users host_shutdown page_table_budget timeouts
             max_guests max_running max_vcpus max_memory_mib max_snapshot_mib page_table_weight
             open_files stop)
POLICY_VALUES=(suspend stop)
# The keys policy.c compares a key with (sections, timeouts) and its table
# of limits; the values it compares host_shutdown's with.
{
        grep -oE 'strcmp\(key, "[^"]+"\)' daemon/policy.c | sed -E 's/.*"([^"]+)".*/\1/'
        sed -n '/policy_field_table\[.*= {/,/^};/p' daemon/policy.c | grep -oE '\[POLICY_[A-Z_]+\] = "[^"]+"' |
                sed -E 's/.*"([^"]+)"/\1/'
} | sort -u >"$TMP/keys.code"
printf '%s\n' "${POLICY_KEYS[@]}" | sort -u >"$TMP/keys.test"
grep -oE 'strcmp\(v, "[^"]+"\)' daemon/policy.c | sed -E 's/.*"([^"]+)".*/\1/' | sort -u >"$TMP/values.code"
printf '%s\n' "${POLICY_VALUES[@]}" | sort -u >"$TMP/values.test"
if [ ! -s "$TMP/keys.code" ]; then
        fail "no keys found in daemon/policy.c (has the way it compares keys changed? update this test)"
elif cmp -s "$TMP/keys.code" "$TMP/keys.test"; then
        ok "the test's policy keys are those of daemon/policy.c ($(wc -l <"$TMP/keys.code"))"
else
        fail "policy keys: daemon/policy.c and this test disagree (< policy.c, > test); update POLICY_KEYS and the page"
        diff "$TMP/keys.code" "$TMP/keys.test" | grep '^[<>]' | sed 's/^/    /' >&2
fi
if cmp -s "$TMP/values.code" "$TMP/values.test"; then
        ok "the test's host_shutdown values are those of daemon/policy.c"
else
        fail "host_shutdown values: daemon/policy.c and this test disagree (< policy.c, > test)"
        diff "$TMP/values.code" "$TMP/values.test" | grep '^[<>]' | sed 's/^/    /' >&2
fi
# An entry: the key begins a line of the rendered page (a .TP tag), not
# merely a word somewhere in the prose.
POLICY_TXT=$TMP/guestd-policy.json.5.txt
missing=()
while read -r key; do
        grep -qE "^ +$key( |\$)" "$POLICY_TXT" || missing+=("$key")
done < <(sort -u "$TMP/keys.code" "$TMP/keys.test")
if [ ${#missing[@]} = 0 ]; then
        ok "every policy key is an entry of guestd-policy.json.5"
else
        fail "policy keys without an entry in guestd-policy.json.5: ${missing[*]}"
fi
missing=()
while read -r value; do
        grep -qF "\"$value\"" "$POLICY_TXT" || missing+=("\"$value\"")
done < <(sort -u "$TMP/values.code" "$TMP/values.test")
if [ ${#missing[@]} = 0 ]; then
        ok "every host_shutdown value is in guestd-policy.json.5"
else
        fail "host_shutdown values not in guestd-policy.json.5: ${missing[*]}"
fi

# --- the launcher's seccomp allowlist is in guestd-launcher(8)
LAUNCHER_TXT=$TMP/guestd-launcher.8.txt
{
        sed -n '/launcher_seccomp_allowlist\[\] = {/,/^};/p' launcher/launcher-seccomp.c | grep -oE '^ *\{ "[a-z0-9_]+",' |
                sed -E 's/.*"([^"]+)".*/\1/'
        sed -n '/ioctl_request_names\[\] = {/,/};/p' launcher/launcher-seccomp.c | grep -oE '"KVM_[A-Z0-9_]+"' | tr -d '"'
        grep -oE 'SCMP_ACT_NOTIFY.*|arg_equals\(1, KVM_[A-Z0-9_]+\)' launcher/launcher-seccomp.c | grep -oE 'KVM_[A-Z0-9_]+'
} | sort -u >"$TMP/seccomp"
n=$(wc -l <"$TMP/seccomp")
missing=()
while read -r call; do
        page_has "$LAUNCHER_TXT" "$call" || missing+=("$call")
done <"$TMP/seccomp"
if [ "$n" -lt 30 ]; then
        fail "only $n system calls and requests found in launcher/launcher-seccomp.c (has its format changed? update this test)"
elif [ ${#missing[@]} = 0 ]; then
        ok "all $n system calls and ioctl requests of the seccomp allowlist are in guestd-launcher.8"
else
        fail "seccomp allowlist entries not in guestd-launcher.8: ${missing[*]}"
fi

# --- exit statuses: each is an entry of the page's EXIT STATUS section
# check_statuses WHAT PAGE STATUS...
check_statuses() {
        local what=$1 page=$2 text s missing=()
        text="$TMP/$(basename "$2").txt"
        shift 2
        sed -n '/^EXIT STATUS$/,/^[A-Z][A-Z ]*$/p' "$text" >"$TMP/exit.txt"
        for s in "$@"; do
                grep -qE "^ +$s( |\$)" "$TMP/exit.txt" || missing+=("$s")
        done
        if [ $# = 0 ]; then
                fail "$what: no exit statuses found"
        elif [ ${#missing[@]} = 0 ]; then
                ok "$what: all $# exit statuses are in $page's EXIT STATUS"
        else
                fail "$what: exit statuses ${missing[*]} not in $page's EXIT STATUS"
        fi
}
mapfile -t statuses < <(grep -oE '^ *GUEST_EXIT_[A-Z_]+ = [0-9]+' common/guest-exit.h | awk '{ print $3 }')
check_statuses "common/guest-exit.h" launcher/guestd-launcher.8 "${statuses[@]}"
mapfile -t statuses < <(grep -oE '^ *GUESTCTL_EXIT_[A-Z_]+ = [0-9]+' common/bus-api.h | awk '{ print $3 }')
check_statuses "guestctl's exit statuses (common/bus-api.h)" cli/guestctl.1 "${statuses[@]}"

finish
