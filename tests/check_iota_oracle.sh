#!/bin/sh
# Proves tests/iota/expected.json came from the pinned official SDK (TAP): re-runs
# tests/iota-oracle/oracle.mjs on tests/iota/cases.json when the oracle is installed
# (`make iota-oracle`), and checks the pin either way. Run from the repository root.
set -u
O=tests/iota-oracle
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
out=$(mktemp) || exit 1
trap 'rm -f "$out" "$out.err"' EXIT

if [ ! -d "$O/node_modules" ]; then
	n=$((n + 1)); echo "ok $n # SKIP oracle not installed (make iota-oracle)"
elif ! command -v node >/dev/null 2>&1; then
	notok "node is not installed but $O/node_modules is"
elif node "$O/oracle.mjs" tests/iota/cases.json "$out" 2>"$out.err"; then
	if cmp -s "$out" tests/iota/expected.json; then
		ok "the SDK reproduces tests/iota/expected.json byte for byte"
	else
		notok "the SDK's output differs from tests/iota/expected.json"
		diff "$out" tests/iota/expected.json | cut -c1-160 | head -20 | sed 's/^/# /'
	fi
else
	notok "oracle.mjs failed"
	sed 's/^/# /' "$out.err"
fi

# The pin: exactly 1.15.1 in package.json and in the committed lock file.
grep -q '"@iota/iota-sdk": "1.15.1"' "$O/package.json" &&
    ok "package.json pins @iota/iota-sdk 1.15.1 exactly" || notok "package.json pin"
sed -n '/"node_modules\/@iota\/iota-sdk": {/,/}/p' "$O/package-lock.json" |
    grep -q '"version": "1.15.1"' &&
    ok "package-lock.json resolves @iota/iota-sdk 1.15.1" || notok "package-lock.json pin"
grep -q '^{"sdk":"@iota/iota-sdk 1.15.1"' tests/iota/expected.json &&
    ok "expected.json names the SDK that made it" || notok "expected.json header"

echo "1..$n"
[ "$fails" -eq 0 ]
