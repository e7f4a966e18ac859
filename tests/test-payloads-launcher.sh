# guestd-test: kvm
#!/usr/bin/env bash
# Boots every test payload (tests/guests/) under our launcher and checks its
# output and exit status: the same cases QEMU passes in
# tests/test-payloads-qemu.sh (tests/guests/payload-cases.sh), plus the
# ways a guest ends that only our launcher reports apart (reset, triple
# fault), and the bzImage's 64-bit entry.
#
# The launcher's exit status: 0 the guest powered off with 0, 6 the guest
# reported failure, 3 reset, 4 triple fault, 5 KVM internal error, 1 the
# launcher failed. It adds virtio_mmio.device= entries for its disks to
# the command line itself.
source "$(dirname "$0")/lib.sh"
need_launcher
need_kvm
command -v timeout >/dev/null || skip "timeout (coreutils) is not installed"
source tests/guests/payload-cases.sh

boot_payload() {
        local args=(--kernel "$P_KERNEL" --memory "$P_MEM" --vcpus 1 --console stdio)
        [ -n "$P_CMDLINE" ] && args+=(--cmdline "$P_CMDLINE")
        [ -n "$P_INITRD" ] && args+=(--initrd "$P_INITRD")
        if [ -n "$P_DISK" ]; then
                if [ "$P_DISK_RO" = 1 ]; then args+=(--disk "$P_DISK,ro"); else args+=(--disk "$P_DISK"); fi
        fi
        timeout -k 5 "$P_TIMEOUT" "$LAUNCHER" "${args[@]}" </dev/null >"$TMP/console" 2>"$TMP/launcher.err"
        local rc=$?
        case $rc in
        0) RESULT=ok ;;
        6) RESULT=fail ;;
        3) RESULT=reset ;;
        4) RESULT=triple-fault ;;
        5) RESULT=internal-error ;;
        124 | 137) RESULT=timeout ;;
        *) RESULT=vmm-error:$rc ;;
        esac
        # The launcher's own messages, for the failure report.
        sed 's/^/launcher: /' "$TMP/launcher.err" >>"$TMP/console"
}

BZIMAGE_ENTRY='^bzimage: entered at the 64-bit entry \(load address \+ 0x200, long mode\)$'
payload_common_cases
payload_case "count, then reset" reset "$GUESTS/count.elf" "count.max=1 count.then=reset" '+^count: done'
payload_case "count, then triple fault" triple-fault "$GUESTS/count.elf" "count.max=1 count.then=triple-fault" '+^count: done'
finish
