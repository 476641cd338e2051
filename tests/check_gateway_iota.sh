#!/bin/bash
# IOTA end to end (TAP): a purchase paid on chain with every invoice anchored, bad payments
# refused, a stalled or down node that never stalls the data and loses nothing, tree-head
# anchoring, and `sdpp ledger verify --remote` -- against the loopback stand-in node.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
NODE=$TOOLS/tool_iotanode
RPC=$TOOLS/tool_iotarpc

# node_start: the stand-in on a free port; sets NP and NODE_PID.
node_start() {
	rm -f "$d/node.port"
	"$NODE" --port-file "$d/node.port" 2>>"$d/node.log" &
	NODE_PID=$!
	track $NODE_PID
	wait_until 5 test -s "$d/node.port" || return 1
	NP=$(cat "$d/node.port")
}
# rpc METHOD [PARAMS]: one request to the stand-in; the answer on stdout.
rpc() { "$RPC" "$NP" "$@" 2>/dev/null; }
rpcq() { # PATH METHOD [PARAMS]: one value of the answer
	local q=$1
	shift
	"$RPC" -q "$q" "$NP" "$@" 2>/dev/null
}
mode() { rpc standin_setMode "[$1]" >/dev/null; }
fund() { rpc standin_fund "[\"$1\",\"$2\",${3:-1}]" >/dev/null; }
addr_of() { "$SDPP" iota address "$1"; }

# [iota] lines for a gateway on the stand-in.
# Anchoring records: checkpoint = 0, so that each invoice joins the log,
# and is anchored, as it is made (held records are anchored at checkpoints).
iota_lines() { # ANCHOR [EXTRA...]
	printf '[iota]\nurl = http://127.0.0.1:%s\nrpc_timeout = 1s\nconfirm_timeout = 4s\nanchor = %s\n' \
	    "$NP" "$1"
	local records=0
	[ "$1" = records ] && records=1
	shift
	printf '%s\n' "$@"
	[ $records = 0 ] || printf '[ledger]\ncheckpoint = 0\n'
}

outbox_done() { sql_at_least "SELECT count(*) FROM outbox WHERE state = 'done'" "$1"; }
outbox_left() { sql "SELECT count(*) FROM outbox WHERE state <> 'done'"; }

node_start
check "the stand-in node listens on :$NP" $? "$d/node.log"
buyer_key
"$SDPP" keygen -o "$d/other.key" >/dev/null
BUYER=$(addr_of "$d/buyer.key")
OTHER=$(addr_of "$d/other.key")
fund "$BUYER" 5000000000 2
fund "$OTHER" 5000000000 1

# i0. sdpp iota online, against the stand-in: faucet, balance, a
# notarization, and what it refuses.
cli_online() {
	local url="http://127.0.0.1:$NP" out b0 b1 dead
	"$SDPP" iota balance --key "$d/other.key" --network testnet --url "$url" >"$d/i0-b0" 2>&1
	check "i0: sdpp iota balance" $? "$d/i0-b0"
	b0=$(sed 's/.*"balance":"\([0-9]*\)".*/\1/' "$d/i0-b0")
	"$SDPP" iota faucet --key "$d/other.key" --network testnet --faucet-url "$url" \
	    >"$d/i0-faucet" 2>&1 && grep -q "\"address\":\"$OTHER\",\"task\":\"[0-9a-f]" "$d/i0-faucet"
	check "i0: sdpp iota faucet asks for coins" $? "$d/i0-faucet"
	"$SDPP" iota balance --address "$OTHER" --network testnet --url "$url" >"$d/i0-b1" 2>&1
	b1=$(sed 's/.*"balance":"\([0-9]*\)".*/\1/' "$d/i0-b1")
	[ "$b1" -eq $((b0 + 10000000000)) ]
	check "i0: the balance rose by the faucet's 10 IOTA ($b0 -> $b1)" $? "$d/i0-b0" "$d/i0-b1"
	out=$("$SDPP" iota notarize --key "$d/other.key" --network testnet --url "$url" \
	    --data-hex 5d5d5d5d --description "cli test" 2>"$d/i0-not.err")
	echo "$out" | grep -q '"status":"success"' &&
	    rpc standin_stats | grep -q '"data_hex":"5d5d5d5d","description":"cli test"'
	check "i0: sdpp iota notarize (online) lands on the node" $? "$d/i0-not.err"
	! "$SDPP" iota pay --key "$d/other.key" --network testnet --url "$url" --to "$BUYER" \
	    --amount 99000000000 >/dev/null 2>"$d/i0-poor" && grep -q "not enough IOTA" "$d/i0-poor"
	check "i0: paying more than the account holds is refused before signing" $? "$d/i0-poor"
	! "$SDPP" iota pay --key "$d/other.key" --network testnet --url "$url" --to "$BUYER" \
	    --amount 5 --max-gas 1000000 >/dev/null 2>"$d/i0-gas" && grep -q "above the cap" "$d/i0-gas"
	check "i0: a gas budget above --max-gas is refused" $? "$d/i0-gas"
	! "$SDPP" iota faucet --address "$OTHER" --network mainnet >/dev/null 2>"$d/i0-main" &&
	    grep -q "mainnet has no faucet" "$d/i0-main"
	check "i0: mainnet has no faucet" $? "$d/i0-main"
	dead=$("$TOOLS/tool_freeport" 1)
	! timeout $((20 * SLOW)) "$SDPP" iota balance --address "$OTHER" --network testnet \
	    --url "http://127.0.0.1:$dead" >/dev/null 2>"$d/i0-dead" &&
	    grep -q "127.0.0.1:$dead" "$d/i0-dead"
	check "i0: a node that is not there is a clear error" $? "$d/i0-dead"
}

