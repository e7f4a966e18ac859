#!/usr/bin/env bash
# Runs the unit test binaries given as arguments, then every integration
# test tests/test-*.sh, and ends with the line "N passed, N failed, N skipped".
# Exit status convention for a test: 0 pass, 77 skip (say why on stderr),
# anything else fail. Output of failing tests is shown; others are quiet
# unless V=1.
set -u
cd "$(dirname "$0")/.."
: "${B:?B must name the build directory}"
export B
passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d /tmp/guestd-tests.XXXXXX)

run_one() {
        local name=$1; shift
        local log="$logdir/$(basename "$name").log" rc start end
        start=$(date +%s.%N)
        "$@" >"$log" 2>&1
        rc=$?
        end=$(date +%s.%N)
        local t
        t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')
        if [ $rc -eq 0 ]; then
                passed=$((passed + 1)); echo "PASS  $name ($t)"
                [ "${V:-0}" = 1 ] && sed 's/^/    /' "$log"
        elif [ $rc -eq 77 ]; then
                skipped=$((skipped + 1)); echo "SKIP  $name: $(tail -n 1 "$log")"
        else
                failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name (exit $rc, $t)"
                tail -n 40 "$log" | sed 's/^/    /'
        fi
}

for t in "$@"; do
        run_one "unit/$(basename "$t")" "$t"
done
for t in tests/test-*.sh; do
        [ -e "$t" ] || continue
        [ -n "${ONLY:-}" ] && [[ "$t" != *"$ONLY"* ]] && continue
        run_one "$t" bash "$t"
done

rm -rf "$logdir"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
