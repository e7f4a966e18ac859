# The tree's shape holds (tests/structure.py): no new circle among the
# modules of any folder, no folder reaching one it may not (common/
# reaches no program's folder), no new file over 600 lines or function
# over 100, tests aside. What the tree still has is listed in
# tests/structure-known.txt; a line there that is no longer found fails
# too, so the list shrinks as the tree is reshaped. And docs/design.md's
# generated blocks (the module graph, a guest's tables) are the tree's.
# Needs the objects of $B (nm), ctags and python3; no KVM.
source "$(dirname "$0")/lib.sh"

command -v ctags >/dev/null || { fail "ctags is not installed (Debian: universal-ctags; make deps)"; finish; }
if out=$("$PY" tests/structure.py --build "$B" check tests/structure-known.txt 2>&1); then
        ok "$(tail -n 1 <<<"$out")"
else
        fail "the tree's structure: $(tail -n 1 <<<"$out")"
        sed 's/^/    /' <<<"$out"
fi
# docs/design.md's module graph and a guest's two tables are made from
# the tree; this says when they are not.
if [ ! -x "$B/unit/test-guest" ]; then
        fail "$B/unit/test-guest is not built: docs/design.md's tables cannot be checked (make $B/unit/test-guest)"
elif out=$("$PY" tests/structure.py --build "$B" doc docs/design.md 2>&1); then
        ok "$out"
else
        fail "$out"
fi
"$PY" tests/structure.py --build "$B" numbers | sed 's/^/    /'
finish
