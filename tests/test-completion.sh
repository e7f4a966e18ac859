#!/usr/bin/env bash
# Shell completion for guestctl (packaging/completion/): bash, zsh, fish.
# Runs on the host, without guestd: a fake guestctl first on PATH answers
# `list --json` with a fixed list (or fails, as guestctl does when guestd is
# not reachable) and records its arguments, so that a --bus on the command
# line can be seen passed on.
#
# The verbs and options come from $B/guestctl itself: its --help and every
# `VERB --help` (what each completion must know, so that none goes stale),
# and which options each verb accepts is asked of its parser (an option a
# verb does not take is a usage error, exit 2, before any bus is touched).
# Each shell's completion must offer a verb exactly those long options.
#
# bash: the completion function called with COMP_WORDS, COMP_CWORD,
# COMP_LINE and COMP_POINT set as bash sets them. zsh: `zsh -n`, the guest
# name helper, and real completions in an interactive zsh on a
# pseudo-terminal (zsh/zpty) with compadd wrapped to record the matches.
# fish: `fish --no-execute`, and `complete -C`. A shell that is not
# installed makes the test a skip (Debian: zsh, fish), after the others ran.
source "$(dirname "$0")/lib.sh"
GUESTCTL=$B/guestctl
COMPLETION=packaging/completion
[ -x "$GUESTCTL" ] || { fail "$GUESTCTL is not built"; finish; }
missing=()

# ------------------------------------------------------------ fixtures

# The fake guestctl: FAKE_GUESTCTL_MODE (else the contents of $TMP/mode)
# ok (json-c's pretty layout, as guestctl prints it), compact (one line),
# fail (guestd not reachable), garbage (not JSON). Every call appends its
# arguments to $TMP/args.
mkdir -p "$TMP/bin" "$TMP/files/dir"
touch "$TMP/files/vmlinuz" "$TMP/files/initrd.img"
ME=$(id -u)
OTHER=$((ME + 1000))
cat >"$TMP/list.json" <<EOF
[
  {
    "name": "web",
    "object": "/org/guestd1/guest/_31000_5fweb",
    "state": "running",
    "owner": $ME,
    "memory_mib": 64,
    "vcpus": 1
  },
  {
    "name": "we\\"ird",
    "object": "/org/guestd1/guest/x",
    "state": "stopped",
    "owner": $ME,
    "memory_mib": 64,
    "vcpus": 1
  },
  {
    "name": "db-1.test",
    "object": "/org/guestd1/guest/_31000_5fdb_2d1_2etest",
    "state": "stopped",
    "owner": $ME,
    "memory_mib": 128,
    "vcpus": 2
  },
  {
    "name": "-rf",
    "object": "/org/guestd1/guest/y",
    "state": "stopped",
    "owner": $ME,
    "memory_mib": 64,
    "vcpus": 1
  },
  {
    "name": "other",
    "object": "/org/guestd1/guest/_3${OTHER}_5fother",
    "state": "paused",
    "owner": $OTHER,
    "memory_mib": 64,
    "vcpus": 1
  }
]
EOF
tr -d ' \n' <"$TMP/list.json" >"$TMP/list-compact.json"
# What a completion must offer after "start ": the caller's own guests by
# name, another user's (uid 0 sees them) as UID/NAME; not the two records a
# daemon never sends (an escaped quote, a leading "-").
NAMES="web db-1.test $OTHER/other"
cat >"$TMP/bin/guestctl" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TMP/args"
case "\${FAKE_GUESTCTL_MODE:-\$(cat "$TMP/mode" 2>/dev/null)}" in
ok) cat "$TMP/list.json" ;;
compact) cat "$TMP/list-compact.json" ;;
garbage) echo "No guests." ;;
*) echo "guestctl: guestd is not running: nothing owns org.guestd1 on the bus." >&2; exit 7 ;;
esac
EOF
chmod +x "$TMP/bin/guestctl"
export PATH="$TMP/bin:$PATH"
export FAKE_GUESTCTL_MODE=ok
echo ok >"$TMP/mode"
: >"$TMP/args"

