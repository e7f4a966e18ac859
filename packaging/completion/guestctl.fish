# SPDX-License-Identifier: LGPL-2.1-or-later
# fish completion for guestctl(1); installed as
# /usr/share/fish/vendor_completions.d/guestctl.fish.
#
# The verbs and options are those of cli/guestctl.c (its verbs table) and
# cli/args.c (its options table); tests/test-completion.sh checks them against
# `guestctl --help` and `guestctl VERB --help`. Guest names come from
# `guestctl list --json`, run as the completing user: guestd lists only the
# caller's own guests (uid 0: everyone's, the others' as UID/NAME, which is
# how uid 0 names them). A --bus ADDRESS on the command line is passed on.
# When guestd cannot be reached nothing is completed and nothing printed.

# The long option a word (no "=VALUE") means, as getopt_long reads it: the
# option itself or its unique abbreviation; nothing if none.
function __guestctl_long_option --argument-names word
    set -l options --help --version --bus --json --no-legend --kernel --initrd --cmdline --memory --vcpus --disk --acpi --no-acpi \
        --cmdline-devices --no-cmdline-devices --force --idle --read-only --raw
    if contains -- $word $options
        echo $word
        return
    end
    set -l match (string match -- "$word*" $options)
    test (count $match) = 1; and echo $match
end

# Reads the words before the cursor as args_parse() (cli/args.c) does; sets the globals
# __guestctl_verb, __guestctl_npos (positional arguments after the verb),
# __guestctl_bus, __guestctl_seen (options given), __guestctl_ddash (after
# "--") and __guestctl_value_of (the option the current word is the value of).
function __guestctl_parse
    set -g __guestctl_verb ''
    set -g __guestctl_npos 0
    set -g __guestctl_bus ''
    set -g __guestctl_seen
    set -g __guestctl_ddash 0
    set -g __guestctl_value_of ''
    set -l tokens (commandline -opc)
    set -e tokens[1]
    for t in $tokens
        if test -n "$__guestctl_value_of"
            test "$__guestctl_value_of" = --bus; and set -g __guestctl_bus $t
            set -g __guestctl_value_of ''
            continue
        end
        if test $__guestctl_ddash = 0
            switch $t
                case --
                    set -g __guestctl_ddash 1
                    continue
                case '--*=*'
                    set -l parts (string split -m 1 = -- $t)
                    set -l o (__guestctl_long_option $parts[1])
                    set -a __guestctl_seen $o
                    test "$o" = --bus; and set -g __guestctl_bus $parts[2]
                    continue
                case '--*'
                    set -l o (__guestctl_long_option $t)
                    set -a __guestctl_seen $o
                    if contains -- "$o" --bus --kernel --initrd --cmdline --memory --vcpus --disk --idle
                        set -g __guestctl_value_of $o
                    end
                    continue
                case '-?*'
                    string match -q -- '*f*' $t; and set -a __guestctl_seen --force
                    continue
            end
        end
        if test -z "$__guestctl_verb"
            set -g __guestctl_verb $t
        else
            set -g __guestctl_npos (math $__guestctl_npos + 1)
        end
    end
end

# Whether the current word is the verb.
function __guestctl_wants_verb
    __guestctl_parse
    test -z "$__guestctl_verb" -a -z "$__guestctl_value_of"
end

# Whether the current word is the positional argument of one of the verbs given.
function __guestctl_wants_argument
    __guestctl_parse
    test -z "$__guestctl_value_of" -a "$__guestctl_npos" = 0; and contains -- "$__guestctl_verb" $argv
end

# Whether the option (a long name, no dashes) may come here: the verb takes
# it (see ARGS_* in cli/args.h and the verbs table of cli/guestctl.c), it is not given already (--disk is
# repeatable), and no option given excludes it; or its value is due.
function __guestctl_takes --argument-names option
    __guestctl_parse
    # Its value is the current word (fish then completes that).
    test "$__guestctl_value_of" = --$option; and return 0
    test $__guestctl_ddash = 0; or return 1
    set -l verbs
    switch $option
        case help version bus
            set verbs '' create remove list status start stop pause unpause suspend resume console log quota budget help
        case json no-legend
            set verbs '' create remove list status start stop pause unpause suspend resume log quota budget
        case kernel initrd cmdline memory vcpus disk acpi no-acpi cmdline-devices no-cmdline-devices
            set verbs create
        case force
            set verbs stop console
        case read-only idle
            set verbs console
        case raw
            set verbs '' status log
    end
    contains -- "$__guestctl_verb" $verbs; or return 1
    switch $option
        case help version disk
            return 0
        case acpi no-acpi
            contains -- --acpi $__guestctl_seen; or contains -- --no-acpi $__guestctl_seen; and return 1
        case cmdline-devices no-cmdline-devices
            contains -- --cmdline-devices $__guestctl_seen; or contains -- --no-cmdline-devices $__guestctl_seen; and return 1
        case read-only
            contains -- --force $__guestctl_seen; and return 1
        case force
            test "$__guestctl_verb" = console; and contains -- --read-only $__guestctl_seen; and return 1
    end
    not contains -- --$option $__guestctl_seen
end

