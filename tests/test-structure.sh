# The tree's shape holds (tests/structure.py): no new circle among the
# modules of any folder, no folder reaching one it may not (common/
# reaches no program's folder), no new file over 600 lines or function
# over 100, tests aside. What the tree still has is listed in
# tests/structure-known.txt; a line there that is no longer found fails
# too, so the list shrinks as the tree is reshaped. Needs the objects of
# $B (nm), ctags and python3; no KVM.
source "$(dirname "$0")/lib.sh"

command -v ctags >/dev/null || { fail "ctags is not installed (Debian: universal-ctags; make deps)"; finish; }
if out=$("$PY" tests/structure.py --build "$B" check tests/structure-known.txt 2>&1); then
        ok "$(tail -n 1 <<<"$out")"
else
        fail "the tree's structure: $(tail -n 1 <<<"$out")"
        sed 's/^/    /' <<<"$out"
fi
"$PY" tests/structure.py --build "$B" numbers | sed 's/^/    /'
finish
