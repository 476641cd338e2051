#!/bin/sh
# sdpp ledger against a recorded purchase (TAP): verify, tamper with sqlite3,
# prove and check-proof from another directory with only the public key, show.
set -u
S=$(cd "${SDPP_BIN:-build/bin}" && pwd)/sdpp
T=$(cd "${SDPP_TOOLS:-build/tests}" && pwd)
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
expect() { if [ "$2" -eq "$3" ]; then ok "$1"; else notok "$1 (status $2, wanted $3)"; fi; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT

"$T/tool_mkledger" "$d" >"$d/ids" || { echo "not ok 1 - tool_mkledger"; echo "1..1"; exit 1; }
db=$d/ledger.db
order=$(sed -n 's/^order //p' "$d/ids")
buyer=$(sed -n 's/^buyer //p' "$d/ids")
seller=$(sed -n 's/^seller //p' "$d/ids")

"$S" ledger verify "$db" >"$d/out" 2>&1
expect "verify passes on an honest log" $? 0
grep -q '^ok: 10 records, 10 signed tree heads' "$d/out" && ok "verify reports counts" ||
	notok "verify output: $(cat "$d/out")"
"$S" ledger verify "$db" --key "$d/seller.pub" >/dev/null 2>&1
expect "verify with the seller's key file" $? 0
"$S" ledger verify "$db" --key "$seller" >/dev/null 2>&1
expect "verify with the seller's hex key" $? 0
"$S" ledger verify "$db" --key "$buyer" >"$d/out" 2>&1
expect "verify with another key fails" $? 1

# Change one byte of each record with the sqlite3 shell.
bad=0
for id in 1 2 3 4 5 6 7 8 9 10; do
	cp "$db" "$d/t.db"
	sqlite3 "$d/t.db" "UPDATE records SET body = replace(body, '\"index\":$((id - 1))', '\"index\":$((id + 99))') WHERE id = $id"
	"$S" ledger verify "$d/t.db" >/dev/null 2>"$d/err"
	rc=$?
	if [ $rc -ne 1 ] || ! grep -q "record $id" "$d/err"; then
		bad=$((bad + 1))
		echo "# record $id: status $rc: $(cat "$d/err")"
	fi
done
[ $bad -eq 0 ] && ok "a changed byte in any record fails verify and names it" ||
	notok "$bad tampered records not caught"
cp "$db" "$d/t.db"
sqlite3 "$d/t.db" "UPDATE records SET amount = '1' WHERE kind = 'payment'"
"$S" ledger verify "$d/t.db" >/dev/null 2>&1
expect "a changed amount column fails verify" $? 1

# Proofs, checked elsewhere with only the public key.
"$S" ledger prove "$db" ledger:4 >"$d/proof.json" 2>"$d/err"
expect "prove a record" $? 0
mkdir "$d/elsewhere" && cp "$d/proof.json" "$d/seller.pub" "$d/elsewhere/"
(cd "$d/elsewhere" && "$S" ledger check-proof proof.json --key seller.pub >"$d/out" 2>&1)
expect "check-proof in another directory" $? 0
grep -q '^ok: record 4' "$d/out" && ok "check-proof names the record" || notok "$(cat "$d/out")"
(cd "$d/elsewhere" && "$S" ledger check-proof proof.json --key "$buyer" >/dev/null 2>&1)
expect "check-proof with the wrong key fails" $? 1
sed 's/\\"time\\":1000/\\"time\\":1001/' "$d/proof.json" >"$d/forged.json"
cmp -s "$d/proof.json" "$d/forged.json" && notok "forgery did not change the proof" ||
	ok "forged proof differs"
"$S" ledger check-proof "$d/forged.json" --key "$seller" >/dev/null 2>&1
expect "check-proof of a changed record fails" $? 1
"$S" ledger prove "$db" --consistency 3 10 >"$d/cons.json" 2>&1
expect "prove consistency" $? 0
"$S" ledger check-proof - --key "$seller" <"$d/cons.json" >"$d/out" 2>&1
expect "check a consistency proof from stdin" $? 0
"$S" ledger prove "$db" 11 >/dev/null 2>&1
expect "prove a record that does not exist fails" $? 1
for bad in 0 -1 abc 4x ledger: 99999999999999999999; do
	"$S" ledger prove "$db" "$bad" >/dev/null 2>"$d/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "bad record id" "$d/err" || { echo "# prove $bad: $rc"; bad_ids=1; }
done
[ -z "${bad_ids:-}" ] && ok "prove refuses malformed record ids" || notok "prove accepted a bad id"
"$S" buy 127.0.0.1:1 --seller-key "$seller" --key "$d/none" --product x --count 1.5 >/dev/null 2>"$d/err"
expect "buy refuses a non-integer --count" $? 2
grep -q "count is not an integer" "$d/err" && ok "buy names the bad --count" || notok "$(cat "$d/err")"

# The account.
"$S" ledger show "$db" >"$d/show" 2>&1
expect "show" $? 0
grep -q "^order $order" "$d/show" && grep -q 'received  10 items' "$d/show" &&
	grep -q 'invoiced  24 nanos in 2 invoices' "$d/show" && grep -q 'paid      30 nanos' "$d/show" &&
	grep -q 'owed      0 nanos' "$d/show" && ok "show gives the account" ||
	notok "show output: $(cat "$d/show")"
"$S" ledger show "$db" --buyer "$buyer" --json >"$d/json" 2>&1
grep -q "\"order_id\":\"$order\".*\"paid\":\"30\",\"owed\":\"0\"" "$d/json" &&
	ok "show --buyer --json" || notok "json: $(cat "$d/json")"
"$S" ledger show "$db" --order 00 >"$d/none" 2>&1
[ ! -s "$d/none" ] && ok "show --order of an unknown order is empty" || notok "$(cat "$d/none")"
[ "$("$S" ledger export "$db" | wc -l)" -eq 10 ] && ok "export gives one line per record" ||
	notok "export line count"
"$S" ledger export "$db" | head -1 | grep -q '^{"id":1,"leaf_hash":"[0-9a-f]\{64\}","record":{' &&
	ok "export lines are JSON records" || notok "export format"
"$S" ledger verify "$d/missing.db" >/dev/null 2>&1
expect "verify of a missing file fails" $? 1
"$S" ledger frob >/dev/null 2>&1
expect "unknown ledger command fails, a usage error" $? 2

echo "1..$n"
[ "$fails" -eq 0 ]