# words LIST: the words, sorted, on one line (for comparisons and messages).
words() { printf '%s\n' $1 | LC_ALL=C sort -u | paste -sd ' '; }
# same NAME GOT WANT: the two word lists hold the same words.
same() {
        local got want
        got=$(words "$2")
        want=$(words "$3")
        if [ "$got" = "$want" ]; then ok "$1: ${got:-(nothing)}"; else fail "$1: got \"$got\", wanted \"$want\""; fi
}
# shell_common SHELL GET: the checks fish's and zsh's completions share;
# GET LINE prints what SHELL completed for LINE.
shell_common() {
        local sh=$1 get=$2 v got
        same "$sh: verbs" "$($get "guestctl ")" "$VERBS"
        same "$sh: verbs st..." "$($get "guestctl st")" "$(printf '%s\n' $VERBS | grep '^st')"
        same "$sh: options before a verb" "$($get "guestctl -")" "$GLOBAL_OPTIONS"
        for v in $VERBS; do
                check_options "$sh" "$v" "$($get "guestctl $v ${ARG[$v]}-")"
        done
        got=$(words "$(long "$($get "guestctl create web --acpi --kernel f --disk a -")")")
        case " $got " in
        *" --acpi "* | *" --no-acpi "* | *" --kernel "*) fail "$sh: create offers an option given, or one it excludes: $got" ;;
        *" --disk "*) ok "$sh: create: not --acpi, --no-acpi or --kernel again, --disk again" ;;
        *) fail "$sh: create after --disk does not offer --disk again: $got" ;;
        esac
        same "$sh: guest names after start" "$($get "guestctl start ")" "$NAMES"
}
# long LIST: the long options in LIST (zsh's "--bus=" as "--bus").
long() {
        local w out=
        for w in $1; do [[ $w == --* ]] && out+="${w%=} "; done
        echo "$out"
}
# base LIST: the last path component of each (a directory's without its "/").
base() {
        local w out=
        for w in $1; do
                w=${w%/}
                out+="${w##*/} "
        done
        echo "$out"
}
# last_args: the arguments of the fake guestctl's last call ("" if none).
last_args() { tail -n 1 "$TMP/args"; }

# ------------------------------------------------------------ guestctl itself

# Verbs: the first word of each line under "Verbs:" in --help.
VERBS=$("$GUESTCTL" --help | sed -n '/^Verbs:/,/^$/p' | sed -n 's/^  \([a-z]\+\).*/\1/p' | tr '\n' ' ')
[ "$(words "$VERBS" | wc -w)" -ge 10 ] || fail "guestctl --help lists only \"$VERBS\" as verbs"
# help_options TEXT: every --option TEXT names (--[no-]x: --x and --no-x).
help_options() {
        grep -o -- '--\(\[no-\]\)\?[a-z][a-z-]*\|\(^\|[ ,[(|]\)-[a-z]\b' <<<"$1" | sed -e 's/-*$//' -e 's/^[ ,[(|]//' |
                sed 's/^--\[no-\]\(.*\)/--\1\n--no-\1/'
}
HELP=$("$GUESTCTL" --help)
# The options before a verb: those under "Options:" in --help.
GLOBAL_OPTIONS=$(words "$(help_options "$(sed -n '/^Options:/,/^$/p' <<<"$HELP")")")
[ -n "$GLOBAL_OPTIONS" ] || fail "guestctl --help has no options under \"Options:\""
HELP_ALL=$(long "$(help_options "$HELP")")
declare -A HELP_OPTIONS ARG
for v in $VERBS; do
        text=$("$GUESTCTL" "$v" --help) || fail "guestctl $v --help failed"
        HELP_OPTIONS[$v]=$(words "$(long "$(help_options "$text")")")
        HELP_ALL+=" ${HELP_OPTIONS[$v]}"
        # The positional argument a completion of the options needs first.
        case $(sed -n 's/^Usage: guestctl \[--bus ADDRESS\] [a-z]* \([^ ]*\).*/\1/p' <<<"$text") in
        NAME) ARG[$v]="x " ;;
        *) ARG[$v]= ;;
        esac