# i1. Paid on chain, anchored: 10 items, K = 4. Two invoices, each paid by
# its own transfer that the gateway finds on chain before it goes on; every
# invoice record is notarized with its leaf hash.
paid_and_anchored() {
	local seller pays inv notes leaves
	setup_pair i1 "payment_granularity = 4
payment_method = iota
$(iota_lines records 'anchor_kinds = invoice')" || return
	seller=$(addr_of "$d/i1.key")
	fund "$seller" 1000000000
	! timeout $((20 * SLOW)) "$SDPP" buy "127.0.0.1:$GP" --seller-key "$PUB" \
	    --key "$d/buyer.key" --product co2 --count 4 >/dev/null 2>"$d/i1-noiota" &&
	    grep -q "paid in IOTA on testnet: add --iota" "$d/i1-noiota"
	check "i1: buying from an IOTA seller without --iota is refused with advice" $? \
	    "$d/i1-noiota"
	"$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" --json >"$d/i1-menu" 2>&1 &&
	    grep -q '"payment_method":"iota-testnet","payment_address":"'"$seller"'"' "$d/i1-menu"
	check "i1: the menu names the network: payment method iota-testnet" $? "$d/i1-menu"
	! timeout $((20 * SLOW)) "$SDPP" buy "127.0.0.1:$GP" --seller-key "$PUB" \
	    --key "$d/buyer.key" --product co2 --count 4 --iota mainnet >/dev/null \
	    2>"$d/i1-mainnet" && grep -q "paid in IOTA on testnet, not on mainnet" "$d/i1-mainnet"
	check "i1: --iota mainnet against a testnet seller stops before ordering" $? \
	    "$d/i1-mainnet"
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'order'")" -eq 0 ]
	check "i1: ... and no order was placed" $?
	# --iota alone: the network comes from the menu.
	buy_start i1 co2 10 --iota --iota-url "http://127.0.0.1:$NP"
	wait_orders 1
	pub_seq "$CO2" v 1 12
	wait_exit $BUY_PID 30
	check "i1: sdpp buy --iota gets 10 items and settles (exit 0)" $WAIT_RC "$d/i1.err" "$GLOG"
	[ "$(wc -l <"$d/i1.jsonl")" -eq 10 ]
	check "i1: 10 items delivered" $? "$d/i1.jsonl"
	pays=$(sql "SELECT group_concat(json_extract(body, '\$.detail.verification'), ' ')
	    FROM records WHERE kind = 'payment' AND json_extract(body, '\$.detail.method') = 'iota'")
	[ "$(echo "$pays" | wc -w)" -eq 2 ]
	check "i1: 2 payments recorded with method iota and a digest each ($pays)" $? "$GLOG"
	rpc standin_stats >"$d/i1-stats.json"
	[ "$(grep -o '"recipient":"'"$seller"'"' "$d/i1-stats.json" | wc -l)" -eq 2 ] &&
	    [ "$(grep -o '"amount":"12"' "$d/i1-stats.json" | wc -l)" -eq 2 ]
	check "i1: the node holds 2 transfers of 12 nanos (4 items x 3) to the seller" $? \
	    "$d/i1-stats.json"
	"$SDPP" ledger show "$DB" --json >"$d/i1-show.json" 2>&1
	grep -q '"paid":"24","owed":"6",' "$d/i1-show.json" &&
	    grep -q '"paid_by":"chain",' "$d/i1-show.json"
	check "i1: ledger show counts the 24 paid on chain; the exit promises the other 6" $? \
	    "$d/i1-show.json"
	inv=$(sql "SELECT count(*) FROM records WHERE kind = 'invoice'")
	wait_until 20 outbox_done "$inv"
	check "i1: all $inv invoice records anchored (outbox done)" $? "$GLOG"
	rpc standin_stats >"$d/i1-stats.json"
	leaves=$(sql "SELECT lower(hex(leaf_hash)) FROM records WHERE kind = 'invoice'")
	notes=0
	for l in $leaves; do
		grep -q "\"data_hex\":\"$l\"" "$d/i1-stats.json" && notes=$((notes + 1))
	done
	[ "$notes" -eq "$inv" ]
	check "i1: each invoice's leaf hash is notarized on the node ($notes of $inv)" $? \
	    "$d/i1-stats.json"
	! sql "SELECT ref FROM outbox" | grep -qv '^iota:'
	check "i1: every outbox ref is iota:DIGEST" $?
	# Anchors that completed while the order ran reached the buyer.
	grep -E '^anchored: ledger:[0-9]+ at iota:' "$d/i1.err" >"$d/i1-anchors"
	local bad=0 rec ref
	[ -s "$d/i1-anchors" ] || bad=1
	while read -r _ rec _ ref; do
		[ "$(sql "SELECT count(*) FROM outbox WHERE record = ${rec#ledger:} AND ref = '$ref'")" \
		    -eq 1 ] || bad=1
	done <"$d/i1-anchors"
	rec=$(wc -l <"$d/i1-anchors")
	[ $bad -eq 0 ]
	check "i1: the buyer was told where its invoices are anchored ($rec)" $? "$d/i1.err"
	"$SDPP" ledger verify "$DB" --remote --iota-url "http://127.0.0.1:$NP" \
	    >"$d/i1-verify.out" 2>&1
	check "i1: sdpp ledger verify --remote confirms the anchors on the node" $? \
	    "$d/i1-verify.out"
	[ "$(sql "SELECT value FROM meta WHERE key = 'remote'")" = iota-testnet ] &&
	    ! "$SDPP" ledger verify "$DB" --remote --network mainnet \
		--iota-url "http://127.0.0.1:$NP" >"$d/i1-verify-main.out" 2>&1 &&
	    grep -q "the anchors are on testnet, not mainnet" "$d/i1-verify-main.out"
	check "i1: the ledger notes iota-testnet; verify --remote --network mainnet disagrees" $? \
	    "$d/i1-verify-main.out"
	# Item 1 now claims item 2's transaction.
	sql "UPDATE outbox SET ref = (SELECT ref FROM outbox WHERE item = 2) WHERE item = 1"
	! "$SDPP" ledger verify "$DB" --remote --iota-url "http://127.0.0.1:$NP" \
	    >"$d/i1-verify2.out" 2>&1 && grep -q "anchor" "$d/i1-verify2.out"
	check "i1: a rewritten anchor digest fails verify --remote" $? "$d/i1-verify2.out"
	teardown_pair
	# The same ledger, now configured for mainnet: one ledger keeps to one
	# network, so the gateway refuses to start and says why.
	gw_config i1 "$MQ" "$GP" "payment_granularity = 4
$(iota_lines records 'anchor_kinds = invoice' 'network = mainnet')"
	! timeout $((20 * SLOW)) "$GATEWAY" -c "$d/i1.ini" 2>"$d/i1-mainnet.log" &&
	    grep -q "anchors are on iota-testnet, not iota-mainnet" "$d/i1-mainnet.log"
	check "i1: a gateway set to mainnet on this testnet ledger refuses to start" $? \
	    "$d/i1-mainnet.log"
}

# i2. Bad payments: each is refused with a signed payment_rejected, the
# order is closed and no payment is recorded.
bad_payments() {
	local seller small wrong failed good
	setup_pair i2 "payment_granularity = 4
payment_method = iota
$(iota_lines none)" || return
	seller=$(addr_of "$d/i2.key")
	small=$("$SDPP" iota pay --key "$d/buyer.key" --network testnet --url "http://127.0.0.1:$NP" \
	    --to "$seller" --amount 1 | sed 's/.*"digest":"\([^"]*\)".*/\1/')
	wrong=$("$SDPP" iota pay --key "$d/buyer.key" --network testnet --url "http://127.0.0.1:$NP" \
	    --to "$OTHER" --amount 12 | sed 's/.*"digest":"\([^"]*\)".*/\1/')
	mode '{"fail_execute":1}'
	failed=$("$SDPP" iota pay --key "$d/buyer.key" --network testnet \
	    --url "http://127.0.0.1:$NP" --to "$seller" --amount 12 2>/dev/null |
	    sed 's/.*"digest":"\([^"]*\)".*/\1/')
	good=$("$SDPP" iota pay --key "$d/buyer.key" --network testnet --url "http://127.0.0.1:$NP" \
	    --to "$seller" --amount 12 | sed 's/.*"digest":"\([^"]*\)".*/\1/')
	[ -n "$small" ] && [ -n "$wrong" ] && [ -n "$failed" ] && [ -n "$good" ]
	check "i2: four transfers made on the node (too small, elsewhere, failed, good)" $? \
	    "$d/node.log"
	# Samples keep coming so that the first invoice is reached.
	"$TOOLS/tool_publish" "$MQ" "$CO2" x 1 100000 50 >/dev/null 2>&1 &
	track $!
	bad_one() { # NAME DIGEST REASON [-k KEY]
		local name=$1 digest=$2 reason=$3
		shift 3
		timeout $((20 * SLOW)) "$TOOLS/tool_hostile" -t 15 "$@" "127.0.0.1:$GP" "$PUB" \
		    pay-digest co2 8 "$digest" >"$d/i2-$name.out" 2>&1
		check "i2: $name is refused with payment_rejected" $? "$d/i2-$name.out" "$GLOG"
		# The log names only well-formed digests ("invalid" otherwise).
		grep -qE "event=payment_refused digest=($digest|invalid) reason=\"[^\"]*$reason" "$GLOG"
		check "i2: $name: the log says why ($reason)" $? "$GLOG"
	}
	bad_one "a transfer of 1 nanos" "$small" "moved 1 nanos" -k "$d/buyer.key"
	bad_one "a transfer to another address" "$wrong" "moved 0 nanos" -k "$d/buyer.key"
	bad_one "a transaction that failed on chain" "$failed" "failed on chain" -k "$d/buyer.key"
	bad_one "someone else's transfer" "$small" "not by the order" -k "$d/other.key"
	timeout $((20 * SLOW)) "$TOOLS/tool_hostile" -t 15 -e bad_message -k "$d/other.key" \
	    -a "$BUYER" "127.0.0.1:$GP" "$PUB" pay-digest co2 8 "$small" >"$d/i2-claim.out" 2>&1
	grep -q "no session key: bad_message" "$d/i2-claim.out" &&
	    grep -q "event=order_refused order=[0-9a-f]* reason=payment_address" "$GLOG"
	check "i2: an order naming another buyer's account is refused (bad_message)" $? \
	    "$d/i2-claim.out" "$GLOG"
	bad_one "a digest that is not on chain" "4BnpWPcpUSS3KFDkmG6vFKN1XwzYDmuG5hXwjwFhxnmF" \
	    "not confirmed within" -k "$d/buyer.key"
	bad_one "a verification that is no digest" "not-a-digest" "not an IOTA transaction" \
	    -k "$d/buyer.key"
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'payment'")" -eq 0 ]
	check "i2: no payment recorded" $? "$GLOG"
	# A good transfer pays invoice 1; offered again for invoice 2, it is
	# refused: one transfer pays once.
	bad_one "a transfer that already paid an invoice" "$good" "already paid an invoice" \
	    -k "$d/buyer.key"
	grep -q "invoices 2" "$d/i2-a transfer that already paid an invoice.out"
	check "i2: ... after paying invoice 1 with it" $? \
	    "$d/i2-a transfer that already paid an invoice.out"
	[ "$(sql "SELECT count(*) FROM payment_refs WHERE ref = '$good'")" -eq 1 ]
	check "i2: that transfer is recorded once" $? "$GLOG"
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'close'
	    AND json_extract(body, '\$.detail.reason') LIKE '%payment_rejected%'")" -ge 7 ]
	check "i2: seven orders closed as payment_rejected" $? "$GLOG"
	teardown_pair
}

