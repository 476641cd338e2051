#!/bin/sh
# `sdpp iota` against the official SDK's vectors and bad input (TAP); no network.
# The key file holds the reference's sanity key (Ed25519 secret 0x01..0x20),
# so the tool must print exactly what tests/iota/expected.json records for
# the cases named below; their parameters are copied from tests/iota/cases.json.
set -u
S=$(cd "${SDPP_BIN:-build/bin}" && pwd)/sdpp
EXP=tests/iota/expected.json
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT

# Ed25519 (seed 01..20) then X25519 (40..5f), PKCS#8 as sdpp key files hold them.
cat >"$d/key" <<'PEM'
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g
-----END PRIVATE KEY-----
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIEBBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f
-----END PRIVATE KEY-----
PEM
chmod 600 "$d/key"

# The JSON line the tool must print for case $1 (expected.json has one case a line).
want() {
	line=$(grep "\"name\":\"$1\"" "$EXP") || { echo "no case $1"; return; }
	field() { printf '%s' "$line" | sed "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/"; }
	printf '{"tx_bytes":"%s","digest":"%s","signature":"%s"}\n' \
	    "$(field tx_bytes)" "$(field digest)" "$(field signature)"
}
same() { # name, file with the tool's output, case
	if [ "$(cat "$2")" = "$(want "$3")" ]; then ok "$1"; else
		notok "$1"; echo "# got:  $(cut -c1-120 "$2")"; echo "# want: $(want "$3" | cut -c1-120)"; fi
}
# Runs the tool expecting failure (status $REFUSE_ST, default 2: a usage
# error) and a message containing each given string.
refuses() { # name, expected text..., -- args...
	name=$1; shift
	pats=""
	while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
	shift
	"$S" "$@" >"$d/out" 2>"$d/err"
	st=$?
	if [ "$st" -ne "${REFUSE_ST:-2}" ] || [ -s "$d/out" ]; then
		notok "$name (status $st, stdout $(wc -c <"$d/out") bytes)"; return
	fi
	missing=$(printf '%s\n' "$pats" | while IFS= read -r p; do
		[ -z "$p" ] || grep -qF -- "$p" "$d/err" || echo "$p"; done)
	if [ -z "$missing" ]; then ok "$name"; else
		notok "$name"; echo "# stderr: $(cat "$d/err")"; echo "# lacks: $missing"; fi
}

"$S" iota address "$d/key" >"$d/out" 2>"$d/err"
[ "$(cat "$d/out")" = 0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a ] &&
    ok "address of the sanity key" || notok "address: $(cat "$d/out" "$d/err")"

GAS_A=0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b:7:2CnHQTQPiLt3bHeQR9T431tqAcbrddT3DbFwuQ3fCM2N
"$S" iota pay --offline --key "$d/key" --network testnet \
    --to 0x03a6302c92b5172418f5e6eb8e82737c882946f5e86da2da233030254b4dc321 \
    --amount 1000000000 --gas-coin "$GAS_A" --gas-price 1000 --gas-budget 2000000 >"$d/out" 2>&1
same "pay equals the SDK (sanity_key_transfer)" "$d/out" sanity_key_transfer

"$S" iota pay --gas-budget 3000000 --gas-price 1000 --offline --network mainnet --key "$d/key" \
    --gas-coin 0x15281c15dd4675b85632375fc10b679ca2b0d08f1e14c9b522202ae55b78a29e:31:5vg72ug1RYfwGsF6UEHm6PnbPuhH8xiay3aAYymDiYfz \
    --gas-coin 0xe6e44248eb96bdc83ea5550ca7f12232265cf02c96c93708ab3a62beb4d9841f:32:DBPwBLi4uSDx5uNZvMw4QrtCn1gF8KDEN8JYuRVtYo3w \
    --amount 123456789 --to 0xe34f81476a2032dc6e1a5dda203df511f83cb848ba5dead0425b5715ffa64f97 \
    >"$d/out" 2>&1