done
HELP_ALL=$(words "$HELP_ALL")
# The options that take a value, by guestctl's help ("--memory MiB").
VALUE_OPTIONS=$(grep -o -- '--[a-z-]\+ [A-Z][A-Za-z]*' <<<"$HELP" | cut -d' ' -f1 | sort -u | tr '\n' ' ')
ok "guestctl --help: verbs $VERBS; options $HELP_ALL; taking a value: $VALUE_OPTIONS"

# takes VERB OPTION: whether guestctl's parser lets VERB have OPTION (a
# usage error, exit 2, if not), asked with a bus that is not there; cached.
declare -A TAKES
takes() {
        local v=$1 o=$2 args
        if [ -z "${TAKES[$v$o]:-}" ]; then
                args=(--bus "unix:path=$TMP/no-bus" "$v" ${ARG[$v]})
                [ "$v" = create ] && args+=(--kernel /nonexistent)
                case " $VALUE_OPTIONS " in *" $o "*) args+=("$o" 1) ;; *) args+=("$o") ;; esac
                timeout 10 "$GUESTCTL" "${args[@]}" >/dev/null 2>&1 </dev/null
                TAKES[$v$o]=$?
        fi
        [ "${TAKES[$v$o]}" != 2 ]
}
# check_options SHELL VERB GOT: GOT (a completion's answer to "VERB -")
# holds exactly the long options guestctl lets VERB have, of all the
# options its help names and GOT offers; and all that VERB --help names.
check_options() {
        local sh=$1 v=$2 offered want= o missed
        offered=$(words "$(long "$3")")
        for o in $(words "$HELP_ALL $offered"); do
                takes "$v" "$o" && want+="$o "
        done
        same "$sh: $v's options are what guestctl takes" "$offered" "$want"
        missed=
        for o in ${HELP_OPTIONS[$v]}; do
                [[ " $offered " == *" $o "* ]] || missed+=" $o"
        done
        [ -z "$missed" ] || fail "$sh: $v --help names$missed, not offered"
}
for v in $VERBS; do
        takes "$v" --bus && takes "$v" --help || fail "guestctl's parser: $v takes no --bus or --help: the probe does not work"
done
takes list --frobnicate && fail "guestctl's parser: list takes --frobnicate: the probe does not work"

# ------------------------------------------------------------ bash

