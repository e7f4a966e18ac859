#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target (build/fuzz/fuzz-TARGET) for
# FUZZ_SECONDS on a working corpus seeded from tests/fuzz/corpus/TARGET.
# A crashing input is kept as tests/fuzz/regress/TARGET/crash-* (and
# leak-*, timeout-*), which `make check` replays from then on: commit it
# with the fix. Prints one line per target and writes them, with the
# command, to build/fuzz/report.txt. Exits non-zero if any target found
# something.
set -u
cd "$(dirname "$0")/../.."
: "${FUZZ_SECONDS:=60}"
report=build/fuzz/report.txt
mkdir -p build/fuzz
: >"$report.tmp"
status=0
for t in "$@"; do
        bin=build/fuzz/fuzz-$t work=build/fuzz/corpus-$t
        mkdir -p "$work" "tests/fuzz/regress/$t"
        log=build/fuzz/$t.log
        # -rss_limit_mb and -timeout: an input that eats memory or time is
        # a bug too. Seeds first, then the working corpus it grows.
        "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
                -artifact_prefix="tests/fuzz/regress/$t/" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
        rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        if [ $rc = 0 ]; then
                line="$t: ${runs:-?} executions in ${FUZZ_SECONDS} s (${speed:-?}/s), ${cov:-cov: ?}, no crash"
        else
                line="$t: FOUND A BUG after ${runs:-?} executions (exit $rc); input kept in tests/fuzz/regress/$t/; see $log"
                status=1
                tail -n 30 "$log" >&2
        fi
        echo "$line" | tee -a "$report.tmp"
done
{
        echo "Made by \`make fuzz FUZZ_SECONDS=$FUZZ_SECONDS\` on $(date -u +%Y-%m-%d), $(clang --version | head -n 1):"
        cat "$report.tmp"
} >"$report"
rm -f "$report.tmp"
exit $status
