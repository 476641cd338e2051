#!/bin/bash
# The loopback IOTA stand-in node (TAP): real signed payments and notarizations from `sdpp iota`
# executed and read back, refused signatures and stale coins, on-chain failures, outage modes.
. "$(dirname "$0")/lib/gw.sh"

NODE=$TOOLS/tool_iotanode
RPC=$TOOLS/tool_iotarpc
HASH=18fa2c8568c16f21f9064f287111e1ea1bf0bc15774b6a5d9ec38b0a8f4ea9dd

# node_start NAME [ARGS...]: a node on a kernel-chosen loopback port; sets
# P and NODE_PID, logs to $d/NAME.log.
node_start() {
	local name=$1
	shift
	rm -f "$d/$name.port"
	"$NODE" --port-file "$d/$name.port" "$@" 2>>"$d/$name.log" &
	NODE_PID=$!
	track $NODE_PID
	wait_until 5 test -s "$d/$name.port" || return 1
	P=$(cat "$d/$name.port")
}

# rpc ARGS...: tool_iotarpc against $P; stdout is the answer, "HTTP <code>"
# and complaints go to $d/rpc.err (the last status also to $d/status).
rpc() {
	local st
	"$RPC" "$@" 2>"$d/rpc.last"
	st=$?
	cat "$d/rpc.last" >>"$d/rpc.err"
	sed -n 's/^HTTP //p' "$d/rpc.last" >"$d/status"
	return $st
}
# val PATH METHOD [PARAMS]: one value of a JSON-RPC answer.
val() { rpc -q "$1" "$P" "$2" "${3:-[]}"; }
field() { sed "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/" "$2"; }
# coin ADDRESS [N]: the N-th (0) coin of an address as ID:VERSION:DIGEST.
coin() {
	local i=${2:-0}
	rpc -q "result.data.$i.coinObjectId" -q "result.data.$i.version" \
	    -q "result.data.$i.digest" "$P" iotax_getCoins "[\"$1\",null,null,null]" | paste -sd:
}
balance() { val result.totalBalance iotax_getBalance "[\"$1\"]"; }
# exec_tx FILE [OPTIONS]: executes what `sdpp iota` printed to FILE.
exec_tx() {
	local opts=${2:-'{"showEffects":true,"showBalanceChanges":true,"showObjectChanges":true,"showEvents":true}'}
	rpc "$P" iota_executeTransactionBlock \
	    "[\"$(field tx_bytes "$1")\",[\"$(field signature "$1")\"],$opts,\"WaitForLocalExecution\"]"
}
# pay KEY OUT TO AMOUNT COIN [BUDGET] [PRICE]: signs a payment into $d/OUT.
pay() {
	"$SDPP" iota pay --offline --key "$1" --network testnet --to "$3" --amount "$4" \
	    --gas-coin "$5" --gas-price "${7:-1000}" --gas-budget "${6:-2000000}" >"$d/$2" 2>>"$d/sdpp.err"
}
same() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"
		echo "# got:  $(printf '%s' "$2" | cut -c1-300)"
		echo "# want: $3"
	fi
}
contains() { # NAME TEXT PATTERN
	if printf '%s' "$2" | grep -qF -- "$3"; then ok "$1"; else
		notok "$1"
		echo "# got: $(printf '%s' "$2" | cut -c1-400)"
		echo "# lacks: $3"
	fi
}
# jget JSON PATH: a value out of JSON text we already hold.
jget() { "$RPC" -q "$2" -J "$1" 2>/dev/null; }
# ref ID: an object's current ID:VERSION:DIGEST.
ref() {
	rpc -q result.data.objectId -q result.data.version -q result.data.digest "$P" \
	    iota_getObject "[\"$1\"]" | paste -sd:
}

"$SDPP" keygen -o "$d/a.key" >/dev/null && "$SDPP" keygen -o "$d/b.key" >/dev/null || exit 1
A=$("$SDPP" iota address "$d/a.key")
B=$("$SDPP" iota address "$d/b.key")
C=0x00000000000000000000000000000000000000000000000000000000000000c3