source $COMPLETION/guestctl.bash
# bcomp LINE: completes at the end of LINE as bash would: the words split at
# blanks, with a run of "=" or ":" (COMP_WORDBREAKS) a word of its own.
# Sets got to COMPREPLY; anything the completion prints is a failure.
bcomp() {
        local line=$1 w piece parts
        COMP_LINE=$line
        COMP_POINT=${#line}
        COMP_WORDS=()
        read -ra parts <<<"$line"
        for w in "${parts[@]}"; do
                while [ -n "$w" ]; do
                        if [[ $w == [=:]* ]]; then piece=${w%%[!=:]*}; else piece=${w%%[=:]*}; fi
                        COMP_WORDS+=("$piece")
                        w=${w:${#piece}}
                done
        done
        [[ $line == *' ' ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _guestctl 2>"$TMP/bash-err" >"$TMP/bash-out"
        got="${COMPREPLY[*]}"
        if [ -s "$TMP/bash-err" ] || [ -s "$TMP/bash-out" ]; then
                fail "bash \"$line\": the completion printed something"
                sed 's/^/    /' "$TMP/bash-err" "$TMP/bash-out" | head -n 5 >&2
        fi
}

bcomp "guestctl "
same "bash: verbs" "$got" "$VERBS"
bcomp "guestctl st"
same "bash: verbs st..." "$got" "$(printf '%s\n' $VERBS | grep '^st')"
bcomp "guestctl -"
same "bash: options before a verb" "$got" "$GLOBAL_OPTIONS"
for v in $VERBS; do
        bcomp "guestctl $v ${ARG[$v]}-"
        check_options bash "$v" "$got"
done
bcomp "guestctl create web --acpi --kernel f --disk a -"
case " $got " in
*" --acpi "* | *" --no-acpi "* | *" --kernel "*) fail "bash: create offers an option given, or one it excludes: $got" ;;
*" --disk "*) ok "bash: create: not --acpi, --no-acpi or --kernel again, --disk again" ;;
*) fail "bash: create after --disk does not offer --disk again: $got" ;;
esac

: >"$TMP/args"
bcomp "guestctl start "
same "bash: guest names after start" "$got" "$NAMES"
[ "$(last_args)" = "list --json" ] && ok "bash: names from \`guestctl list --json\`" ||
        fail "bash: guestctl was called with \"$(last_args)\", not \"list --json\""
bcomp "guestctl start d"
same "bash: guest names after start d" "$got" "db-1.test"
bcomp "guestctl start web "
case " $got " in *" web "*) fail "bash: a second guest name after start: $got" ;; *) ok "bash: no second name after start NAME" ;; esac
bcomp "guestctl --bus unix:path=$TMP/bus1 --json status "
same "bash: names with --bus" "$got" "$NAMES"
[ "$(last_args)" = "--bus unix:path=$TMP/bus1 list --json" ] && ok "bash: --bus ADDRESS passed on" ||
        fail "bash: --bus not passed on: guestctl called with \"$(last_args)\""
bcomp "guestctl console --bus=unix:path=$TMP/bus2,guid=0 w"
same "bash: names with --bus=" "$got" "web"
[ "$(last_args)" = "--bus unix:path=$TMP/bus2,guid=0 list --json" ] && ok "bash: --bus=ADDRESS passed on" ||
        fail "bash: --bus= not passed on: guestctl called with \"$(last_args)\""
FAKE_GUESTCTL_MODE=compact bcomp "guestctl stop "
same "bash: names from JSON on one line" "$got" "$NAMES"
for mode in fail garbage; do
        : >"$TMP/args"
        FAKE_GUESTCTL_MODE=$mode bcomp "guestctl log "
        [ -s "$TMP/args" ] || fail "bash ($mode): guestctl was not asked"
        same "bash: no names when guestctl answers $mode, nothing printed" "$got" ""
done
PATH=/usr/bin:/bin bcomp "guestctl pause "
same "bash: no names without guestctl, nothing printed" "$got" ""
bcomp "guestctl create web --kernel $TMP/files/"
same "bash: files after --kernel" "$(base "$got")" "vmlinuz initrd.img dir"
bcomp "guestctl create web --initrd=$TMP/files/i"
same "bash: files after --initrd=" "$got" "$TMP/files/initrd.img"
bcomp "guestctl create web --disk $TMP/files/v"
same "bash: files after --disk" "$got" "$TMP/files/vmlinuz"
bcomp "guestctl create web --disk $TMP/files/vmlinuz,"
same "bash: --disk FILE, options" "$got" "$TMP/files/vmlinuz,ro $TMP/files/vmlinuz,rw $TMP/files/vmlinuz,id="
bcomp "guestctl create web --memory "
same "bash: nothing after --memory" "$got" ""
bcomp "guestctl budget "
same "bash: budget's argument" "$got" "policy"
bcomp "guestctl help "
same "bash: help's argument" "$got" "$VERBS"
bcomp "guestctl frobnicate -"
same "bash: nothing after an unknown verb" "$got" ""

# ------------------------------------------------------------ fish