# i3. A stalled node, then a node that is down: the data flow does not
# notice, records wait in the outbox (across a gateway restart) and drain
# once the node is back.
stalled_node() {
	local inv left
	setup_pair i3 "payment_granularity = 4
$(iota_lines records 'anchor_kinds = invoice, order')" || return
	fund "$(addr_of "$d/i3.key")" 1000000000
	mode '{"stall":true}'
	buy_start i3-a co2 20
	wait_orders 1
	pub_seq "$CO2" s 1 20
	wait_exit $BUY_PID 15
	check "i3: with the node stalled a buyer gets 20 items and settles at once" $WAIT_RC \
	    "$d/i3-a.err" "$GLOG"
	check_items "$d/i3-a.jsonl" s "$CO2" 20 >/dev/null 2>"$d/i3-check"
	check "i3: all 20, in order" $? "$d/i3-check"
	left=$(outbox_left)
	[ "$left" -ge 6 ]
	check "i3: the anchors wait in the outbox ($left)" $?
	gw_stop
	check "i3: the gateway stops cleanly with anchors pending" $WAIT_RC "$GLOG"
	mode '{"stall":false,"down":true}'
	# A fresh log, so that the start is judged by the new process's lines.
	mv "$GLOG" "$d/i3-first.log"
	gw_start i3 && wait_until 10 port_open "$GP"
	check "i3: the gateway restarts with the node down" $? "$GLOG"
	buy_start i3-b co2 8
	wait_orders 2
	pub_seq "$CO2" t 1 8
	wait_exit $BUY_PID 15
	check "i3: with the node down a second buyer gets 8 items and settles" $WAIT_RC \
	    "$d/i3-b.err" "$GLOG"
	wait_until 10 has_at_least "$GLOG" "event=anchor_failed" 1
	check "i3: failed anchoring attempts are logged (and retried)" $? "$GLOG"
	mode '{"down":false}'
	inv=$(sql "SELECT count(*) FROM records WHERE kind IN ('invoice', 'order')")
	wait_until 40 outbox_done "$inv"
	check "i3: once the node is back, all $inv anchors drain; nothing lost" $? "$GLOG"
	teardown_pair
}

