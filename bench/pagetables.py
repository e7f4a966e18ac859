#!/usr/bin/python3
# What a cap on KVM's shadow page tables costs a guest: guestd-launcher
# standalone with a fixed cap (--mmu-pages: 64, 256, 1024 = lguest's fixed
# pool, and none = KVM's own default, which is what doing nothing gives),
# against QEMU microvm on the same payload (QEMU sets no cap: KVM's
# default). Run by bench/bench-pagetables.sh where KVM shadows guest page
# tables (the nested test VM with npt=0); prints table rows "row: ...".
#
# Payloads (memtouch, every pass in user mode, 512 MiB guests: KVM's
# default cap is 2621 pages):
#   sparse  a 4 GiB window over 16 MiB, one page touched per page table
#           (stride 512): 2048 guest page tables, short passes; the worst
#           case for a tight cap
#   dense   a 256 MiB window over 16 MiB, every page: 128 page tables
# Measures, medians over the verify passes of RUNS runs:
#   pass    guest TSC cycles of one verify pass (memtouch prints them)
#   peak    the most SecPageTables (/proc/meminfo) rose above what it was
#           before the guest started, sampled every 20 ms
#   zapped  shadow pages KVM threw away in the whole run (mmu_recycled +
#           mmu_shadow_zapped, the launcher's --stats)
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

B = os.environ["B"]
LAUNCHER = os.path.join(B, "guestd-launcher")
MEMTOUCH = os.path.join(B, "guests", "memtouch.elf")
RUNS = int(os.environ.get("RUNS", "3"))
PASSES = int(os.environ.get("PASSES", "6"))
MEMORY = 512
CAPS = [None if c == "default" else int(c) for c in os.environ.get("CAPS", "default 1024 256 64").split()]
LOADS = {
    "sparse": "memtouch.mib=16 memtouch.virt-mib=4096 memtouch.stride=512",
    "dense": "memtouch.mib=16 memtouch.virt-mib=256",
}
LOADS = {k: v for k, v in LOADS.items() if k in os.environ.get("LOADS", "sparse dense").split()}
QEMU = ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-enable-kvm", "-nodefaults", "-no-user-config",
        "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
TMP = tempfile.mkdtemp(prefix="guestd-bench-pagetables.")


def sec_page_tables():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("SecPageTables:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no SecPageTables in /proc/meminfo (Linux before 6.0)")


def run(argv, out):
    """Runs argv to its end, sampling SecPageTables; returns the verify
    passes' cycles and the peak rise of SecPageTables."""
    base = sec_page_tables()
    peak = 0
    with open(out, "w") as o:
        p = subprocess.Popen(argv, stdout=o, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        while p.poll() is None:
            peak = max(peak, sec_page_tables() - base)
            time.sleep(0.02)
    text = open(out, errors="replace").read()
    cycles = [int(c) for c in re.findall(r"pass \d+ \(verify\): checksum 0x[0-9a-f]+, 0 mismatches, (\d+) cycles", text)]
    if len(cycles) != PASSES - 1 or "memtouch OK" not in text:
        raise RuntimeError(f"{argv[0]}: {len(cycles)} verify passes of {PASSES - 1}; the end of its output:\n{text[-800:]}")
    m = re.search(r"mmu_recycled=(\d+) mmu_shadow_zapped=(\d+)", text)
    RECYCLED.append(int(m.group(1)) + int(m.group(2)) if m else 0)
    return cycles, peak


RECYCLED = []


def ours(load, cap, i):
    argv = [LAUNCHER, "--stats", "--memory", str(MEMORY), "--kernel", MEMTOUCH, "--cmdline",
            f"{LOADS[load]} memtouch.passes={PASSES}"]
    if cap:
        argv += ["--mmu-pages", str(cap)]
    return run(argv, f"{TMP}/ours-{load}-{cap}-{i}.out")


def theirs(load, i):
    serial = f"{TMP}/qemu-{load}-{i}.serial"
    argv = QEMU + ["-m", str(MEMORY), "-kernel", MEMTOUCH, "-append", f"{LOADS[load]} memtouch.passes={PASSES}",
                   "-serial", f"file:{serial}"]
    base = sec_page_tables()
    peak = 0
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while p.poll() is None:
        peak = max(peak, sec_page_tables() - base)
        time.sleep(0.02)
    text = open(serial, errors="replace").read()
    cycles = [int(c) for c in re.findall(r"pass \d+ \(verify\): checksum 0x[0-9a-f]+, 0 mismatches, (\d+) cycles", text)]
    if len(cycles) != PASSES - 1:
        raise RuntimeError(f"QEMU: {len(cycles)} verify passes of {PASSES - 1}:\n{text[-800:]}")
    return cycles, peak


def median_of(fn, *args):
    cycles, peaks = [], []
    for i in range(RUNS):
        c, p = fn(*args, i)
        cycles += c
        peaks.append(p)
    return statistics.median(cycles), statistics.median(peaks)


for load in LOADS:
    q_cycles, q_peak = median_of(theirs, load)
    default_cycles = None
    for cap in CAPS:
        RECYCLED.clear()
        c, peak = median_of(ours, load, cap)
        zapped = statistics.median(RECYCLED)
        if cap is None or default_cycles is None:
            default_cycles = c
        name = "KVM's default (2621 pages; doing nothing)" if cap is None else f"{cap} pages" + (
            " (lguest's fixed pool)" if cap == 1024 else "")
        print(f"row: | {load} | {name} | {c / 1e6:.2f} | {c / default_cycles:.2f} | {q_cycles / 1e6:.2f} | {c / q_cycles:.2f} "
              f"| {peak / 1024:.0f} | {q_peak / 1024:.0f} | {zapped:.0f} |", flush=True)
print(f"(raw outputs in {TMP})", file=sys.stderr)
