# Sourced by the bench scripts that own one section of bench/RESULTS.md.
# replace_section NAME SECTION_FILE OUT: the lines from "<!-- NAME:begin"
# to "<!-- NAME:end" in OUT become SECTION_FILE (which has both markers);
# appended when OUT has no such section yet.
replace_section() {
        local name=$1 section=$2 out=$3 tmp
        if grep -q "^<!-- $name:begin" "$out" 2>/dev/null; then
                tmp=$(mktemp "$out.XXXXXX")
                awk -v section="$section" -v begin="^<!-- $name:begin" -v end="^<!-- $name:end" '
                        $0 ~ begin { while ((getline line < section) > 0) print line; skip = 1; next }
                        $0 ~ end { skip = 0; next }
                        !skip { print }' "$out" >"$tmp"
                cat "$tmp" >"$out"
                rm -f "$tmp"
        else
                { echo; cat "$section"; } >>"$out"
        fi
}