# i4. Tree heads: one notarization proves many records.
tree_heads() {
	local roots anchors
	setup_pair i4 "payment_granularity = 4
$(iota_lines tree_heads 'anchor_every = 5' 'anchor_interval = 2s')" || return
	fund "$(addr_of "$d/i4.key")" 1000000000
	buy_start i4 co2 12
	wait_orders 1
	pub_seq "$CO2" h 1 12
	wait_exit $BUY_PID 15
	check "i4: a buyer gets 12 items" $WAIT_RC "$d/i4.err" "$GLOG"
	# The interval anchors what anchor_every has not covered yet.
	wait_until 15 sql_at_least "SELECT count(*) FROM outbox WHERE state = 'done' AND
	    json_extract(payload, '\$.size') = (SELECT max(size) FROM tree_heads)" 1
	check "i4: the latest tree head is anchored within anchor_interval" $? "$GLOG"
	anchors=$(sql "SELECT count(*) FROM outbox")
	[ "$anchors" -lt "$(sql "SELECT count(*) FROM records")" ]
	check "i4: fewer anchors ($anchors) than records" $?
	rpc standin_stats >"$d/i4-stats.json"
	roots=$(sql "SELECT json_extract(payload, '\$.root') FROM outbox WHERE state = 'done'")
	for r in $roots; do
		grep -q "\"data_hex\":\"$r\"" "$d/i4-stats.json" || roots=bad
	done
	[ "$roots" != bad ]
	check "i4: each anchored root is notarized on the node" $? "$d/i4-stats.json"
	"$SDPP" ledger verify "$DB" --remote --iota-url "http://127.0.0.1:$NP" \
	    >"$d/i4-verify.out" 2>&1
	check "i4: verify --remote confirms the tree-head anchors" $? "$d/i4-verify.out"
	teardown_pair
}

