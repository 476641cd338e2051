#!/bin/sh
# The sdpp tool's key commands against real files (TAP): modes, refusals, messages.
set -u
S=$(cd "${SDPP_BIN:-build/bin}" && pwd)/sdpp
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
expect() { # name, command status, wanted status
	if [ "$2" -eq "$3" ]; then ok "$1"; else notok "$1 (status $2, wanted $3)"; fi
}
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT

(umask 0; "$S" keygen -o "$d/k" >"$d/out" 2>"$d/err")
expect "keygen succeeds" $? 0
mode=$(stat -c %a "$d/k")
[ "$mode" = 600 ] && ok "key file is 0600 even with umask 0" || notok "key file mode $mode"
grep -qE '^[0-9a-f]{64}$' "$d/out" && ok "keygen prints 64 hex digits" || notok "keygen output: $(cat "$d/out")"
pub=$("$S" pubkey "$d/k")
[ "$pub" = "$(cat "$d/out")" ] && ok "pubkey matches keygen" || notok "pubkey $pub"
grep -q 'BEGIN PUBLIC KEY' "$d/k.pub" && ok "public key file written" || notok "no .pub"
grep -q 'PRIVATE' "$d/k.pub" && notok "private key material in .pub" || ok ".pub holds no private key"
[ "$("$S" pubkey "$d/k.pub")" = "$pub" ] && ok "pubkey reads a public key file too" ||
	notok "pubkey of the .pub file"

"$S" keygen -o "$d/k" >/dev/null 2>"$d/err"
expect "keygen refuses to overwrite" $? 1
grep -q 'already exists' "$d/err" && ok "overwrite refusal says why" || notok "message: $(cat "$d/err")"
"$S" keygen -o "$d/k" -f >/dev/null 2>&1
expect "keygen -f overwrites" $? 0
[ "$("$S" pubkey "$d/k")" != "$pub" ] && ok "-f made a new key" || notok "same key after -f"

chmod 640 "$d/k"
"$S" pubkey "$d/k" >/dev/null 2>"$d/err"
expect "pubkey refuses a group-readable key" $? 1
grep -q "$d/k" "$d/err" && ok "refusal names the file" || notok "message: $(cat "$d/err")"
chmod 600 "$d/k"

printf 'not a key\n' >"$d/junk" && chmod 600 "$d/junk"
"$S" pubkey "$d/junk" >/dev/null 2>"$d/err"
expect "pubkey refuses a non-key file" $? 1
"$S" pubkey "$d/missing" >/dev/null 2>&1
expect "pubkey on a missing file fails" $? 1
"$S" frobnicate >/dev/null 2>&1
expect "unknown command fails, a usage error" $? 2
"$S" --help >/dev/null 2>&1
expect "--help succeeds" $? 0
"$S" pubkey "$d/k" --qr >"$d/qr" 2>&1
expect "pubkey --qr succeeds" $? 0
[ "$(wc -l <"$d/qr")" -gt 10 ] && ok "--qr prints a code" || notok "qr output too short"

echo "1..$n"
[ "$fails" -eq 0 ]
