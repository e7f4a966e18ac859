#!/usr/bin/env bash
# Benchmarks of guestd through D-Bus, appended to bench/RESULTS.md by
# bench/bench.sh (or run alone: B=build/gcc bench/bench-daemon.sh). The
# same set-up as the integration tests (tests/daemon-lib.sh): a private bus,
# the real guestd as root, the client as an unprivileged test user.
#
#   - latency from the Start call to the guest's first console byte
#     (bench/startlat.c: fresh guest per run, clock from Start until
#     GetConsoleLog first returns a byte), p50 and p99 over DAEMON_RUNS;
#   - guest starts per second with 1, 4 and 8 concurrent clients, each
#     restarting its own hello guest as soon as it has powered off;
#   - guestd's resident memory (VmRSS) idle and with 100 defined guests.
set -u
source "$(dirname "$0")/../tests/lib.sh"
OUT=${BENCH_OUT:-bench/RESULTS.md}
RUNS=${DAEMON_RUNS:-100}
RATE_SECONDS=${RATE_SECONDS:-5}
source tests/daemon-lib.sh
skip() { echo "bench-daemon: skipped: $*" >&2; exit 0; }
need_launcher
need_daemon

# startlat needs only libsystemd; built here so that `make bench` needs no
# extra rule (see bench/startlat.c).
SL=$B/bench/startlat
if [ ! -x "$SL" ] || [ bench/startlat.c -nt "$SL" ]; then
        mkdir -p "$B/bench"
        ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Icommon -o "$SL" bench/startlat.c \
                $(pkg-config --cflags --libs libsystemd) || { echo "bench-daemon: cannot build startlat" >&2; exit 1; }
fi

daemon_setup
write_policy '{"defaults": {"max_guests": 200, "max_running": 16, "max_vcpus": 64, "max_memory_mib": 8192}}'
daemon_start
install -m 0755 "$SL" "$DTMP/startlat"
rows=()
row() { rows+=("| $1 | $2 |"); echo "$1: $2"; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$GUESTD_PID/status"; }
row "guestd VmRSS, idle, no guests (KiB)" "$(rss)"

lat=$(as_a "$DTMP/startlat" --bus "$BUS" --kernel "$G/hello.elf" --mode latency --runs "$RUNS")
echo "latency: $lat"
row "Start call to first console byte (hello), p50 of $(field runs "$lat") runs (ms)" "$(field p50_ms "$lat")"
row "Start call to first console byte (hello), p99 (ms)" "$(field p99_ms "$lat")"
row "  min / max (ms), failures" "$(field min_ms "$lat") / $(field max_ms "$lat"), $(field failures "$lat")"

for c in 1 4 8; do
        rate=$(as_a "$DTMP/startlat" --bus "$BUS" --kernel "$G/hello.elf" --mode throughput --clients "$c" --seconds "$RATE_SECONDS")
        echo "throughput: $rate"
        row "hello starts per second, $c concurrent client(s), ${RATE_SECONDS}s (failures)" \
                "$(field starts_per_s "$rate") ($(field failures "$rate"))"
done

for i in $(seq 100); do
        ctl_a create "rss$i" --kernel "$G/hello.elf" --memory 16 || { echo "bench-daemon: create rss$i failed" >&2; exit 1; }
done
row "guestd VmRSS with 100 defined guests (KiB)" "$(rss)"
row "guestd VmHWM (peak RSS) over the whole run (KiB)" "$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$GUESTD_PID/status")"

{
        echo
        echo "## guestd through D-Bus"
        echo
        echo "Made by \`bench/bench-daemon.sh\` (from \`make bench\`) on $(date -u +%Y-%m-%d): a private dbus-daemon,"
        echo "guestd as root, the client (\`bench/startlat.c\`, sd-bus) as an unprivileged user. Latency: a fresh"
        echo "guest per run, the clock runs from the Start call until GetConsoleLog first returns a byte (polled"
        echo "back to back, one bus round trip of resolution). Throughput: each client restarts its own hello guest"
        echo "as soon as it has powered off; Start calls that succeeded per second of wall time."
        echo
        echo "| measure | value |"
        echo "|---|---|"
        printf '%s\n' "${rows[@]}"
} >>"$OUT"
echo "Appended the guestd section to $OUT"
