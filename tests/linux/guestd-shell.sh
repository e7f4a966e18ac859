# guestd: the tiny Linux kernel's shell through guestd, as an unprivileged
# user (run by tests/linux/check-linux.sh, which builds the kernel and
# passes it in LINUX_VMLINUX, LINUX_INITRAMFS and LINUX_CMDLINE).
#
# The test user creates and starts the guest with guestctl, the console log
# shows the shell's prompt, a command typed through `guestctl console` runs
# in the guest and its answer comes back, and `guestctl stop` ends it: the
# guest is asked (Ctrl-Alt-Del) and its /init shuts down by itself.
# Then suspend and resume (issue 9): a shell loop prints a counter and
# appends it to a file on an ext2 disk; the guest is suspended and resumed
# in the middle; the loop goes on from the next number, the kernel did not
# boot again; then `guestctl stop` while the loop still writes: the guest
# unmounts and ends by itself, the host's e2fsck finds the file system
# clean and the file holds every number the loop printed, once.
# Then Debian's packaged kernel with ACPI (LINUX_DEBIAN_KERNEL,
# LINUX_DEBIAN_INITRAMFS): its disk found through ACPI, `guestctl stop`
# presses the power button, its /init unmounts and powers off.
# Exit status: 0 pass, 1 fail, 77 skip (as the integration tests).
source "$(dirname "$0")/../lib.sh"
source tests/daemon-lib.sh
: "${LINUX_VMLINUX:?}" "${LINUX_INITRAMFS:?}" "${LINUX_CMDLINE:?}"
need_launcher
need_daemon
daemon_setup
install -m 0644 "$LINUX_VMLINUX" "$G/vmlinux"
install -m 0644 "$LINUX_INITRAMFS" "$G/initramfs.cpio"
write_policy '{"defaults": {"max_guests": 3, "max_running": 1, "max_vcpus": 2, "max_memory_mib": 256}}'
daemon_start

expect_exit 0 "create the Linux guest" "${CTL_A[@]}" create linux --kernel "$G/vmlinux" \
        --initrd "$G/initramfs.cpio" --memory 128 --vcpus 1 --cmdline "$LINUX_CMDLINE"
expect_exit 0 "start it" "${CTL_A[@]}" start linux
check "it runs" wait_state a linux running 30
check "the kernel runs /init" wait_log a linux 'Run /init as init process' 180
check "the shell starts" wait_log a linux 'guestd-init: starting a shell' 60
check "its prompt is on the console" wait_log a linux 'guestd-shell# ' 60

# Typed through guestctl console (stdin not a terminal: it is typed, and
# guestctl leaves once stdin has ended and the guest is quiet for 5 s).
printf 'echo guestd-console-$((6 * 7)) $(id -u)\n' |
        timeout 90 "${CTL_A[@]}" console linux --idle 5000 >"$TMP/console" 2>"$TMP/console.err"
rc=$?
check "guestctl console ended by itself" [ $rc = 0 ]
# The guest's shell computed it (what was typed has the expression).
expect_grep "$TMP/console" 'guestd-console-42 0' "the command ran in the guest and its answer came back"
check "the answer is in the console log too" wait_log a linux 'guestd-console-42 0' 10

# Stop asks the guest (Ctrl-Alt-Del); its /init shuts down by itself.
expect_exit 0 "guestctl stop" "${CTL_A[@]}" stop linux
echo "    guestctl stop: $(cat "$TMP/out")"
expect_grep "$TMP/out" "shut down by the guest when asked (Ctrl-Alt-Del)" "guestctl stop says the guest shut down by itself"
check "the guest stopped" wait_state a linux stopped 30
check "its /init took Ctrl-Alt-Del" wait_log a linux 'guestd-init: ctrl-alt-del: shutting down' 5
ctl_a status linux >"$TMP/status" 2>&1
expect_grep "$TMP/status" 'stopped' "status says stopped"
check "no launcher is left" [ -z "$(launcher_pids)" ]

# --- suspend and resume while a shell loop writes to an ext2 disk
LOOPS=100000 # runs until stopped
truncate -s 8M "$G/fs.img"
mkfs.ext2 -q -F "$G/fs.img" >/dev/null
chown "$USER_A" "$G/fs.img"
FS_CMDLINE="${LINUX_CMDLINE/guestd.mode=shell/} guestd.mode=fsloop guestd.loops=$LOOPS"
expect_exit 0 "create the Linux guest with an ext2 disk" "${CTL_A[@]}" create fsloop --kernel "$G/vmlinux" \
        --initrd "$G/initramfs.cpio" --memory 128 --vcpus 1 --disk "$G/fs.img" --no-acpi --cmdline "$FS_CMDLINE"