# fish_complete FILE: `complete -C` for every line of FILE, each answer
# after a line "== LINE", candidates without their descriptions.
fish_complete() {
        timeout 60 fish --no-config -c '
                source '"$COMPLETION"'/guestctl.fish
                while read -l line
                        echo "== $line"
                        complete -C "$line"
                end' <"$1" 2>"$TMP/fish-err" | cut -f1
}
# answer FILE LINE: the answer to LINE in FILE (fish_complete's or zsh's).
answer() { awk -v h="== $2" '$0 == h { on = 1; next } /^== / { on = 0 } on' "$1"; }

if ! command -v fish >/dev/null; then
        missing+=(fish)
        echo "SKIP (part): fish is not installed (Debian: apt-get install fish)" >&2
else
        if fish --no-execute $COMPLETION/guestctl.fish 2>"$TMP/fish-err"; then
                ok "fish: guestctl.fish parses"
        else
                fail "fish: guestctl.fish does not parse"
                sed 's/^/    /' "$TMP/fish-err" >&2
        fi
        {
                echo "guestctl "
                echo "guestctl st"
                echo "guestctl -"
                for v in $VERBS; do echo "guestctl $v ${ARG[$v]}-"; done
                echo "guestctl create web --acpi --kernel f --disk a -"
                echo "guestctl start "
                echo "guestctl start web "
                echo "guestctl --bus unix:path=$TMP/bus3 resume "
                echo "guestctl stop --bus=unix:path=$TMP/bus6 "
                echo "guestctl create web --kernel $TMP/files/"
                echo "guestctl create web --disk $TMP/files/vmlinuz,"
                echo "guestctl budget "
        } >"$TMP/fish-lines"
        : >"$TMP/args"
        fish_complete "$TMP/fish-lines" >"$TMP/fish-out"
        [ -s "$TMP/fish-err" ] && { fail "fish: errors"; sed 's/^/    /' "$TMP/fish-err" | head >&2; }
        fish_get() { answer "$TMP/fish-out" "$1"; }
        shell_common fish fish_get
        same "fish: no second name after start NAME" "$(answer "$TMP/fish-out" "guestctl start web ")" ""
        same "fish: names with --bus" "$(answer "$TMP/fish-out" "guestctl --bus unix:path=$TMP/bus3 resume ")" "$NAMES"
        grep -qxF -- "--bus unix:path=$TMP/bus3 list --json" "$TMP/args" && ok "fish: --bus ADDRESS passed on" ||
                fail "fish: --bus not passed on: guestctl was called with: $(sort -u "$TMP/args" | tr '\n' ';')"
        same "fish: names with --bus= after the verb" "$(answer "$TMP/fish-out" "guestctl stop --bus=unix:path=$TMP/bus6 ")" "$NAMES"
        grep -qxF -- "--bus unix:path=$TMP/bus6 list --json" "$TMP/args" && ok "fish: --bus=ADDRESS after the verb passed on" ||
                fail "fish: --bus= after the verb not passed on: guestctl was called with: $(sort -u "$TMP/args" | tr '\n' ';')"
        same "fish: files after --kernel" "$(base "$(answer "$TMP/fish-out" "guestctl create web --kernel $TMP/files/")")" "vmlinuz initrd.img dir"
        same "fish: --disk FILE, options" "$(answer "$TMP/fish-out" "guestctl create web --disk $TMP/files/vmlinuz,")" \
                "$TMP/files/vmlinuz,ro $TMP/files/vmlinuz,rw $TMP/files/vmlinuz,id="
        same "fish: budget's argument" "$(answer "$TMP/fish-out" "guestctl budget ")" "policy"
        for mode in fail garbage; do
                : >"$TMP/args"
                echo "guestctl start " >"$TMP/fish-lines"
                got=$(FAKE_GUESTCTL_MODE=$mode fish_complete "$TMP/fish-lines" | sed 1d)
                [ -s "$TMP/args" ] || fail "fish ($mode): guestctl was not asked"
                same "fish: no names when guestctl answers $mode" "$got" ""
                [ -s "$TMP/fish-err" ] && { fail "fish ($mode): printed on stderr"; sed 's/^/    /' "$TMP/fish-err" | head >&2; }
        done
fi

# ------------------------------------------------------------ zsh