# ---------------------------------------------------------------- start-up
if node_start n; then ok "node started, port $P written to the port file"; else
	notok "node started"; diag "$d/n.log"; finish; exit 1; fi
N1_PID=$NODE_PID
hexport=$(printf '%04X' "$P")
same "it listens on 127.0.0.1 only" "$(awk -v p=":$hexport" \
    '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' /proc/net/tcp /proc/net/tcp6 \
    2>/dev/null)" "0100007F:$hexport"

same "iotax_getReferenceGasPrice is \"1000\"" "$(rpc "$P" iotax_getReferenceGasPrice)" \
    '{"jsonrpc":"2.0","result":"1000","id":1}'

# ---------------------------------------------------------------- fund, coins, balance
ids=$(val result standin_fund "[\"$A\",\"2000000000\",3]")
jget "$ids" 2 | grep -q '^0x[0-9a-f]\{64\}$' && ! jget "$ids" 3 >/dev/null &&
    ok "standin_fund returns three coin ids" || notok "standin_fund: $ids"
p1=$(rpc -q result.data.0.coinObjectId -q result.data.1.coinObjectId -q result.hasNextPage \
    -q result.nextCursor "$P" iotax_getCoins "[\"$A\",\"0x2::iota::IOTA\",null,2]")
cur=$(echo "$p1" | sed -n 4p)
p2=$(rpc -q result.data.0.coinObjectId -q result.hasNextPage -q result.nextCursor "$P" \
    iotax_getCoins "[\"$A\",null,\"$cur\",2]")
[ "$(echo "$p1" | sed -n 3p)" = true ] && [ "$(echo "$p2" | sed -n 2p)" = false ] &&
    [ "$cur" = "$(echo "$p1" | sed -n 2p)" ] &&
    [ "$(printf '%s\n%s\n%s\n' "$(echo "$p1" | sed -n 1,2p)" "$(echo "$p2" | sed -n 1p)" |
	sort -u | grep -c '^0x')" -eq 3 ] &&
    ok "iotax_getCoins pages 2 + 1 with a cursor" || { notok "iotax_getCoins pages"; echo "# $p1 / $p2"; }
coinjson=$(rpc "$P" iotax_getCoins "[\"$A\"]")
for k in coinType coinObjectId version digest balance previousTransaction; do
	printf '%s' "$coinjson" | grep -q "\"$k\":" || missing="${missing:-} $k"
done
[ -z "${missing:-}" ] && contains "CoinStruct fields, u64 as strings" "$coinjson" \
    '"coinType":"0x2::iota::IOTA"' || notok "CoinStruct lacks:${missing:-}"
contains "iotax_getBalance" "$(rpc "$P" iotax_getBalance "[\"$A\",null]")" \
    '"result":{"coinType":"0x2::iota::IOTA","coinObjectCount":3,"totalBalance":"6000000000"}'
same "an unknown coin type has no coins" \
    "$(val result.data iotax_getCoins "[\"$A\",\"0x2::foo::FOO\"]")" "[]"

# ---------------------------------------------------------------- a payment
G=$(coin "$A")
pay "$d/a.key" pay1 "$B" 1000000000 "$G"
DG=$(field digest "$d/pay1")
dry=$(rpc "$P" iota_dryRunTransactionBlock "[\"$(field tx_bytes "$d/pay1")\"]")
contains "dry run: success, balance changes, no signature needed" "$dry" \
    "\"balanceChanges\":[{\"owner\":{\"AddressOwner\":\"$A\"},\"coinType\":\"0x2::iota::IOTA\",\"amount\":\"-1001829008\"}"
same "dry run changes nothing" "$(coin "$A")" "$G"
out=$(exec_tx "$d/pay1")
same "execute: the digest is the transaction's" "$(jget "$out" result.digest)" "$DG"
same "execute: status success" "$(jget "$out" result.effects.status.status)" success
same "execute: gas = 1000*price + 7600*216 - 99% of 7600*108" \
    "$(jget "$out" result.effects.gasUsed)" \
    '{"computationCost":"1000000","computationCostBurned":"1000000","storageCost":"1641600","storageRebate":"812592","nonRefundableStorageFee":"8208"}'
