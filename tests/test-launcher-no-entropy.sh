# guestd-test: kvm
# Nothing the launcher does after its seccomp lock may depend on a call
# the filter refuses. json-c seeds its key hash with getrandom(
# GRND_NONBLOCK) and, while the kernel's entropy pool is not ready (a host
# just booted, without RDRAND), falls back to stat() and open() of
# /dev/urandom: once that happened after the lock and killed the launcher
# (SIGSYS). tests/seccomp-errno makes every getrandom() fail as it does
# then, on any machine, so the fallback is taken every time.
source "$(dirname "$0")/lib.sh"
need_launcher
need_kvm
SECCOMP_ERRNO=$B/tests/seccomp-errno
[ -x "$SECCOMP_ERRNO" ] || skip "$SECCOMP_ERRNO is not built"
NOENT=("$SECCOMP_ERRNO" getrandom EAGAIN)

# The stand-in works: getrandom answers EAGAIN under it.
if "${NOENT[@]}" "$PY" -c 'import os; os.getrandom(1, os.GRND_NONBLOCK)' 2>/dev/null; then
        fail "no-entropy: getrandom still succeeds under it"
else
        ok "no-entropy: getrandom fails with EAGAIN"
fi

truncate -s 1M "$TMP/disk"
expect_exit 0 "hello without entropy" "${NOENT[@]}" "$LAUNCHER" --memory 16 --kernel "$GUESTS/hello.elf"
expect_exit 0 "blk without entropy" "${NOENT[@]}" "$LAUNCHER" --memory 16 --kernel "$GUESTS/blk.elf" --disk "$TMP/disk"
expect_exit 0 "two vCPUs and --stats without entropy" "${NOENT[@]}" "$LAUNCHER" --memory 16 --vcpus 2 \
        --kernel "$GUESTS/count.elf" --cmdline "count.max=3 count.delay=1000" --stats
if grep -q "sandbox violation" "$TMP/err"; then fail "a sandbox violation was reported: $(grep -m1 'sandbox violation' "$TMP/err")"; fi
# Under guestd's protocol too (the harness plays guestd).
expect_exit 0 "daemon mode without entropy" "${NOENT[@]}" "$B/tests/launcher-harness" "$LAUNCHER" "$GUESTS" basic
finish