if ! command -v zsh >/dev/null; then
        missing+=(zsh)
        echo "SKIP (part): zsh is not installed (Debian: apt-get install zsh)" >&2
else
        if zsh -n $COMPLETION/_guestctl 2>"$TMP/zsh-err"; then
                ok "zsh: _guestctl parses"
        else
                fail "zsh: _guestctl does not parse"
                sed 's/^/    /' "$TMP/zsh-err" >&2
        fi
        # The name helper on its own (sourced, compdef a stub).
        for mode in ok compact fail garbage; do
                : >"$TMP/args"
                got=$(FAKE_GUESTCTL_MODE=$mode zsh -f -c 'compdef() { :; }; source '"$COMPLETION"'/_guestctl
                        local -a reply reply_state; _guestctl_guest_names "$1"; print -r -- $reply' zsh "unix:path=$TMP/bus4" 2>"$TMP/zsh-err")
                case $mode in ok | compact) want=$NAMES ;; *) want= ;; esac
                same "zsh: the name helper, guestctl answering $mode" "$got" "$want"
                [ "$(last_args)" = "--bus unix:path=$TMP/bus4 list --json" ] || fail "zsh: the name helper called guestctl with \"$(last_args)\""
                [ -s "$TMP/zsh-err" ] && { fail "zsh ($mode): printed on stderr"; sed 's/^/    /' "$TMP/zsh-err" | head >&2; }
        done

        # Real completions: an interactive zsh on a pseudo-terminal, Tab
        # bound to a widget that completes and then writes "--END--";
        # compadd wrapped to write every match it is given.
        mkdir -p "$TMP/zfpath"
        cp $COMPLETION/_guestctl "$TMP/zfpath/"
        cat >"$TMP/zhook.zsh" <<'EOF'
