#!/bin/sh
# Runs every test binary in DIR (cmocka, TAP output) and tests/check_*.sh, and prints one
# summary line "N passed, N failed, N skipped". Exits 1 if anything failed.
set -u
dir=${1:?usage: run.sh BUILD/tests}
passed=0 failed=0 skipped=0 broken=""
out=$(mktemp) || exit 1
skips=$(mktemp) || exit 1
trap 'rm -f "$out" "$skips"' EXIT
# Compiled suites, then source-rule scripts (TAP too), run from the repo root.
for t in "$dir"/test_* tests/check_*.sh; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.d) continue ;; esac
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1
	rc=$?
	# cmocka 1.1 prints a skipped test as "not ok N # SKIP name".
	s=$(grep -Ec '^(not )?ok [0-9]+ # SKIP' "$out")
	p=$(grep -E '^ok [0-9]+' "$out" | grep -vc '# SKIP')
	f=$(grep -E '^not ok [0-9]+' "$out" | grep -vc '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed or exited early: count the binary itself as a failure.
		f=1
		broken="$broken $name(rc=$rc)"
	fi
	if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "--- $name"
		cat "$out"
	fi
	printf '%-28s %4d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
	# Why each skip happened, for the summary: a suite's "# skip: WHY"
	# lines (TEST_SKIP), a script's "ok N # SKIP WHY".
	grep -E '^# skip: ' "$out" | sed "s/^# skip: */  $name: /" >>"$skips"
	grep -E '^(not )?ok [0-9]+ # SKIP .' "$out" | grep -v '^not ok' |
	    sed "s/^.*# SKIP */  $name: /" >>"$skips"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
[ -n "$broken" ] && echo "crashed:$broken"
if [ -s "$skips" ]; then
	echo "skipped, and why:"
	sort -u "$skips"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