same "pay with two gas coins, options in any order" "$d/out" cli_transfer_two_coins_mainnet

HASH=18fa2c8568c16f21f9064f287111e1ea1bf0bc15774b6a5d9ec38b0a8f4ea9dd
GAS_N=0xde3b55d4d9b0f0b19d3d13a44c3dc6fb5e4664eddeba228fdd9c06e531508405:11:5dqccSPAEzvFohUxF26Lo8YQRfvixQ3HxocTkPaLv7QS
"$S" iota notarize --offline --key "$d/key" --network testnet --data-hex "$HASH" \
    --gas-coin "$GAS_N" --gas-price 1000 --gas-budget 10000000 >"$d/out" 2>&1
same "notarize equals the SDK (notarize_hash_testnet)" "$d/out" notarize_hash_testnet

"$S" iota notarize --offline --key "$d/key" --network devnet --data-hex "$HASH" \
    --description "cli: two gas coins ✓" \
    --gas-coin 0x922e57ab0832e3533f93f920b10c14fd9d23ce903c7f8e7a8497ad6d509cec35:33:7ecXAMiK9w7cuSxaMsTyTRD1ng4UMCHF1wr7gdvnxbmy \
    --gas-coin 0x35816138292ac5f75c1aa60f0a2916c59b0229d762777a1b4a7c67047116cbc7:34:11111111111111111111111111111111 \
    --gas-price 1000 --gas-budget 10000000 >"$d/out" 2>&1
same "notarize with a UTF-8 description and two coins" "$d/out" cli_notarize_desc_devnet

PAY="iota pay --offline --key $d/key --network testnet --gas-price 1000 --gas-budget 2000000"
TO=0x03a6302c92b5172418f5e6eb8e82737c882946f5e86da2da233030254b4dc321
# shellcheck disable=SC2086 # $PAY is split on purpose
{
refuses "gas options without --offline" "goes with --offline" -- \
    iota pay --key "$d/key" --network testnet --to $TO --amount 1 --gas-coin "$GAS_A" \
    --gas-price 1000 --gas-budget 2000000
refuses "short address quoted" "--to" "\`0x6'" -- $PAY --to 0x6 --amount 1 --gas-coin "$GAS_A"
refuses "negative amount quoted" "--amount" "\`-5'" -- $PAY --to $TO --amount -5 --gas-coin "$GAS_A"
refuses "amount of 2^64 quoted" "--amount" "\`18446744073709551616'" -- \
    $PAY --to $TO --amount 18446744073709551616 --gas-coin "$GAS_A"
refuses "gas price with leading zero" "--gas-price" "\`01000'" -- \
    iota pay --offline --key "$d/key" --network testnet --to $TO --amount 1 \
    --gas-coin "$GAS_A" --gas-price 01000 --gas-budget 2000000
refuses "gas coin without a version" "--gas-coin" "expected ID:VERSION:DIGEST" "\`0x56'" -- \
    $PAY --to $TO --amount 1 --gas-coin 0x56
refuses "gas coin with a bad digest" "--gas-coin" "digest" "2CnHQTQPiLt3bHeQR9T431tqAcbrddT3DbFwuQ3fCM2O" -- \
    $PAY --to $TO --amount 1 \
    --gas-coin 0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b:7:2CnHQTQPiLt3bHeQR9T431tqAcbrddT3DbFwuQ3fCM2O
refuses "the same gas coin twice" "same coin twice" -- \
    $PAY --to $TO --amount 1 --gas-coin "$GAS_A" --gas-coin "$GAS_A"
refuses "no gas coin" "--gas-coin" -- $PAY --to $TO --amount 1
refuses "unknown network quoted" "--network" "\`iota'" -- \
    iota pay --offline --key "$d/key" --network iota --to $TO --amount 1 --gas-coin "$GAS_A" \
    --gas-price 1000 --gas-budget 2000000
refuses "missing --to" "--to is required" -- $PAY --amount 1 --gas-coin "$GAS_A"
refuses "option given twice" "--amount given twice" -- \
    $PAY --to $TO --amount 1 --amount 2 --gas-coin "$GAS_A"
refuses "pay takes no --data-hex" "unexpected argument \`--data-hex'" -- \
    $PAY --to $TO --amount 1 --gas-coin "$GAS_A" --data-hex 00
refuses "option without its value" "--gas-budget needs a value" -- \
    iota pay --offline --key "$d/key" --network testnet --to $TO --amount 1 \
    --gas-coin "$GAS_A" --gas-price 1000 --gas-budget
}
NOT="iota notarize --offline --key $d/key --network testnet --gas-coin $GAS_N --gas-price 1000 --gas-budget 10000000"
# shellcheck disable=SC2086
{
refuses "odd hex quoted" "--data-hex" "\`abc'" -- $NOT --data-hex abc
refuses "non-hex quoted" "--data-hex" "\`zz'" -- $NOT --data-hex zz
refuses "empty data, said so" "--data-hex is empty" -- $NOT --data-hex ""
big=$(head -c 16382 /dev/zero | od -An -v -tx1 | tr -d ' \n')
refuses "data beyond one pure argument" "16382 bytes" "16381" "hash" -- $NOT --data-hex "$big"
desc=$(head -c 16381 /dev/zero | tr '\0' d)
refuses "description beyond one pure argument" "--description" "16381 bytes" "16380" -- \
    $NOT --data-hex 00 --description "$desc"
refuses "description that is not UTF-8" "--description" "UTF-8" -- \
    $NOT --data-hex 00 --description "$(printf 'caf\351')"
}
big=$(head -c 16381 /dev/zero | od -An -v -tx1 | tr -d ' \n')
"$S" $NOT --data-hex "$big" --description "${desc%d}" >"$d/out" 2>"$d/err" &&
    grep -q '"tx_bytes"' "$d/out" &&
    ok "16381 bytes of data with 16380 of description are accepted" ||
    notok "16381 bytes: $(cat "$d/err")"