compadd() {
        if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
                builtin compadd "$@"
                return
        fi
        local -a __hits
        builtin compadd -A __hits "$@"
        (( $#__hits )) && print -rl -- $__hits >>$ZOUT
        builtin compadd "$@"
}
_zhook_main() {
        _main_complete
        local ret=$?
        print -r -- --END-- >>$ZOUT
        return ret
}
zle -C zhook-complete complete-word _zhook_main
bindkey '^I' zhook-complete
zstyle ':completion:*' insert-tab false
EOF
        cat >"$TMP/zdrive.zsh" <<'EOF'
# zdrive.zsh LINES_FILE FPATH_DIR HOOK: completes each line, prints
# "== LINE", the matches, then "-- terminal:" and what the terminal showed.
# A line "#mode MODE" sets the fake guestctl's mode from then on.
zmodload zsh/zpty || exit 1
export ZOUT=$TMPDIR/zout
TERM=xterm zpty z zsh -f -i || exit 1
zpty -w z "PS1='> '; fpath=($2 \$fpath); autoload -Uz compinit; compinit -u -D; source $3"
while IFS= read -r line; do
        if [[ $line == '#mode '* ]]; then
                print -r -- ${line#'#mode '} >$TMPDIR/mode
                continue
        fi
        : >$ZOUT
        screen=
        zpty -w -n z "$line"$'\t'
        for ((i = 0; i < 200; i++)); do
                while zpty -r -t z chunk 2>/dev/null; do screen+=$chunk; done
                grep -q -- --END-- $ZOUT && break
                sleep 0.05
        done
        while zpty -r -t z chunk 2>/dev/null; do screen+=$chunk; done
        zpty -w -n z $'\C-u'
        print -r -- "== $line"
        grep -q -- --END-- $ZOUT || print -r -- "(no answer)"
        grep -v -- --END-- $ZOUT | sort -u
        print -r -- "-- terminal: ${screen//[$'\n\r']/ }"
done <$1
zpty -d z
EOF
        # zsh_complete FILE: every line of FILE completed in one zsh.
        zsh_complete() {
                TMPDIR=$TMP timeout 120 zsh -f "$TMP/zdrive.zsh" "$1" "$TMP/zfpath" "$TMP/zhook.zsh" 2>"$TMP/zsh-err"
        }
        # zanswer FILE LINE: the matches for LINE.
        zanswer() { answer "$1" "$2" | grep -v -- '^-- terminal: '; }
        {
                echo "guestctl "
                echo "guestctl st"
                echo "guestctl -"
                for v in $VERBS; do echo "guestctl $v ${ARG[$v]}-"; done
                echo "guestctl create web --acpi --kernel f --disk a -"
                echo "guestctl start "
                echo "guestctl --bus unix:path=$TMP/bus5 unpause "
                echo "guestctl stop --bus unix:path=$TMP/bus6 "
                echo "guestctl create web --kernel $TMP/files/"
                echo "guestctl create web --disk $TMP/files/vmlinuz,"
                echo "guestctl budget "
                echo "#mode fail"
                echo "guestctl remove "
                echo "#mode garbage"
                echo "guestctl log "
        } >"$TMP/zsh-lines"
        : >"$TMP/args"
        FAKE_GUESTCTL_MODE= zsh_complete "$TMP/zsh-lines" >"$TMP/zsh-out"
        echo ok >"$TMP/mode"
        if grep -q '^(no answer)' "$TMP/zsh-out" || [ "$(grep -c '^== ' "$TMP/zsh-out")" != "$(grep -vc '^#mode ' "$TMP/zsh-lines")" ]; then
                fail "zsh: the interactive zsh did not complete every line"
                sed 's/^/    /' "$TMP/zsh-out" "$TMP/zsh-err" | head -n 20 >&2
        fi
        zsh_get() { zanswer "$TMP/zsh-out" "$1"; }
        shell_common zsh zsh_get
        same "zsh: names with --bus" "$(zanswer "$TMP/zsh-out" "guestctl --bus unix:path=$TMP/bus5 unpause ")" "$NAMES"
        grep -qxF -- "--bus unix:path=$TMP/bus5 list --json" "$TMP/args" && ok "zsh: --bus ADDRESS passed on" ||
                fail "zsh: --bus not passed on: guestctl was called with: $(sort -u "$TMP/args" | tr '\n' ';')"
        same "zsh: names with --bus after the verb" "$(zanswer "$TMP/zsh-out" "guestctl stop --bus unix:path=$TMP/bus6 ")" "$NAMES"
        grep -qxF -- "--bus unix:path=$TMP/bus6 list --json" "$TMP/args" && ok "zsh: --bus ADDRESS after the verb passed on" ||
                fail "zsh: --bus after the verb not passed on: guestctl was called with: $(sort -u "$TMP/args" | tr '\n' ';')"
        same "zsh: files after --kernel" "$(base "$(zanswer "$TMP/zsh-out" "guestctl create web --kernel $TMP/files/")")" "vmlinuz initrd.img dir"
        same "zsh: --disk FILE, options" "$(zanswer "$TMP/zsh-out" "guestctl create web --disk $TMP/files/vmlinuz,")" "ro rw id"
        same "zsh: budget's argument" "$(zanswer "$TMP/zsh-out" "guestctl budget ")" "policy"
        same "zsh: no names when guestctl fails" "$(zanswer "$TMP/zsh-out" "guestctl remove ")" ""
        same "zsh: no names when guestctl answers garbage" "$(zanswer "$TMP/zsh-out" "guestctl log ")" ""
        [ "$(grep -c 'list --json$' "$TMP/args")" -ge 5 ] || fail "zsh: guestctl was not asked for every name completion"
        # What guestctl said on stderr must not reach the terminal.
        grep -q 'guestd is not running' "$TMP/zsh-out" && fail "zsh: guestctl's error reached the terminal"
fi

[ "$TEST_FAILS" -eq 0 ] && [ ${#missing[@]} -gt 0 ] &&
        skip "not installed: ${missing[*]} (Debian: apt-get install ${missing[*]}), so not checked; the other completions passed"
finish