same "execute: confirmedLocalExecution" "$(jget "$out" result.confirmedLocalExecution)" true
newcoin=$(jget "$out" result.effects.created.0.reference.objectId)
same "the recipient owns the new coin" "$(coin "$B")" \
    "$newcoin:2:$(jget "$out" result.effects.created.0.reference.digest)"
same "the recipient's balance" "$(balance "$B")" 1000000000
same "the gas coin is at version 2 with the new digest" "$(ref "${G%%:*}")" \
    "${G%%:*}:2:$(jget "$out" result.effects.gasObject.reference.digest)"
tb=$(rpc "$P" iota_getTransactionBlock \
    "[\"$DG\",{\"showInput\":true,\"showEffects\":true,\"showBalanceChanges\":true}]")
same "getTransactionBlock: status" "$(jget "$tb" result.effects.status.status)" success
same "getTransactionBlock: sender pays amount + gas" "$(jget "$tb" result.balanceChanges.0)" \
    "{\"owner\":{\"AddressOwner\":\"$A\"},\"coinType\":\"0x2::iota::IOTA\",\"amount\":\"-1001829008\"}"
same "getTransactionBlock: recipient receives the amount" "$(jget "$tb" result.balanceChanges.1)" \
    "{\"owner\":{\"AddressOwner\":\"$B\"},\"coinType\":\"0x2::iota::IOTA\",\"amount\":\"1000000000\"}"
same "getTransactionBlock: input" "$(jget "$tb" result.transaction.data.transaction.transactions)" \
    '[{"SplitCoins":["GasCoin",[{"Input":0}]]},{"TransferObjects":[[{"NestedResult":[0,0]}],{"Input":1}]}]'
same "getTransactionBlock: the signature" "$(jget "$tb" result.transaction.txSignatures.0)" \
    "$(field signature "$d/pay1")"
[ -n "$(jget "$tb" result.timestampMs)" ] && [ "$(jget "$tb" result.checkpoint)" = 1 ] &&
    ok "getTransactionBlock: timestampMs and checkpoint" || notok "timestampMs and checkpoint: $tb"
again=$(exec_tx "$d/pay1")
same "executing the same transaction again answers the same" \
    "$(jget "$again" result.effects)" "$(jget "$out" result.effects)"
same "... and pays only once" "$(balance "$B")" 1000000000
same "getTransactionBlock of an unknown digest" \
    "$(rpc "$P" iota_getTransactionBlock '["11111111111111111111111111111111"]')" \
    '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Could not find the referenced transaction [TransactionDigest(11111111111111111111111111111111)]."},"id":1}'

# ---------------------------------------------------------------- refusals
pay "$d/a.key" stale "$B" 5 "$G"
r=$(exec_tx "$d/stale")
same "a stale gas coin version is refused (-32002)" "$(jget "$r" error.code)" -32002
contains "... saying it is not available for consumption" "$r" \
    "is not available for consumption, current version: 2"
G=$(ref "${G%%:*}")
pay "$d/a.key" pay2 "$B" 7 "$G"
pay "$d/b.key" other "$A" 7 "$(coin "$B")"
r=$(rpc "$P" iota_executeTransactionBlock \
    "[\"$(field tx_bytes "$d/pay2")\",[\"$(field signature "$d/other")\"],null,null]")
contains "another key's signature is refused" "$r" "is not the sender $A"
sig=$(field signature "$d/pay2")
c=${sig:20:1}
[ "$c" = A ] && n2=B || n2=A
bad="${sig:0:20}$n2${sig:21}"
r=$(rpc "$P" iota_executeTransactionBlock "[\"$(field tx_bytes "$d/pay2")\",[\"$bad\"],null,null]")
contains "a tampered signature is refused" "$r" "does not verify"
same "... and nothing was applied" "$(ref "${G%%:*}")" "$G"
pay "$d/a.key" cheap "$B" 7 "$G" 2000000 999
contains "a gas price under the reference price is refused" "$(exec_tx "$d/cheap")" \
    "Gas price 999 under reference gas price (RGP) 1000"