expect_exit 0 "start it" "${CTL_A[@]}" start fsloop
check "the file system is mounted" wait_log a fsloop 'guestd-init: ext2 mounted' 180
check "the loop runs" wait_log a fsloop 'guestd-init: loop 5' 60
expect_exit 0 "suspend it while the loop writes" "${CTL_A[@]}" suspend fsloop
suspended_alone() { [ "$(guest_state a fsloop)" = suspended ] && [ -z "$(launcher_pids)" ]; }
check "it is suspended, no launcher runs" suspended_alone
ctl_a log fsloop >"$TMP/before" 2>&1
last=$(grep -o 'guestd-init: loop [0-9]*' "$TMP/before" | tail -n 1 | grep -o '[0-9]*$')
echo "    suspended after loop $last"
expect_exit 0 "resume it" "${CTL_A[@]}" resume fsloop
check "the loop goes on after the resume" wait_log a fsloop "guestd-init: loop $((${last:-0} + 10))" 120
# Stop while the file system is mounted and written: the guest is asked
# (Ctrl-Alt-Del), its /init unmounts and ends it; nothing is cut off.
expect_exit 0 "stop it while the loop writes" "${CTL_A[@]}" stop fsloop
echo "    guestctl stop: $(cat "$TMP/out")"
expect_grep "$TMP/out" "shut down by the guest when asked" "it shut down by itself"
check "it stopped" wait_state a fsloop stopped 30
ctl_a log fsloop | tr -d '\r' >"$TMP/after" 2>&1
expect_grep "$TMP/after" "guestd-init: unmounted /mnt" "its /init unmounted the file system"
seq_seen=$(grep -o 'guestd-init: loop [0-9]*$' "$TMP/after" | grep -o '[0-9]*$' | tr '\n' ' ')
n_seen=$(echo $seq_seen | wc -w)
check "the loop went on from the next number: 0 to $((n_seen - 1)), each once" \
        [ "$seq_seen" = "$(seq -s ' ' 0 $((n_seen - 1))) " ]
check "the kernel booted once (no reboot on resume)" [ "$(grep -c 'Run /init as init process' "$TMP/after")" = 1 ]
expect_exit 0 "the host's e2fsck finds the file system clean" e2fsck -f -n "$G/fs.img"
debugfs -R "cat /counter" "$G/fs.img" 2>/dev/null | tr '\n' ' ' >"$TMP/counter"
check "the file holds every number the loop printed, once: $(cat "$TMP/counter" | wc -w) numbers" \
        [ "$(cat "$TMP/counter")" = "$seq_seen" ]

# --- Debian's packaged kernel with ACPI (guestd's default): the disk from
# the DSDT, and Stop presses the power button; the guest powers off.
if [ -n "${LINUX_DEBIAN_KERNEL:-}" ] && [ -n "${LINUX_DEBIAN_INITRAMFS:-}" ]; then
        install -m 0644 "$LINUX_DEBIAN_KERNEL" "$G/vmlinuz"
        install -m 0644 "$LINUX_DEBIAN_INITRAMFS" "$G/initramfs-debian.cpio"
        mkfs.ext2 -q -F "$G/fs.img" >/dev/null
        seed=$RANDOM$RANDOM
        expect_exit 0 "create a guest of Debian's kernel with a disk (ACPI by default)" "${CTL_A[@]}" create debian \
                --kernel "$G/vmlinuz" --initrd "$G/initramfs-debian.cpio" --memory 256 --disk "$G/fs.img" \
                --cmdline "console=ttyS0 panic=-1 guestd.mode=files guestd.seed=$seed guestd.then=wait"
        expect_exit 0 "start it" "${CTL_A[@]}" start debian
        check "it found its disk through ACPI and wrote a file" wait_log a debian 'guestd-init: file round trip ok' 240
        check "its dmesg has no ACPI warning or error" wait_log a debian 'guestd-init: ACPI warnings and errors in dmesg: 0' 30
        check "it listens to the power button" wait_log a debian 'guestd-init: listening to the power button' 5
        check "it waits" wait_log a debian 'guestd-init: waiting to be asked to shut down' 30
        ctl_a log debian | tr -d '\r' >"$TMP/debian" 2>&1
        if grep -q 'virtio_mmio.device=' "$TMP/debian"; then
                fail "the disk was on the command line too"
        else
                ok "the disk was not on the command line"
        fi
        expect_exit 0 "guestctl stop" "${CTL_A[@]}" stop debian
        echo "    guestctl stop: $(cat "$TMP/out")"
        expect_grep "$TMP/out" "shut down by the guest when asked (ACPI power button)" "guestctl stop says the guest shut down by itself, asked by the power button"
        check "it stopped" wait_state a debian stopped 30
        ctl_a log debian | tr -d '\r' >"$TMP/debian" 2>&1
        expect_grep "$TMP/debian" "guestd-init: power button: shutting down" "its /init took the power button"
        expect_grep "$TMP/debian" "guestd-init: unmounted /mnt" "and unmounted the file system"
        expect_exit 0 "the host's e2fsck finds the file system clean" e2fsck -f -n "$G/fs.img"
        check "the file is in the image" [ "$(debugfs -R "cat /guestd-file" "$G/fs.img" 2>/dev/null)" = "guestd file $seed" ]
else
        fail "Debian's kernel with ACPI through guestd: LINUX_DEBIAN_KERNEL and LINUX_DEBIAN_INITRAMFS not given (check-linux.sh passes them)"
fi
finish
