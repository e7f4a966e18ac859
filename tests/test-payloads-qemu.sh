# guestd-test: kvm
#!/usr/bin/env bash
# Boots every test payload (tests/guests/) under QEMU's microvm machine and
# checks its output and exit status: the reference our launcher is held to
# by tests/test-payloads-launcher.sh, with the same cases
# (tests/guests/payload-cases.sh).
#
# QEMU's isa-debug-exit device makes QEMU exit with (value << 1) | 1 when
# the guest writes value to port 0xf4: 1 means the guest powered off with 0.
# -no-reboot makes a reset or a triple fault exit with 0. QEMU hangs when
# KVM's instruction emulator gives up, so everything runs under timeout.
# microvm's virtio-mmio transports are legacy (version 1) unless told
# otherwise; the payloads speak the modern interface only.
source "$(dirname "$0")/lib.sh"
need_kvm
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
command -v timeout >/dev/null || skip "timeout (coreutils) is not installed"
source tests/guests/payload-cases.sh

boot_payload() {
        local args=(-M microvm,acpi=off -enable-kvm -m "$P_MEM" -nodefaults -no-user-config -nographic
                -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot
                -global virtio-mmio.force-legacy=false -kernel "$P_KERNEL" -append "$P_CMDLINE")
        [ -n "$P_INITRD" ] && args+=(-initrd "$P_INITRD")
        if [ -n "$P_DISK" ]; then
                local drive="file=$P_DISK,if=none,format=raw,id=d0" device="virtio-blk-device,drive=d0"
                [ "$P_DISK_RO" = 1 ] && drive+=",readonly=on"
                [ -n "$P_SERIAL" ] && device+=",serial=$P_SERIAL"
                args+=(-drive "$drive" -device "$device")
        fi
        timeout -k 5 "$P_TIMEOUT" qemu-system-x86_64 "${args[@]}" </dev/null >"$TMP/console" 2>&1
        local rc=$?
        case $rc in
        1) RESULT=ok ;;
        0) RESULT=shutdown ;;
        124 | 137) RESULT=timeout ;;
        *) if [ $((rc & 1)) = 1 ] && [ $rc -lt 128 ]; then RESULT=fail; else RESULT=vmm-error:$rc; fi ;;
        esac
}

BZIMAGE_ENTRY='^bzimage: entered at the 32-bit entry \(code32_start\) from the real-mode setup stub$'
payload_common_cases
payload_case "count, then triple fault" shutdown "$GUESTS/count.elf" "count.max=1 count.then=triple-fault" '+^count: done'
finish
