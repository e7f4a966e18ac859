# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for guestctl(1); installed as
# /usr/share/bash-completion/completions/guestctl.
#
# The verbs and options are those of cli/guestctl.c (its verbs table) and
# cli/args.c (its options table); tests/test-completion.sh checks them against
# `guestctl --help` and `guestctl VERB --help`. Guest names come from
# `guestctl list --json`, run as the completing user: guestd lists only the
# caller's own guests (uid 0: everyone's, the others' as UID/NAME, which is
# how uid 0 names them). A --bus ADDRESS on the command line is passed on.
# When guestd cannot be reached nothing is completed and nothing printed.
# Needs no bash-completion helpers, jq or python.

# The options VERB accepts ("" for none yet: the options before a verb).
_guestctl_verb_options() {
        case $1 in
        "") _gc_list="-h --help --version --bus --json --no-legend --raw" ;;
        create) _gc_list="--help --version --bus --json --no-legend --kernel --initrd --cmdline --memory --vcpus --disk --acpi --no-acpi --cmdline-devices --no-cmdline-devices" ;;
        status | log) _gc_list="--help --version --bus --json --no-legend --raw" ;;
        list | suspend | resume | quota | budget | remove | start | pause | unpause) _gc_list="--help --version --bus --json --no-legend" ;;
        stop) _gc_list="--help --version --bus --json --no-legend --force" ;;
        console) _gc_list="--help --version --bus --read-only --force --idle" ;;
        help) _gc_list="--help --version --bus" ;;
        *) return 1 ;;
        esac
}

# Sets _gc_opt to the long option WORD (no "=VALUE") means, as getopt_long
# reads it: the option itself or its unique abbreviation; "" if none.
_guestctl_long_option() {
        local o match=
        _gc_opt=
        for o in --help --version --bus --json --no-legend --kernel --initrd --cmdline --memory --vcpus --disk --acpi --no-acpi \
                --cmdline-devices --no-cmdline-devices --force --idle --read-only --raw; do
                [[ $o == "$1" ]] && { _gc_opt=$o; return; }
                if [[ $o == "$1"* ]]; then
                        [[ -n $match ]] && return # ambiguous
                        match=$o
                fi
        done
        _gc_opt=$match
}

# Whether option $1 takes a value (required_argument in cli/args.c).
_guestctl_takes_value() {
        case $1 in --bus | --kernel | --initrd | --cmdline | --memory | --vcpus | --disk | --idle) return 0 ;; esac
        return 1
}

# Sets _gc_dq to WORD with the shell's quoting removed ('...', "...", \x),
# without evaluating anything.
_guestctl_dequote() {
        local s=$1 c q= out=
        while [[ -n $s ]]; do
                c=${s:0:1}
                s=${s:1}
                if [[ $q == "'" ]]; then
                        if [[ $c == "'" ]]; then q=; else out+=$c; fi
                elif [[ $q == '"' ]]; then
                        if [[ $c == '"' ]]; then
                                q=
                        elif [[ $c == '\' && ( ${s:0:1} == '"' || ${s:0:1} == '\' || ${s:0:1} == '$' || ${s:0:1} == '`' ) ]]; then
                                out+=${s:0:1}
                                s=${s:1}
                        else
                                out+=$c
                        fi
                else
                        case $c in
                        "'" | '"') q=$c ;;
                        '\') out+=${s:0:1}; s=${s:1} ;;
                        *) out+=$c ;;
                        esac
                fi
        done
        _gc_dq=$out
}

