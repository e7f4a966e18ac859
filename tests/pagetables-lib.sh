# Helpers for the page-table budget's tests (sourced after daemon-lib.sh).
#
#   need_shadow_paging            skip unless KVM here shadows guest page
#                                 tables and cgroup v2 is mounted
#   memtouch_guests               A's mt1 and mt2, B's mt3, running and
#                                 verifying; their objects in OBJS
#   gprops OBJECT                 CAP FORCE SHARE INUSE RECYCLED, one call
#   prop OBJECT cap|share|inuse|recycled, mprop MANAGER-PROPERTY
#   total_bytes                   sec_pagetables of the guests' cgroups
#   caps_are share|ceiling|at-most-share|below-share
#   wait_until SECONDS CMD...     poll CMD, bounded by the clock
#   log_count PATTERN, log_count_is PATTERN N   lines of guestd's log
CG=/sys/fs/cgroup/guestd-guests
CEILING=327 # KVM's default for 64 MiB of RAM: 20 pages per 1000

need_shadow_paging() {
        [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] ||
                skip "cgroup v2 is not mounted at /sys/fs/cgroup: a guest's page tables (sec_pagetables) cannot be measured here"
        local shadow
        shadow=$(kvm_shadows) ||
                skip "KVM here uses NPT/EPT with the TDP MMU, where a page-table cap frees nothing (tests/run-tests.sh runs this in the nested test VM with npt=0)"
        echo "    KVM shadows guest page tables here ($shadow)"
}

gprops() {
        read -r CAP FORCE SHARE INUSE RECYCLED < <(busctl --address="$BUS" get-property org.guestd1 "$1" org.guestd1.Guest \
                PageTableCap PageTableCapInForce PageTableShare PageTablesInUse PageTablesRecycled | awk '{ printf "%s ", $2 }')
}
prop() { gprops "$1"; case $2 in cap) echo "$CAP" ;; share) echo "$SHARE" ;; inuse) echo "$INUSE" ;; recycled) echo "$RECYCLED" ;; esac; }
mprop() { busctl --address="$BUS" get-property org.guestd1 /org/guestd1 org.guestd1.Manager "$1" | cut -d' ' -f2-; }
cg_bytes() { awk '$1 == "sec_pagetables" { print $2 }' "$CG/$1/memory.stat"; }
total_bytes() {
        local sum=0 o
        for o in "${OBJS[@]}"; do sum=$((sum + $(cg_bytes "$(guest_id "$o")"))); done
        echo $sum
}
# A guest's cgroup name: its handle, the object path's last part.
guest_id() { echo "${1##*/}"; }
verifies() { "ctl_$1" log "$2" 2>/dev/null | grep -c 'verify): checksum .* 0 mismatches'; }
wait_until() {
        local end=$(($(date +%s) + $1)); shift
        until "$@"; do [ "$(date +%s)" -lt $end ] || return 1; sleep 0.2; done
}
log_count() { grep -c -- "$1" "$DTMP/guestd.log"; }
log_count_is() { [ "$(log_count "$1")" -ge "$2" ]; }
caps_are() {
        local o
        for o in "${OBJS[@]}"; do
                gprops "$o"
                [ "$CAP" = "$FORCE" ] || return 1
                case $1 in
                share) [ "$CAP" = "$SHARE" ] || return 1 ;;
                ceiling) [ "$CAP" = $CEILING ] || return 1 ;;
                at-most-share) [ "$CAP" -le "$SHARE" ] || return 1 ;;
                below-share) { [ "$CAP" -lt "$SHARE" ] || [ "$CAP" = 64 ]; } || return 1 ;;
                esac
        done
}
show_caps() {
        local o
        for o in "${OBJS[@]}"; do
                gprops "$o"
                echo "    $(guest_id "$o"): cap $CAP (in force $FORCE, share $SHARE), $INUSE bytes, $RECYCLED recycled/s"
        done
}

# memtouch: 4 MiB of RAM through a 512 MiB window, one page touched per
# page table (stride 512): 256 guest page tables, every pass in user mode,
# forever. They fit under KVM's default cap for 64 MiB (327 pages), so
# KVM recycles nothing until a cap comes down.
memtouch_guests() {
        local mt=(--kernel "$G/memtouch.elf" --memory 64 --cmdline "memtouch.mib=4 memtouch.virt-mib=512 memtouch.stride=512 memtouch.passes=0")
        expect_exit 0 "A creates mt1" "${CTL_A[@]}" create mt1 "${mt[@]}"
        expect_exit 0 "A creates mt2" "${CTL_A[@]}" create mt2 "${mt[@]}"
        expect_exit 0 "B creates mt3" "${CTL_B[@]}" create mt3 "${mt[@]}"
        expect_exit 0 "A starts mt1" "${CTL_A[@]}" start mt1
        expect_exit 0 "A starts mt2" "${CTL_A[@]}" start mt2
        expect_exit 0 "B starts mt3" "${CTL_B[@]}" start mt3
        OBJS=("$(ctl_a status mt1 --json | json 'd["object"]')" "$(ctl_a status mt2 --json | json 'd["object"]')"
              "$(ctl_b status mt3 --json | json 'd["object"]')")
        local g
        for g in a:mt1 a:mt2 b:mt3; do
                check "${g#*:} verifies" wait_log "${g%%:*}" "${g#*:}" "pass 3 (verify)" 120
        done
}