contains "malformed transaction bytes: -32602" \
    "$(rpc "$P" iota_dryRunTransactionBlock '["AAAAAAAA"]')" \
    '"code":-32602,"message":"Invalid params: malformed transaction bytes at byte'
contains "a signature that is not base64" \
    "$(rpc "$P" iota_executeTransactionBlock "[\"$(field tx_bytes "$d/pay2")\",[\"!!\"]]")" \
    '"code":-32602'

# ---------------------------------------------------------------- on-chain failures
before=$(balance "$A")
rpc "$P" standin_setMode '[{"fail_execute":1}]' >/dev/null
out=$(exec_tx "$d/pay2")
same "fail_execute: status failure" "$(jget "$out" result.effects.status)" \
    '{"status":"failure","error":"InsufficientCoinBalance in command 0"}'
same "fail_execute: gas alone is charged" "$(($(balance "$A") - before))" \
    "-$((1000000 + 820800 - 812592))"
same "fail_execute: no coin for the recipient" "$(balance "$B")" 1000000000
contains "standin_stats: the failed payment" "$(val result.payments.1 standin_stats)" \
    '"amount":"7","status":"failure"'
G=$(ref "${G%%:*}")
pay "$d/a.key" pay3 "$B" 7 "$G"
same "the next execute succeeds again" "$(jget "$(exec_tx "$d/pay3")" \
    result.effects.status.status)" success
G=$(ref "${G%%:*}")
before=$(balance "$A")
pay "$d/a.key" oog "$B" 7 "$G" 1000000
out=$(exec_tx "$d/oog")
same "a budget below the cost: InsufficientGas" "$(jget "$out" result.effects.status.error)" \
    InsufficientGas
same "... and the whole budget is charged" "$(($(balance "$A") - before))" -1000000

# ---------------------------------------------------------------- a notarization
G=$(ref "${G%%:*}")
"$SDPP" iota notarize --offline --key "$d/a.key" --network testnet --data-hex "$HASH" \
    --description "batch 1 ✓" --gas-coin "$G" --gas-price 1000 --gas-budget 10000000 \
    >"$d/not1" 2>>"$d/sdpp.err"
out=$(exec_tx "$d/not1")
same "notarization: status success" "$(jget "$out" result.effects.status.status)" success
nid=$(jget "$out" result.events.0.parsedJson.notarization_id)
contains "notarization: LockedNotarizationCreated" "$(jget "$out" result.events.0.type)" \
    "::locked_notarization::LockedNotarizationCreated"
same "notarization: the event names the created object" "$nid" \
    "$(jget "$out" result.effects.created.0.reference.objectId)"
same "notarization: storage for the coin and 100 + 32 + 11 bytes" \
    "$(jget "$out" result.effects.gasUsed.storageCost)" "$((7600 * (108 + 143)))"
st=$(rpc "$P" standin_stats)
same "standin_stats: the notarized data" "$(jget "$st" result.notarizations.0.data_hex)" "$HASH"
same "standin_stats: the description" "$(jget "$st" result.notarizations.0.description)" \
    "batch 1 ✓"
same "standin_stats: counts" "$(jget "$st" result.transactions) $(jget "$st" \
    result.calls.iota_executeTransactionBlock)" "5 11"
contains "iota_getObject: the notarization" "$(rpc "$P" iota_getObject "[\"$nid\",null]")" \
    "::notarization::Notarization<vector<u8>>\",\"owner\":{\"AddressOwner\":\"$A\"}"
contains "iota_getObject: an unknown object" "$(rpc "$P" iota_getObject "[\"$C\"]")" \
    "\"result\":{\"error\":{\"code\":\"notExists\",\"object_id\":\"$C\"}}"