# Sets _gc_names to the caller's guests, as guestctl takes them: NAME for
# the caller's own, UID/NAME for another user's (uid 0 sees those). $1: a
# --bus address or "". Any failure: no names, no output.
_guestctl_guest_names() {
        local out rec name owner
        local re_name='"name"[[:space:]]*:[[:space:]]*"([^"\\]*)"'
        local re_owner='"owner"[[:space:]]*:[[:space:]]*([0-9]+)'
        local re_valid='^[A-Za-z0-9_][A-Za-z0-9_.-]*$'
        local -a cmd=(guestctl)
        _gc_names=()
        [[ -n $1 ]] && cmd+=(--bus "$1")
        if type -P timeout >/dev/null 2>&1; then
                cmd=(timeout 5 "${cmd[@]}")
        fi
        out=$("${cmd[@]}" list --json 2>/dev/null </dev/null) || return 0
        # An array of flat objects whose strings (name, object path, state)
        # hold no quote, backslash or brace (guestd's rules for names): one
        # object ends at each "}". A record with a backslash is not of that
        # shape and is left out.
        out=${out//$'\n'/ }
        while [[ $out == *'}'* ]]; do
                rec=${out%%\}*}
                out=${out#*\}}
                [[ $rec == *'\'* ]] && continue
                [[ $rec =~ $re_name ]] || continue
                name=${BASH_REMATCH[1]}
                [[ $name =~ $re_valid ]] || continue
                owner=
                [[ $rec =~ $re_owner ]] && owner=${BASH_REMATCH[1]}
                if [[ -n $owner && $owner != "${EUID:-}" ]]; then
                        _gc_names+=("$owner/$name")
                else
                        _gc_names+=("$name")
                fi
        done
}

# Adds to COMPREPLY the files and directories that start with $1 (dequoted).
_guestctl_files() {
        local f
        compopt -o filenames 2>/dev/null
        while IFS= read -r f; do
                COMPREPLY+=("$f")
        done < <(compgen -f -- "$1")
}

_guestctl() {
        local -a words=()
        local cword=0 cur raw line=$COMP_LINE pos=0 i w ws sep=1 ok=1
        local _gc_list _gc_opt _gc_dq _gc_names
        COMPREPLY=()

        # The words, with what bash split at "=" and ":" (COMP_WORDBREAKS)
        # joined again, so that --bus=unix:path=/x is one word; cur ends at
        # the cursor. Falls back to COMP_WORDS as they are.
        for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
                w=${COMP_WORDS[i]}
                ws=${line%%[![:space:]]*}
                sep=${#ws}
                line=${line:sep}
                pos=$((pos + sep))
                if [[ $line != "$w"* ]]; then
                        ok=0
                        break
                fi
                if ((i > 0 && sep == 0)) && [[ ${words[${#words[@]} - 1]} == *[=:] || $w == [=:]* ]]; then
                        words[${#words[@]} - 1]+=$w
                else
                        words+=("$w")
                fi
                if ((i == COMP_CWORD)); then
                        cword=$((${#words[@]} - 1))
                        # The part of this word before the cursor.
                        words[cword]=${words[cword]:0:${#words[cword]} - ${#w} + (COMP_POINT > pos ? COMP_POINT - pos : 0)}
                        raw=${w:0:(COMP_POINT > pos ? COMP_POINT - pos : 0)}
                fi
                line=${line:${#w}}
                pos=$((pos + ${#w}))
        done
        if ((!ok)) || ((cword >= ${#words[@]})); then
                words=("${COMP_WORDS[@]}")
                cword=$COMP_CWORD
                raw=${COMP_WORDS[COMP_CWORD]-}
                words[cword]=$raw
        fi
        cur=${words[cword]-}
        # What readline replaces: nothing of a word of only break characters.
        [[ $raw == *[!=:]* ]] || raw=

        # The words before the current one, read as args_parse() (cli/args.c) reads them.
        local verb= npos=0 bus= ddash=0 value_of= seen=" "
        for ((i = 1; i < cword; i++)); do
                w=${words[i]}
                if ((!ddash)); then
                        case $w in
                        --)
                                ddash=1
                                continue
                                ;;
                        --*=*)
                                _guestctl_long_option "${w%%=*}"
                                seen+="$_gc_opt "
                                if [[ $_gc_opt == --bus ]]; then
                                        _guestctl_dequote "${w#*=}"
                                        bus=$_gc_dq
                                fi
                                continue
                                ;;
                        --*)
                                _guestctl_long_option "$w"
                                seen+="$_gc_opt "
                                if _guestctl_takes_value "$_gc_opt"; then
                                        if ((i + 1 == cword)); then
                                                value_of=$_gc_opt
                                        elif [[ $_gc_opt == --bus ]]; then
                                                _guestctl_dequote "${words[i + 1]}"
                                                bus=$_gc_dq
                                        fi
                                        ((i++))
                                fi
                                continue
                                ;;
                        -?*)
                                [[ $w == *f* ]] && seen+="--force "
                                continue
                                ;;
                        esac
                fi
                if [[ -z $verb ]]; then
                        _guestctl_dequote "$w"
                        verb=$_gc_dq
                else
                        ((npos++))
                fi
        done

        # The value of an option: the current word, or after "--opt=".
        local value prefix=
        if [[ -n $value_of ]]; then
                value=$cur
        elif ((!ddash)) && [[ $cur == --*=* ]]; then
                _guestctl_long_option "${cur%%=*}"
                _guestctl_takes_value "$_gc_opt" || return 0
                value_of=$_gc_opt
                value=${cur#*=}
        fi
        if [[ -n $value_of ]]; then
                # Candidates are for the whole value; readline replaces only
                # raw, the part after the last "=" or ":".
                if [[ $value == *"$raw" ]]; then
                        _guestctl_dequote "${value%"$raw"}"
                        prefix=$_gc_dq
                fi
                _guestctl_dequote "$value"
                value=$_gc_dq
                case $value_of in
                --kernel | --initrd)
                        _guestctl_files "$value"
                        ;;
                --disk)
                        # FILE[,ro|,rw][,id=ID]
                        if [[ $value == *,* ]]; then
                                local o
                                for o in ro rw id=; do
                                        [[ ${value%,*},$o == "$value"* ]] && COMPREPLY+=("${value%,*},$o")
                                done
                                [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
                        else
                                _guestctl_files "$value"
                        fi
                        ;;
                esac
                # --bus, --cmdline, --memory (a size), --vcpus, --idle: free text.
                if [[ -n $prefix ]]; then
                        for i in "${!COMPREPLY[@]}"; do
                                COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
                        done
                fi
                return 0
        fi

        _guestctl_verb_options "$verb" || return 0 # not a verb guestctl knows
        # The verb's options, less one given already (--disk is repeatable)
        # and one that excludes it.
        local o options=
        for o in $_gc_list; do
                case $o in --disk | --help | --version | -h) ;; *) [[ $seen == *" $o "* ]] && continue ;; esac
                case $o in
                --acpi | --no-acpi) [[ $seen == *" --acpi "* || $seen == *" --no-acpi "* ]] && continue ;;
                --cmdline-devices | --no-cmdline-devices)
                        [[ $seen == *" --cmdline-devices "* || $seen == *" --no-cmdline-devices "* ]] && continue
                        ;;
                --read-only) [[ $seen == *" --force "* ]] && continue ;;
                --force) [[ $verb == console && $seen == *" --read-only "* ]] && continue ;;
                esac
                options+="$o "
        done
        if ((!ddash)) && [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$options" -- "$cur"))
                return 0
        fi
        if [[ -z $verb ]]; then
                COMPREPLY=($(compgen -W "create remove list status start stop pause unpause suspend resume console log quota budget help" -- "$cur"))
                return 0
        fi
        case $verb:$npos in
        remove:0 | status:0 | start:0 | stop:0 | pause:0 | unpause:0 | suspend:0 | resume:0 | console:0 | log:0)
                _guestctl_dequote "$cur"
                local want=$_gc_dq n
                _guestctl_guest_names "$bus"
                for n in "${_gc_names[@]}"; do
                        [[ $n == "$want"* ]] && COMPREPLY+=("$n")
                done
                ;;
        budget:0)
                COMPREPLY=($(compgen -W "policy" -- "$cur"))
                ;;
        help:0)
                COMPREPLY=($(compgen -W "create remove list status start stop pause unpause suspend resume console log quota budget help" -- "$cur"))
                ;;
        create:0) ;; # a new guest's name
        *)
                # All positional arguments given: the verb's options.
                ((ddash)) || COMPREPLY=($(compgen -W "$options" -- "$cur"))
                ;;
        esac
        return 0
}
complete -F _guestctl guestctl
