# Every fuzz target replays its seed corpus and every input a fuzzing run
# ever found a bug with (tests/fuzz/regress/), built with the normal
# compiler: a bug found once stays found. See tests/fuzz/README.md.
source "$(dirname "$0")/lib.sh"
for t in virtqueue protocol config policy snapshot; do
        bin=$B/fuzz/replay-$t
        [ -x "$bin" ] || { fail "$bin is not built"; continue; }
        inputs=()
        for f in tests/fuzz/corpus/$t/* tests/fuzz/regress/$t/*; do
                [ -f "$f" ] && inputs+=("$f")
        done
        if [ ${#inputs[@]} = 0 ]; then
                fail "$t: no inputs at all (the seed corpus is missing)"
                continue
        fi
        expect_exit 0 "$t: ${#inputs[@]} input(s) replay without a crash" "$bin" "${inputs[@]}"
done
finish
