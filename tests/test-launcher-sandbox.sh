# guestd-test: kvm
# The launcher's seccomp allowlist, standalone: payloads that use every
# device run under it, and each forbidden call a test can ask for
# (--test-sandbox-violation) kills the launcher with SIGSYS before it
# happens, with a line saying which system call it was.
source "$(dirname "$0")/lib.sh"
need_launcher
need_kvm
truncate -s 1M "$TMP/disk"

expect_exit 0 "hello under the sandbox" "$LAUNCHER" --memory 16 --kernel "$GUESTS/hello.elf"
expect_exit 0 "blk (read, write, flush) under the sandbox" "$LAUNCHER" --memory 16 --kernel "$GUESTS/blk.elf" --disk "$TMP/disk"
expect_exit 0 "two vCPUs under the sandbox" "$LAUNCHER" --memory 16 --vcpus 2 --kernel "$GUESTS/count.elf" \
        --cmdline "count.max=3 count.delay=1000"
expect_exit 0 "--stats under the sandbox" "$LAUNCHER" --memory 16 --kernel "$GUESTS/hello.elf" --stats
expect_grep "$TMP/err" "launcher_peak_rss_kib=[1-9]" "--stats still measures"
expect_grep "$TMP/err" "mmu_recycled=[0-9]* mmu_shadow_zapped=[0-9]* mmu_cache_miss=[0-9]" "--stats reads the VM's shadow MMU counters"
# A fixed page-table cap, set before the lock (KVM's minimum is 64).
expect_exit 0 "--mmu-pages 64: memtouch over 256 page tables runs under the cap" "$LAUNCHER" --stats --memory 64 \
        --mmu-pages 64 --kernel "$GUESTS/memtouch.elf" --cmdline "memtouch.mib=4 memtouch.virt-mib=512 memtouch.stride=512 memtouch.passes=3"
expect_grep "$TMP/out" "memtouch OK" "memtouch verified"
recycled=$(sed -n 's/.*mmu_recycled=\([0-9]*\) mmu_shadow_zapped=\([0-9]*\).*/\1 + \2/p' "$TMP/err")
if ! kvm_shadows >/dev/null; then
        echo "SKIP (part, KVM here uses NPT/EPT with the TDP MMU, which ignores the cap): KVM recycling shadow pages under --mmu-pages" >&2
elif [ "$((${recycled:-0}))" -gt 0 ]; then ok "KVM threw shadow pages away to keep the cap ($recycled)"
else fail "KVM threw no shadow pages away under a cap of 64 (${recycled:-no stats line})"; fi
expect_exit 1 "--mmu-pages 63 is refused" "$LAUNCHER" --memory 16 --mmu-pages 63 --kernel "$GUESTS/hello.elf"
expect_grep "$TMP/err" "from 64 (KVM's minimum)" "the refusal says why"
printf 'hello guest\nquit\n' >"$TMP/input"
timeout 30 "$LAUNCHER" --memory 16 --kernel "$GUESTS/echo.elf" <"$TMP/input" >"$TMP/out" 2>"$TMP/err"
check_rc=$?
[ $check_rc = 0 ] && ok "console input under the sandbox" || fail "console input under the sandbox: exit $check_rc"
expect_grep "$TMP/out" "echo: HELLO GUEST" "echo answered"

# 159 = 128 + SIGSYS (31): killed by the signal, as the shell reports it.
for call in ioctl-create-vm ioctl-create-vcpu ioctl-set-nr-mmu-pages ioctl-set-memory-region open socket execve fork mmap-exec ptrace; do
        expect_exit 159 "forbidden $call kills the launcher with SIGSYS" \
                "$LAUNCHER" --memory 16 --kernel "$GUESTS/count.elf" --test-sandbox-violation="$call"
        expect_grep "$TMP/err" "sandbox violation: system call [0-9]" "$call: the refused call is reported"
        if grep -q "^count 0" "$TMP/out"; then fail "$call: the guest ran before the sandbox was locked"; fi
done
expect_exit 1 "an unknown test call is refused" "$LAUNCHER" --memory 16 --kernel "$GUESTS/hello.elf" --test-sandbox-violation=bogus
finish
