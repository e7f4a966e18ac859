#!/usr/bin/python3
# Suspend and resume, guestd-launcher against QEMU microvm, on the same
# payload: memtouch writing and verifying half of the guest's RAM. Run by
# bench/bench-suspend.sh where /dev/kvm is (the host's, or the nested test
# VM's); prints the table rows, one per line, prefixed "row: ".
#
# For each guest size (64, 256, 1024 MiB, half of it touched):
#   suspend   guestd-launcher: SIGUSR2 to the launcher's own log line
#             "Suspended in X ms" (vCPUs stopped, disks flushed, snapshot
#             written and fdatasync'ed). QEMU: QMP stop + migrate to
#             "exec:cat > FILE" until query-migrate says completed, plus an
#             fsync of that file (ours is on stable storage when it says so).
#             Both once memtouch has written its first pass.
#   resume    from starting the process to the first guest instruction:
#             the launcher's "Resumed: the first guest instruction runs
#             X ms after the launcher started" line, and, from outside, the
#             moment that line arrives; QEMU -incoming "exec:cat FILE":
#             from starting it until QMP's query-status says running (it
#             loads the stream paused, as the source was stopped: the
#             script sends cont at once).
#             Median of RUNS.
#   size      blocks the snapshot file takes (du) against the guest RAM the
#             guest touched (the launcher's memfd, --stats).
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

B = os.environ["B"]
LAUNCHER = os.path.join(B, "guestd-launcher")
MEMTOUCH = os.path.join(B, "guests", "memtouch.elf")
RUNS = int(os.environ.get("RUNS", "5"))
SIZES = [int(s) for s in os.environ.get("SIZES", "64 256 1024").split()]
QEMU = ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-enable-kvm", "-nodefaults", "-no-user-config",
        "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
TMP = tempfile.mkdtemp(prefix="guestd-bench-suspend.")


def wait_for(path, pattern, timeout=600):
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                m = rx.search(f.read())
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no /{pattern}/ in {path} after {timeout}s")


def du_kib(path):
    return os.stat(path).st_blocks // 2


def cmdline(mib):
    return f"memtouch.mib={mib // 2} memtouch.passes=0"


class QMP:
    def __init__(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)
        self.f = self.s.makefile("rw")
        self.events = []
        self.read()  # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        line = self.f.readline()
        if not line:
            raise RuntimeError("QMP closed")
        return json.loads(line)

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            m = self.read()
            if "event" in m:
                self.events.append(m)
                continue
            if "error" in m:
                raise RuntimeError(f"QMP {name}: {m['error']}")
            return m["return"]


def ours(mib):
    snap = f"{TMP}/ours-{mib}.snap"
    out, err = f"{TMP}/ours-{mib}.out", f"{TMP}/ours-{mib}.err"
    with open(out, "w") as o, open(err, "w") as e:
        p = subprocess.Popen([LAUNCHER, "--memory", str(mib), "--kernel", MEMTOUCH, "--cmdline", cmdline(mib),
                              "--snapshot", snap, "--stats"], stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    wait_for(out, r"memtouch pass 1 \(write\)")
    p.send_signal(signal.SIGUSR2)
    rc = p.wait(timeout=600)
    if rc != 8:
        raise RuntimeError(f"launcher suspend of {mib} MiB: exit {rc}: {open(err).read()[-500:]}")
    text = open(err).read()
    suspend_ms = float(re.search(r"Suspended in ([0-9.]+) ms", text).group(1))
    touched_kib = int(re.search(r"guest_ram_touched_kib=([0-9]+)", text).group(1))
    size_kib = du_kib(snap)
    inside, outside = [], []
    for i in range(RUNS):
        rerr = f"{TMP}/ours-{mib}-resume{i}.err"
        with open(rerr, "w") as e:
            t0 = time.monotonic()
            p = subprocess.Popen([LAUNCHER, "--memory", str(mib), "--resume", snap], stdout=subprocess.DEVNULL, stderr=e,
                                 stdin=subprocess.DEVNULL)
        m = wait_for(rerr, r"first guest instruction runs ([0-9.]+) ms", timeout=120)
        outside.append((time.monotonic() - t0) * 1000)
        inside.append(float(m.group(1)))
        p.kill()
        p.wait()
    return suspend_ms, size_kib, touched_kib, statistics.median(inside), statistics.median(outside)


def theirs(mib):
    snap = f"{TMP}/qemu-{mib}.mig"
    serial = f"{TMP}/qemu-{mib}.serial"
    qmp = f"{TMP}/qemu-{mib}.qmp"
    p = subprocess.Popen(QEMU + ["-m", str(mib), "-kernel", MEMTOUCH, "-append", cmdline(mib), "-serial", f"file:{serial}",
                                 "-qmp", f"unix:{qmp},server=on,wait=off"], stdin=subprocess.DEVNULL)
    q = QMP(qmp)
    wait_for(serial, r"memtouch pass 1 \(write\)")
    t0 = time.monotonic()
    q.cmd("stop")
    q.cmd("migrate", uri=f"exec:cat > {snap}")
    while True:
        st = q.cmd("query-migrate")
        if st.get("status") == "completed":
            break
        if st.get("status") in ("failed", "cancelled"):
            raise RuntimeError(f"QEMU migrate: {st}")
        time.sleep(0.005)
    fd = os.open(snap, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    suspend_ms = (time.monotonic() - t0) * 1000
    p.kill()
    p.wait()
    size_kib = du_kib(snap)
    outside = []
    for i in range(RUNS):
        qmp_i = f"{qmp}.{i}"
        t0 = time.monotonic()
        p = subprocess.Popen(QEMU + ["-m", str(mib), "-kernel", MEMTOUCH, "-append", cmdline(mib), "-serial", "null",
                                     "-qmp", f"unix:{qmp_i},server=on,wait=off", "-incoming", f"exec:cat {snap}"],
                             stdin=subprocess.DEVNULL)
        q = QMP(qmp_i)
        # Polled, not the RESUME event: that may come before we are
        # connected, and QMP does not replay events. The stream carries
        # the source's run state, stopped: once loaded ("paused"), cont.
        while True:
            status = q.cmd("query-status")["status"]
            if status == "running":
                break
            if status in ("paused", "postmigrate"):
                q.cmd("cont")
                continue
            time.sleep(0.002)
        outside.append((time.monotonic() - t0) * 1000)
        p.kill()
        p.wait()
    return suspend_ms, size_kib, statistics.median(outside)


def row(measure, a, b, ratio=None):
    if ratio is None:
        ratio = f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else "-"
    fa = f"{a:.1f}" if isinstance(a, float) else str(a)
    fb = f"{b:.1f}" if isinstance(b, float) else str(b)
    print(f"row: | {measure} | {fa} | {fb} | {ratio} |", flush=True)


for mib in SIZES:
    s_ours, size_ours, touched, r_in, r_out = ours(mib)
    s_q, size_q, r_q = theirs(mib)
    row(f"{mib} MiB guest, {mib // 2} MiB touched: suspend (ms)", s_ours, s_q)
    row(f"{mib} MiB: resume to the first guest instruction, from the process's start, median of {RUNS} (ms)", r_out, r_q)
    row(f"{mib} MiB: the same, the launcher's own clock (ms)", r_in, "n/a", "-")
    row(f"{mib} MiB: snapshot on disk (KiB)", size_ours, size_q)
    row(f"{mib} MiB: guest RAM the guest touched (KiB); snapshot / touched", touched, "-",
        f"{size_ours / touched:.3f}" if touched else "-")
