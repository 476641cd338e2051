#!/bin/bash
# Opt-in live test (make test-iota-testnet): a full purchase on the real IOTA testnet -- faucet,
# payments per invoice, notarized invoices, verify --remote. Needs the internet; never in CI.
. "$(dirname "$0")/lib/gw.sh"

NET=${IOTA_NETWORK:-testnet}
CO2=building/7/floor2/co2
# IOTA_URL and IOTA_FAUCET_URL point it elsewhere (e.g. at tests/tool_iotanode
# to check this script itself without the internet).
URL=${IOTA_URL:-}
urlopt=()
[ -n "$URL" ] && urlopt=(--iota-url "$URL")

buyer_key
"$SDPP" keygen -o "$d/live.key" >/dev/null
SELLER=$("$SDPP" iota address "$d/live.key")
BUYER=$("$SDPP" iota address "$d/buyer.key")
echo "# network $NET; seller account $SELLER, buyer account $BUYER"

# balance_at_least ADDR NANOS
balance_at_least() {
	local b
	b=$("$SDPP" iota balance --address "$1" --network "$NET" ${URL:+--url "$URL"} 2>/dev/null |
	    sed 's/.*"balance":"\([0-9]*\)".*/\1/')
	[ -n "$b" ] && [ "$b" -ge "$2" ]
}

for a in "$SELLER" "$BUYER"; do
	"$SDPP" iota faucet --address "$a" --network "$NET" \
	    ${IOTA_FAUCET_URL:+--faucet-url "$IOTA_FAUCET_URL"} >"$d/faucet.out" 2>&1
	check "the $NET faucet takes a request for $a" $? "$d/faucet.out"
done
wait_until 90 balance_at_least "$SELLER" 100000000 && wait_until 90 balance_at_least "$BUYER" 100000000
check "both accounts are funded within 90 s" $?

live() {
	local lines pays
	cp "$d/live.key" "$d/t1.key"
	cp "$d/live.key.pub" "$d/t1.key.pub"
	lines="payment_granularity = 4
payment_method = iota

[iota]
network = $NET
${URL:+url = $URL}
rpc_timeout = 30s
confirm_timeout = 120s
anchor = records
anchor_kinds = invoice"
	setup_pair t1 "$lines" "[product co2]
topic = $CO2
price = 1000" || return
	buy_start t1 co2 8 --iota "$NET" "${urlopt[@]}"
	wait_orders 1
	pub_seq "$CO2" live 1 12
	wait_exit $BUY_PID 300
	check "t1: a buyer paying on $NET gets 8 items and settles" $WAIT_RC "$d/t1.err" "$GLOG"
	pays=$(sql "SELECT count(*) FROM records WHERE kind = 'payment'")
	[ "$pays" -eq 2 ]
	check "t1: 2 payments confirmed on chain and recorded" $? "$GLOG"
	wait_until 300 sql_at_least "SELECT count(*) FROM outbox WHERE state = 'done'" 2
	check "t1: both invoices notarized on $NET" $? "$GLOG"
	sql "SELECT ref FROM outbox" | sed 's/^/# anchor /'
	"$SDPP" ledger verify "$DB" --remote --network "$NET" "${urlopt[@]}" >"$d/t1-verify" 2>&1
	check "t1: sdpp ledger verify --remote confirms every anchor on $NET" $? "$d/t1-verify"
	grep -E 'event=anchor |event=payment_confirmed' "$GLOG" | sed 's/^/# /'
	teardown_pair
}

timed t1 live
finish
