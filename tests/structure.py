#!/usr/bin/env python3
"""guestd's structure, read off the tree and its objects.

   tests/structure.py [--build B] check KNOWN   (make check: tests/test-structure.sh)
   tests/structure.py [--build B] list          every finding, one a line
   tests/structure.py [--build B] graph         the module graph by floors (docs/design.md)
   tests/structure.py [--build B] numbers       the sizes the findings come from
   tests/structure.py [--build B] doc [--write] FILE
                                                FILE's generated blocks (the graph, and
                                                the tables test-guest --table prints)
                                                match the tree; --write: make them so

A module is a .c file and its .h (daemon/guest.c and daemon/guest.h are
"daemon/guest"); tests (test-*, fuzz-*) are left out. Module A reaches
module B when A's files include B's header, or A's object uses a symbol
B's object defines (nm over the objects of build B: calls and data,
whatever the headers say).

Findings, each one line:
  circle: A B C ...      modules that reach each other (a strongly connected
                         component of the graph): no floor can be given
  upward: A -> B         a folder reaching one it may not (FOLDER_MAY below:
                         common/ reaches no program's folder, tests included)
  long-file: F N         a file over FILE_MAX lines (tests aside)
  long-function: F:NAME N  a function over FUNC_MAX lines (tests aside)

check KNOWN fails on any finding not listed in KNOWN and on any line of
KNOWN that is no longer found (so the list is always the truth, and
shrinks as the tree is reshaped). Exit status: 0 clean, 1 findings, 2 usage.
"""
import os
import re
import subprocess
import sys

FOLDERS = ["common", "kmod", "policy", "launcher/devices", "launcher", "daemon", "cli"]
INCLUDE_PATH = ["common", "kmod", "launcher", "launcher/devices", "daemon", "policy"]
# Which folders each folder may reach (besides itself).
FOLDER_MAY = {
    "common": set(),
    "kmod": {"common"},
    "policy": {"common", "kmod"},
    "launcher/devices": {"common", "kmod", "launcher"},
    "launcher": {"common", "kmod", "launcher/devices"},
    "daemon": {"common", "kmod", "policy"},
    "cli": {"common"},
}
FILE_MAX = 600
FUNC_MAX = 100


def is_test(name):
    base = os.path.basename(name)
    return base.startswith("test-") or base.startswith("fuzz-") or base == "test.h" or base == "fuzz.h"


def module_of(path):
    return os.path.splitext(path)[0]


def sources():
    out = []
    for d in FOLDERS:
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                out.append(os.path.join(d, f))
    return out


def resolve_include(src, name):
    here = os.path.join(os.path.dirname(src), name)
    if os.path.exists(here):
        return os.path.normpath(here)
    for d in INCLUDE_PATH:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return os.path.normpath(p)
    return None


INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def include_edges(files):
    edges = {}
    for src in files:
        with open(src, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                target = resolve_include(src, m.group(1))
                if target is None:
                    continue
                a, b = module_of(src), module_of(target)
                if a != b:
                    edges.setdefault(a, set()).add(b)
    return edges


def symbol_edges(build, modules):
    defined = {}
    undefined = {}
    for mod in modules:
        obj = os.path.join(build, mod + ".o")
        if not os.path.exists(obj):
            continue
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                undefined.setdefault(mod, set()).add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBRGSV":
                defined.setdefault(parts[2], mod)
    edges = {}
    for mod, syms in undefined.items():
        for s in syms:
            d = defined.get(s)
            if d and d != mod:
                edges.setdefault(mod, set()).add(d)
    return edges


def sccs(nodes, edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def folder_of(mod):
    d = os.path.dirname(mod)
    return d


def functions(files):
    out = []
    cfiles = [f for f in files if f.endswith(".c")]
    if not cfiles:
        return out
    res = subprocess.run(["ctags", "-x", "--_xformat=%N %n %e %F", "--kinds-C=f"] + cfiles,
                         capture_output=True, text=True, check=True).stdout
    for line in res.splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[2].isdigit():
            continue
        name, start, end, f = parts[0], int(parts[1]), int(parts[2]), parts[3]
        out.append((f, name, end - start + 1))
    return out


def analyse(build):
    files = [f for f in sources() if not is_test(f)]
    all_files = sources()
    modules = sorted({module_of(f) for f in files})
    edges = include_edges(files)
    for a, bs in symbol_edges(build, modules).items():
        edges.setdefault(a, set()).update(bs)
    # Tests count for folder rules (common/ reaching a program's folder
    # from its own tests is still an arrow up), not for circles.
    test_edges = include_edges([f for f in all_files if is_test(f)])
    findings = []
    for comp in sccs(modules, edges):
        if len(comp) > 1:
            findings.append("circle: " + " ".join(comp))
    seen = set()
    for src_edges in (edges, test_edges):
        for a, bs in src_edges.items():
            fa = folder_of(a)
            for b in bs:
                fb = folder_of(b)
                if fa != fb and fb not in FOLDER_MAY.get(fa, set()) and (a, b) not in seen:
                    seen.add((a, b))
                    findings.append("upward: %s -> %s" % (a, b))
    sizes = {}
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            sizes[f] = sum(1 for _ in fh)
        if sizes[f] > FILE_MAX:
            findings.append("long-file: %s %d" % (f, sizes[f]))
    funcs = functions(files)
    for f, name, n in funcs:
        if n > FUNC_MAX:
            findings.append("long-function: %s:%s %d" % (f, name, n))
    return modules, edges, findings, sizes, funcs


def key(finding):
    # A long file or function is one finding whatever its exact length.
    if finding.startswith(("long-file:", "long-function:")):
        return finding.rsplit(" ", 1)[0]
    return finding


def floors(modules, edges):
    comps = sccs(modules, edges)
    comp_of = {}
    for i, c in enumerate(comps):
        for m in c:
            comp_of[m] = i
    level = {}

    def lv(i):
        if i in level:
            return level[i]
        level[i] = 0
        deps = {comp_of[b] for m in comps[i] for b in edges.get(m, ()) if comp_of[b] != i}
        level[i] = 1 + max((lv(d) for d in deps), default=-1)
        return level[i]

    for i in range(len(comps)):
        lv(i)
    return comps, comp_of, level


def graph_text(modules, edges):
    """The modules by floor (floor 0 reaches nothing of ours; each floor
    only those below), each with what it reaches; a module's own folder is
    left off the names it reaches."""
    comps, comp_of, level = floors(modules, edges)
    by_floor = {}
    for i, c in enumerate(comps):
        by_floor.setdefault(level[i], []).append(i)
    out = []
    for fl in sorted(by_floor):
        out.append("floor %d" % fl)
        for i in sorted(by_floor[fl], key=lambda i: comps[i]):
            name = " ".join(comps[i]) if len(comps[i]) == 1 else "CIRCLE(" + " ".join(comps[i]) + ")"
            folder = folder_of(comps[i][0]) + "/"
            deps = sorted({b for m in comps[i] for b in edges.get(m, ()) if comp_of[b] != i})
            short = [d[len(folder):] if d.startswith(folder) and "/" not in d[len(folder):] else d for d in deps]
            out.append("  %s -> %s" % (name, " ".join(short) if short else "(nothing)"))
    return "\n".join(out) + "\n"


BLOCKS = {
    # marker name: how its text is made
    "module-graph": lambda build, modules, edges: "```\n" + graph_text(modules, edges) + "```\n",
    "guest-tables": lambda build, modules, edges: subprocess.run(
        [os.path.join(build, "unit", "test-guest"), "--table"], capture_output=True, text=True, check=True).stdout,
}


def doc(build, modules, edges, args):
    write = False
    if args and args[0] == "--write":
        write, args = True, args[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = args[0]
    text = open(path, encoding="utf-8").read()
    bad = 0
    for name, make in BLOCKS.items():
        begin = "<!-- generated: %s (tests/structure.py doc --write) -->\n" % name
        end = "<!-- end: %s -->" % name
        if begin not in text or end not in text:
            print("structure: %s has no generated block '%s'" % (path, name))
            bad += 1
            continue
        a = text.index(begin) + len(begin)
        b = text.index(end)
        want = make(build, modules, edges)
        if text[a:b] != want:
            if write:
                text = text[:a] + want + text[b:]
            else:
                print("structure: %s's block '%s' is not what the tree says: run tests/structure.py --build %s doc --write %s"
                      % (path, name, build, path))
                bad += 1
    if write:
        open(path, "w", encoding="utf-8").write(text)
        return 1 if bad else 0
    if not bad:
        print("structure: %s's generated blocks match the tree" % path)
    return 1 if bad else 0


def main(argv):
    build = "build/gcc"
    if len(argv) >= 2 and argv[0] == "--build":
        build = argv[1]
        argv = argv[2:]
    if not argv or argv[0] not in ("check", "list", "graph", "numbers", "doc"):
        print(__doc__, file=sys.stderr)
        return 2
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if not os.path.isdir(os.path.join(build, "daemon")):
        print("structure: no objects under %s: build first (make all)" % build, file=sys.stderr)
        return 2
    modules, edges, findings, sizes, funcs = analyse(build)
    cmd = argv[0]
    if cmd == "list":
        for f in sorted(findings):
            print(f)
        return 0
    if cmd == "numbers":
        long_files = [f for f in sizes if sizes[f] > FILE_MAX]
        long_funcs = [x for x in funcs if x[2] > FUNC_MAX]
        print("modules: %d" % len(modules))
        print("circles: %d (modules in them: %d)" % (
            sum(1 for f in findings if f.startswith("circle:")),
            sum(len(f.split()) - 1 for f in findings if f.startswith("circle:"))))
        print("upward arrows: %d" % sum(1 for f in findings if f.startswith("upward:")))
        print("files over %d lines: %d (largest %s, %d)" % (FILE_MAX, len(long_files), *max(sizes.items(), key=lambda x: x[1])))
        top = max(funcs, key=lambda x: x[2])
        print("functions over %d lines: %d (longest %s:%s, %d)" % (FUNC_MAX, len(long_funcs), top[0], top[1], top[2]))
        return 0
    if cmd == "doc":
        return doc(build, modules, edges, argv[1:])
    if cmd == "graph":
        print(graph_text(modules, edges), end="")
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        known = {line.strip() for line in fh if line.strip() and not line.startswith("#")}
    found = {key(f): f for f in findings}
    bad = 0
    for k in sorted(found):
        if k not in known:
            print("NEW   %s" % found[k])
            bad += 1
    for k in sorted(known - set(found)):
        print("GONE  %s (no longer found: take it off %s)" % (k, argv[1]))
        bad += 1
    print("structure: %d findings, %d known, %d new, %d gone" % (
        len(found), len(known), sum(1 for k in found if k not in known), len(known - set(found))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