# i5. An answer lost after the transaction landed: the next attempt finds
# it on chain instead of notarizing (and paying) a second time.
lost_answer() {
	local inv notes
	setup_pair i5 "payment_granularity = 4
$(iota_lines records 'anchor_kinds = invoice')" || return
	# Only small coins, over two pages of 50: the first page (1.75 M nanos)
	# cannot cover the 2 M budget of an anchor (computation plus the SDK's
	# safety margin), both pages (2.1 M) can.
	fund "$(addr_of "$d/i5.key")" 35000 60
	rpc standin_stats >"$d/i5-before.json"
	# The first try and both retries of the first execute lose their answer.
	mode '{"lose_execute":3}'
	buy_start i5 co2 4
	wait_orders 1
	pub_seq "$CO2" l 1 4
	wait_exit $BUY_PID 15
	check "i5: a buyer gets 4 items" $WAIT_RC "$d/i5.err" "$GLOG"
	inv=$(sql "SELECT count(*) FROM records WHERE kind = 'invoice'")
	wait_until 20 outbox_done "$inv"
	check "i5: the invoice is anchored in the end, paid from 60 small coins on two pages" $? \
	    "$GLOG"
	grep -q "event=anchor_found" "$GLOG"
	check "i5: the gateway found the transaction whose answer was lost" $? "$GLOG"
	rpc standin_stats >"$d/i5-after.json"
	notes=$(($(grep -o '"data_hex"' "$d/i5-after.json" | wc -l) -
	    $(grep -o '"data_hex"' "$d/i5-before.json" | wc -l)))
	[ "$notes" -eq "$inv" ]
	check "i5: one notarization per invoice, none twice ($notes for $inv)" $? "$d/i5-after.json"
	teardown_pair
}