many=""
i=0
while [ $i -lt 256 ]; do
	many="$many --gas-coin 0x$(printf '%064x' $((i + 1))):7:2CnHQTQPiLt3bHeQR9T431tqAcbrddT3DbFwuQ3fCM2N"
	i=$((i + 1))
done
# shellcheck disable=SC2086
"$S" $PAY --to $TO --amount 1 ${many% --gas-coin *} >"$d/out" 2>"$d/err" &&
    grep -q '"tx_bytes"' "$d/out" && ok "255 gas coins are accepted" ||
    notok "255 gas coins: $(cat "$d/err")"
# shellcheck disable=SC2086
refuses "256 gas coins (the network takes fewer)" "more than 255 --gas-coin" -- $PAY --to $TO --amount 1 $many

chmod 644 "$d/key"
"$S" iota address "$d/key" >"$d/out" 2>"$d/err"
[ $? -eq 1 ] && grep -q "$d/key" "$d/err" && ok "a group-readable key is refused, named" ||
    notok "loose key: $(cat "$d/err")"
chmod 600 "$d/key"
printf 'junk\n' >"$d/junk" && chmod 600 "$d/junk"
REFUSE_ST=1 refuses "a file that is not a key" "not an sdpp key file" -- iota address "$d/junk"
refuses "unknown iota command" "unknown command \`frob'" -- iota frob
"$S" iota --help >"$d/out" 2>&1 && grep -q 'sdpp iota notarize' "$d/out" &&
    ok "iota --help" || notok "iota --help"
"$S" iota pay --help >/dev/null 2>&1 && ok "iota pay --help" || notok "iota pay --help"

echo "1..$n"
[ "$fails" -eq 0 ]