# ---------------------------------------------------------------- the node's size limits
# A pure argument must be shorter than 16384 bytes and a transaction must
# have fewer than 256 gas coins (the node checks with a strict <). The
# over-limit transactions are built by rewriting bytes `sdpp iota' signed,
# since sdpp itself refuses to build them; a dry run needs no signature.
dry_b64() { rpc "$P" iota_dryRunTransactionBlock "[\"$1\"]"; }
G=$(ref "${G%%:*}")
big=$(head -c 16381 /dev/zero | od -An -v -tx1 | tr -d ' \n')
"$SDPP" iota notarize --offline --key "$d/a.key" --network testnet --data-hex "$big" \
    --gas-coin "$G" --gas-price 1000 --gas-budget 200000000 >"$d/big" 2>>"$d/sdpp.err"
field tx_bytes "$d/big" | base64 -d >"$d/big.bin"
out=$(dry_b64 "$(field tx_bytes "$d/big")")
same "a pure argument of 16383 bytes (16381 of data) passes the size check" \
    "$(jget "$out" result.effects.status.status)" success
# Input 1 (after the shared clock's 43 bytes) is Pure: tag 00, length FF 7F
# (16383), then the vector's length FD 7F (16381). One byte more is 80 80 01
# and FE 7F.
same "input 1 is the data's pure argument, where the test expects it" \
    "$(od -An -tx1 -j 46 -N 5 "$d/big.bin" | tr -d ' ')" 00ff7ffd7f
{ head -c 47 "$d/big.bin"; printf '\200\200\001\376\177\000'; tail -c +52 "$d/big.bin"; } |
    base64 -w0 >"$d/big1.b64"
contains "a pure argument of 16384 bytes is refused as the node refuses it" \
    "$(dry_b64 "$(cat "$d/big1.b64")")" "maximum pure argument size is 16384"
# Gas coins: the one coin of a payment repeated; the vector of 73-byte
# references ends 49 bytes (owner, price, budget, expiration) before the end.
pay "$d/a.key" gas1 "$B" 7 "$G"
field tx_bytes "$d/gas1" | base64 -d >"$d/g.bin"
glen=$(wc -c <"$d/g.bin")
gas_tx() { # ULEB-COUNT-OCTAL N
	local i=0
	head -c $((glen - 123)) "$d/g.bin"
	printf "$1"
	while [ $i -lt "$2" ]; do tail -c 122 "$d/g.bin" | head -c 73; i=$((i + 1)); done
	tail -c 49 "$d/g.bin"
}
contains "255 gas coins pass the size check (then the repeated coin is refused)" \
    "$(dry_b64 "$(gas_tx '\377\001' 255 | base64 -w0)")" "cannot appear more than once"
contains "256 gas coins are refused as the node refuses them" \
    "$(dry_b64 "$(gas_tx '\200\002' 256 | base64 -w0)")" \
    "maximum number of gas payment objects is 256"

# ---------------------------------------------------------------- the faucet
r=$(rpc -P /v1/gas "$P" "{\"FixedAmountRequest\":{\"recipient\":\"$C\"}}")
[ "$(cat "$d/status")" = 201 ] && contains "faucet: 201 and a task" "$r" '"error":null' ||
    notok "faucet: status $(cat "$d/status") $r"
same "faucet: 10 IOTA arrived" "$(balance "$C")" 10000000000
rpc -P /v1/gas "$P" '{"FixedAmountRequest":{"recipient":"0x6"}}' >/dev/null
same "faucet: a short address is refused (400)" "$(cat "$d/status")" 400

# ---------------------------------------------------------------- JSON-RPC errors
contains "parse error" "$(rpc -P / "$P" '{"jsonrpc":')" '"code":-32700'
contains "invalid request" "$(rpc -P / "$P" '{"method":"iotax_getCoins","id":3}')" \
    '"code":-32600'
contains "method not found" "$(rpc "$P" iota_frob)" '"code":-32601'
contains "invalid params quote the value" "$(rpc "$P" iotax_getCoins '["0x6"]')" \
    "\"code\":-32602,\"message\":\"Invalid params: owner is not an address (0x and 64 hex digits): \`0x6'\""
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$d/big"
rpc -P / "$P" "@$d/big" >/dev/null
same "a 2 MiB body gets 413" "$(cat "$d/status")" 413