# The caller's guests as guestctl takes them (NAME, or UID/NAME for another
# user's), a tab and the state. Any failure: nothing, and no output.
function __guestctl_guests
    __guestctl_parse
    set -l cmd guestctl
    test -n "$__guestctl_bus"; and set cmd $cmd --bus $__guestctl_bus
    command -q timeout; and set cmd timeout 5 $cmd
    set -l out ($cmd list --json 2>/dev/null </dev/null); or return 0
    set -l uid (id -u 2>/dev/null)
    # An array of flat objects whose strings (name, object path, state)
    # hold no quote, backslash or brace (guestd's rules for names): one
    # object ends at each "}". A record with a backslash is not of that
    # shape and is left out.
    for rec in (string join ' ' -- $out | string split '}')
        string match -qr '\\\\' -- $rec; and continue
        set -l m (string match -r '"name"\s*:\s*"([^"]*)"' -- $rec); or continue
        set -l name $m[2]
        string match -qr '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' -- $name; or continue
        set -l owner (string match -r '"owner"\s*:\s*([0-9]+)' -- $rec)[2]
        set -l state (string match -r '"state"\s*:\s*"([^"]*)"' -- $rec)[2]
        test -n "$owner" -a "$owner" != "$uid"; and set name $owner/$name
        printf '%s\t%s\n' $name $state
    end
end

# The value of --disk FILE[,ro][,id=ID]: files, then its options.
function __guestctl_disk
    set -l value (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    if string match -q -- '*,*' $value
        set -l file (string replace -r -- ',[^,]*$' '' $value)
        printf '%s\n' $file,ro $file,rw $file,id=
    else
        __fish_complete_path $value
    end
end

complete -c guestctl -f

# Verbs (cli/guestctl.c's verbs table).
complete -c guestctl -n __guestctl_wants_verb -a create -d 'Define a guest'
complete -c guestctl -n __guestctl_wants_verb -a remove -d 'Remove a guest that is not running'
complete -c guestctl -n __guestctl_wants_verb -a list -d 'List your guests'
complete -c guestctl -n __guestctl_wants_verb -a status -d "Show a guest's state and configuration"
complete -c guestctl -n __guestctl_wants_verb -a start -d 'Start a guest'
complete -c guestctl -n __guestctl_wants_verb -a stop -d 'Shut a guest down'
complete -c guestctl -n __guestctl_wants_verb -a pause -d "Freeze a running guest's vCPUs"
complete -c guestctl -n __guestctl_wants_verb -a unpause -d 'Let a paused guest run again'
complete -c guestctl -n __guestctl_wants_verb -a suspend -d 'Save a guest to a snapshot and end it'
complete -c guestctl -n __guestctl_wants_verb -a resume -d 'Start a suspended guest from its snapshot'
complete -c guestctl -n __guestctl_wants_verb -a console -d "Attach to a guest's serial console"
complete -c guestctl -n __guestctl_wants_verb -a log -d 'Print what the guest wrote to its console'
complete -c guestctl -n __guestctl_wants_verb -a quota -d 'Show your limits and use'
complete -c guestctl -n __guestctl_wants_verb -a budget -d 'Show (root: set) the page-table budget'
complete -c guestctl -n __guestctl_wants_verb -a help -d "Show the help, or a verb's"

# Positional arguments.
complete -c guestctl -n '__guestctl_wants_argument remove status start stop pause unpause suspend resume console log' \
    -a '(__guestctl_guests)'
complete -c guestctl -n '__guestctl_wants_argument budget' -a policy -d "The policy's budget again"
complete -c guestctl -n '__guestctl_wants_argument help' \
    -a 'create remove list status start stop pause unpause suspend resume console log quota budget help'

# Options.
complete -c guestctl -n '__guestctl_takes help' -s h -l help -d 'Show the help'
complete -c guestctl -n '__guestctl_takes version' -l version -d 'Print the version and exit'
complete -c guestctl -n '__guestctl_takes bus' -l bus -x -d 'D-Bus address of the bus guestd is on'
complete -c guestctl -n '__guestctl_takes json' -l json -d 'Machine-readable output'
complete -c guestctl -n '__guestctl_takes no-legend' -l no-legend -d 'Tables without their header line'
complete -c guestctl -n '__guestctl_takes kernel' -l kernel -r -F -d 'Kernel image'
complete -c guestctl -n '__guestctl_takes initrd' -l initrd -r -F -d 'Initial ramdisk'
complete -c guestctl -n '__guestctl_takes cmdline' -l cmdline -x -d 'Kernel command line'
complete -c guestctl -n '__guestctl_takes memory' -l memory -x -d 'Memory: 512M, 2G, 1.5GiB or MiB (default 64)'
complete -c guestctl -n '__guestctl_takes vcpus' -l vcpus -x -d 'Number of vCPUs (default 1)'
complete -c guestctl -n '__guestctl_takes disk' -l disk -x -a '(__guestctl_disk)' -d 'A disk: FILE[,ro|,rw][,id=ID]'
complete -c guestctl -n '__guestctl_takes acpi' -l acpi -d 'ACPI tables (the default)'
complete -c guestctl -n '__guestctl_takes no-acpi' -l no-acpi -d 'No ACPI tables'
complete -c guestctl -n '__guestctl_takes cmdline-devices' -l cmdline-devices -d 'The disks on the kernel command line too'
complete -c guestctl -n '__guestctl_takes no-cmdline-devices' -l no-cmdline-devices -d 'The disks not on the kernel command line'
complete -c guestctl -n '__guestctl_takes force' -s f -l force -d 'stop: kill at once; console: take over the typing session'
complete -c guestctl -n '__guestctl_takes read-only' -l read-only -d 'Only watch the console'
complete -c guestctl -n '__guestctl_takes idle' -l idle -x -d 'Without a terminal: leave after the guest is quiet this long (ms)'
complete -c guestctl -n '__guestctl_takes raw' -l raw -d 'As it is, also on a terminal (no escaping)'
