# guestd-test: kvm
# The launcher's exit status and reason line for every way a guest ends,
# and clear errors for bad command lines and files that are no kernel.
source "$(dirname "$0")/lib.sh"
need_launcher
need_kvm

L=("$LAUNCHER" --memory 16)

expect_exit 4 "triple fault" "${L[@]}" --kernel "$GUESTS/end-triple.elf"
expect_grep "$TMP/err" "triple fault on vCPU 0" "triple fault reason"
expect_exit 3 "reset request" "${L[@]}" --kernel "$GUESTS/end-reset.elf"
expect_grep "$TMP/err" "guest requested a reset" "reset reason"
expect_exit 6 "guest failure" "${L[@]}" --kernel "$GUESTS/end-fail.elf"
expect_grep "$TMP/err" "reporting failure 3" "failure reason"
expect_exit 5 "emulation failure" "${L[@]}" --kernel "$GUESTS/end-badinsn.elf"
expect_grep "$TMP/err" "emulation failure on vCPU 0 at rip 0x100000, instruction bytes: d9 05 00 00 00 c0" "emulation failure names the instruction bytes (flds from MMIO)"

# Files that are not kernels.
printf 'not a kernel at all' >"$TMP/text"
expect_exit 1 "text file as kernel" "${L[@]}" --kernel "$TMP/text"
expect_grep "$TMP/err" "neither a PVH ELF file nor a Linux bzImage" "text file reason"
: >"$TMP/empty"
expect_exit 1 "empty kernel" "${L[@]}" --kernel "$TMP/empty"
expect_grep "$TMP/err" "empty or not a regular file" "empty file reason"
expect_exit 1 "ELF without PVH note" "${L[@]}" --kernel /bin/true
expect_grep "$TMP/err" "without a PVH entry note\|not x86\|outside the guest" "ELF without PVH note reason"
head -c 100 "$GUESTS/end-fail.elf" >"$TMP/truncated.elf"
expect_exit 1 "truncated ELF" "${L[@]}" --kernel "$TMP/truncated.elf"
expect_exit 1 "directory as kernel" "${L[@]}" --kernel /
expect_exit 1 "missing kernel file" "${L[@]}" --kernel "$TMP/nonexistent"
expect_grep "$TMP/err" "Failed to open kernel" "missing file reason"

# Bad options.
expect_exit 1 "no kernel" "$LAUNCHER"
expect_grep "$TMP/err" "\-\-kernel is required" "no kernel reason"
expect_exit 1 "odd memory" "${L[@]}" --kernel "$GUESTS/end-fail.elf" --memory 3
expect_exit 1 "zero memory" "$LAUNCHER" --kernel "$GUESTS/end-fail.elf" --memory 0
expect_exit 1 "huge memory" "$LAUNCHER" --kernel "$GUESTS/end-fail.elf" --memory 99999999999999999999
expect_exit 1 "zero vcpus" "${L[@]}" --kernel "$GUESTS/end-fail.elf" --vcpus 0
expect_exit 1 "too many vcpus" "${L[@]}" --kernel "$GUESTS/end-fail.elf" --vcpus 100000
expect_exit 1 "bad console" "${L[@]}" --kernel "$GUESTS/end-fail.elf" --console 999
expect_exit 1 "bad disk option" "${L[@]}" --kernel "$GUESTS/end-fail.elf" --disk "$TMP/text,bogus"
head -c 8M /dev/zero >"$TMP/big"
expect_exit 1 "initrd larger than RAM" "${L[@]}" --kernel "$GUESTS/end-fail.elf" --memory 4 --initrd "$TMP/big"
expect_grep "$TMP/err" "does not fit" "initrd too large reason"
expect_exit 0 "help" "$LAUNCHER" --help
finish