# ---------------------------------------------------------------- hostile bytes
# Every prefix of a real transaction and a byte changed at every position:
# each answer is a JSON-RPC error or an effect, never a crash.
b64_of() { [ $# -eq 0 ] || printf "$(printf '\\x%s' "$@")" | base64 -w0; }
hex=($(field tx_bytes "$d/not1" | base64 -d | od -An -v -tx1))
bad=0 answers=0
for ((i = 0; i < ${#hex[@]}; i += 4)); do
	h=("${hex[@]}")
	h[$i]=$(printf '%02x' $(((0x${h[$i]} + 0x81) % 256)))
	for b in "$(b64_of "${hex[@]:0:$i}")" "$(b64_of "${h[@]}")"; do
		r=$(rpc "$P" iota_dryRunTransactionBlock "[\"$b\"]")
		answers=$((answers + 1))
		case $r in
		*'"error":{"code":-32'* | *'"effects":'*) ;;
		*) bad=$((bad + 1)); echo "# $b -> $(printf '%s' "$r" | cut -c1-200)" ;;
		esac
	done
done
same "$answers truncated or altered transactions: errors or effects only" "$bad" 0
same "... and the node still serves" "$(val result iotax_getReferenceGasPrice)" 1000

# ---------------------------------------------------------------- outage modes
rpc "$P" standin_setMode '[{"down":true}]' >/dev/null
r=$(rpc "$P" iotax_getReferenceGasPrice)
same "down: 503" "$(cat "$d/status")" 503
contains "down: a text body" "$r" "down"
rpc "$P" standin_stats >/dev/null
same "down: standin_ methods still answer" "$(cat "$d/status")" 200
rpc "$P" standin_setMode '[{"down":false,"stall":true}]' >/dev/null
"$RPC" -q result "$P" iotax_getReferenceGasPrice >"$d/stalled.out" 2>"$d/stalled.err" &
sp=$!
track $sp
sleep $((SLOW)).5
kill -0 $sp 2>/dev/null && ok "stall: no answer while stalled" || notok "stall: answered"
rpc "$P" standin_setMode '[{"stall":false}]' >/dev/null
wait_exit $sp 5
same "stall: answered once released" "$WAIT_RC $(head -1 "$d/stalled.out")" "0 1000"
rpc "$P" standin_setMode '[{"delay_ms":400}]' >/dev/null
t0=$(now_ms)
v=$(val result iotax_getReferenceGasPrice)
t1=$(now_ms)
[ "$v" = 1000 ] && [ $((t1 - t0)) -ge 400 ] && ok "delay_ms: answered after $((t1 - t0)) ms" ||
    notok "delay_ms: $v after $((t1 - t0)) ms"
rpc "$P" standin_setMode '[{"delay_ms":0}]' >/dev/null
contains "setMode: unknown fields are refused" "$(rpc "$P" standin_setMode '[{"slow":1}]')" \
    "unknown mode field \`slow'"

# ---------------------------------------------------------------- --gas-price, shutdown
node_start n2 --gas-price 1500 --quiet && same "--gas-price" \
    "$(val result iotax_getReferenceGasPrice)" 1500 || notok "second node"
kill -TERM $NODE_PID
wait_exit $NODE_PID 5
same "--quiet node stops on SIGTERM with status 0" "$WAIT_RC $(wc -c <"$d/n2.log")" "0 0"
P=$(cat "$d/n.port")
rpc "$P" standin_setMode '[{"stall":true}]' >/dev/null
"$RPC" "$P" iotax_getReferenceGasPrice >"$d/held.out" 2>&1 &
hp=$!
track $hp
sleep 0.3
kill -TERM $N1_PID
wait_exit $N1_PID 5
same "SIGTERM with a stalled request: exit status 0" "$WAIT_RC" 0
wait_exit $hp 5
contains "... and the stalled request gets 503" "$(cat "$d/held.out")" "HTTP 503"
sanitizer_clean "$d/n.log" && ok "no sanitizer report" || { notok "sanitizer report"; diag "$d/n.log"; }
grep -q 'method=iota_executeTransactionBlock http=200 ok' "$d/n.log" &&
    ok "one log line per request" || notok "log lines"

finish