# i6. A node whose coin index trails execution: each transaction's coins are
# listed as they were before it. The gateway's anchors run back to back
# from the gas coin its last transaction's effects reported, so none is
# refused; `sdpp iota', one transaction per run, retries a refused dry run
# once with coins read afresh.
index_lag() {
	local inv dry0 dry1 notes0 notes1 url="http://127.0.0.1:$NP"
	setup_pair i6 "payment_granularity = 2
$(iota_lines records 'anchor_kinds = order, invoice, exit')" || return
	fund "$(addr_of "$d/i6.key")" 1000000000
	mode '{"index_lag":1000}'
	rpc standin_stats >"$d/i6-before.json"
	buy_start i6 co2 6
	wait_orders 1
	pub_seq "$CO2" x 1 6
	wait_exit $BUY_PID 15
	check "i6: a buyer gets 6 items" $WAIT_RC "$d/i6.err" "$GLOG"
	inv=$(sql "SELECT count(*) FROM records WHERE kind IN ('order', 'invoice', 'exit')")
	wait_until 20 outbox_done "$inv"
	check "i6: all $inv records anchored back to back while the index lags" $? "$GLOG"
	rpc standin_stats >"$d/i6-after.json"
	dry0=$(rpcq result.calls.iota_dryRunTransactionBlock standin_stats)
	! grep -q "event=anchor_failed" "$GLOG" &&
	    [ "$(($(grep -o '"data_hex"' "$d/i6-after.json" | wc -l) -
		$(grep -o '"data_hex"' "$d/i6-before.json" | wc -l)))" -eq "$inv" ]
	check "i6: no anchor failed, one notarization each" $? "$GLOG"
	teardown_pair
	mode '{"index_lag":1}'
	notes0=$(grep -o '"data_hex"' "$d/i6-after.json" | wc -l)
	"$SDPP" iota notarize --key "$d/other.key" --network testnet --url "$url" \
	    --data-hex 6a6a >/dev/null 2>"$d/i6-cli1.err" &&
	    dry0=$(rpcq result.calls.iota_dryRunTransactionBlock standin_stats) &&
	    "$SDPP" iota notarize --key "$d/other.key" --network testnet --url "$url" \
		--data-hex 6b6b >/dev/null 2>"$d/i6-cli2.err"
	check "i6: sdpp iota notarize twice in a row, the second listed stale coins" $? \
	    "$d/i6-cli1.err" "$d/i6-cli2.err"
	dry1=$(rpcq result.calls.iota_dryRunTransactionBlock standin_stats)
	notes1=$(rpc standin_stats | grep -o '"data_hex"' | wc -l)
	[ "$((dry1 - dry0))" -eq 2 ] && [ "$((notes1 - notes0))" -eq 2 ]
	check "i6: ... its dry run was refused once, then retried with fresh coins ($((dry1 - dry0)) dry runs)" $?
	mode '{"index_lag":0}'
}

timed i0 cli_online
timed i1 paid_and_anchored
timed i2 bad_payments
timed i3 stalled_node
timed i4 tree_heads
timed i5 lost_answer
timed i6 index_lag
finish
