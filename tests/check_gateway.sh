#!/bin/bash
# End to end (TAP): a real mosquitto and sdpp-gateway on free loopback ports, bought from with
# `sdpp buy': a full purchase, an open-ended order ended by Ctrl-C, binary payloads, and -t.
# More scenarios: check_gateway_load.sh, check_gateway_hostile.sh, check_gateway_ops.sh.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2

# 1. Count 10 at K = 4 while 12 distinct payloads are published: the buyer
# gets exactly the first 10, byte for byte, pays two invoices and settles
# the last two items with its exit voucher.
full_purchase() {
	local i p st
	setup_pair s1 "payment_granularity = 4" || return
	buy_start s1-buy co2 10
	if ! wait_orders 1; then
		notok "s1: the order is recorded"
		diag "$GLOG" "$d/s1-buy.err"
		teardown_pair
		return
	fi
	: >"$d/s1-published"
	st=0
	for i in $(seq 1 12); do
		# Quotes and a backslash: the output must escape them.
		p="{\"ppm\":$((400 + i)),\"n\":$i,\"note\":\"a\\\\b\"}"
		pub "$CO2" "$p" || st=1
		printf '%s\n' "$p" >>"$d/s1-published"
	done
	check "s1: 12 samples published" $st
	wait_exit "$BUY_PID" 10
	check "s1: sdpp buy --count 10 exits 0" $WAIT_RC "$d/s1-buy.err" "$GLOG"
	# The first 10 published, in order, escaped as JSON text.
	head -n 10 "$d/s1-published" | json_escape |
	    awk -v t="$CO2" '{ print "seq " NR " topic " t " payload " $0 }' >"$d/s1-want"
	sed -n 's/^{"seq":\([0-9]*\),"topic":"\([^"]*\)","ts":[0-9]*,"payload":"\(.*\)"}$/seq \1 topic \2 payload \3/p' \
	    "$d/s1-buy.jsonl" >"$d/s1-got"
	cmp -s "$d/s1-want" "$d/s1-got"
	check "s1: the buyer got the first 10 samples published after its order, in order" $? \
	    "$d/s1-buy.jsonl" "$d/s1-want"
	# The close record follows the statement: wait for it before counting.
	wait_until 10 closed_orders_at_least 1
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/s1-verify" 2>&1
	check "s1: ledger verify with the seller's key" $? "$d/s1-verify"
	"$SDPP" ledger show "$DB" >"$d/s1-show" 2>&1
	grep -q 'received  10 items' "$d/s1-show" &&
	    grep -q 'invoiced  24 nanos in 2 invoices' "$d/s1-show" &&
	    grep -q 'paid      30 nanos' "$d/s1-show" && grep -q 'owed      0 nanos' "$d/s1-show"
	check "s1: ledger show: received 10, invoiced 24 in 2 invoices, paid 30, owed 0" $? \
	    "$d/s1-show"
	sql "SELECT kind || '=' || count(*) FROM records WHERE kind != 'receipts' GROUP BY kind
	    ORDER BY kind" | tr '\n' ' ' >"$d/s1-kinds"
	# Invoices, payments and receipts are held while the order runs and
	# join the log at its exit: the latest of each, the invoices merged.
	[ "$(cat "$d/s1-kinds")" = "close=1 exit=1 invoice=1 order=1 payment=1 " ] &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'receipts'")" -eq 1 ] &&
	    [ "$(sql "SELECT json_extract(body, '\$.detail.first_invoice') || '..' ||
	        json_extract(body, '\$.detail.invoice') FROM records WHERE kind = 'invoice'")" = 1..2 ] &&
	    [ "$(sql "SELECT count(*) FROM held")" -eq 0 ]
	check "s1: records: order, receipts, invoice (1..2 merged), payment, exit, close; none held" $? \
	    "$d/s1-kinds"
	teardown_pair
}

# 3. An open-ended order ended by SIGINT (Ctrl-C): the buyer settles with
# its exit voucher and exits 0.
ctrl_c() {
	local i oid
	setup_pair s3 "payment_granularity = 4" || return
	buy_start s3-buy co2 0
	wait_orders 1
	for i in 1 2 3 4 5; do
		pub "$CO2" "s3-$i"
	done
	if ! wait_until 10 lines_at_least "$d/s3-buy.jsonl" 5; then
		notok "s3: 5 items arrive on an open-ended order"
		diag "$d/s3-buy.jsonl" "$d/s3-buy.err" "$GLOG"
	else
		ok "s3: 5 items arrive on an open-ended order"
	fi
	kill -INT "$BUY_PID"
	wait_exit "$BUY_PID" 15
	check "s3: sdpp buy exits 0 after SIGINT" $WAIT_RC "$d/s3-buy.err" "$GLOG"
	grep -q '^settled: 5 items received, 15 nanos due, 15 nanos paid' "$d/s3-buy.err"
	check "s3: it reports the seller's statement" $? "$d/s3-buy.err"
	wait_until 10 closed_orders_at_least 1
	oid=$(last_order)
	"$SDPP" ledger show "$DB" --order "$oid" --json >"$d/s3-show" 2>&1
	grep -q '"acknowledged":5,.*"paid":"15","owed":"0","exited":true,"closed":true,"reason":"settled"' \
	    "$d/s3-show"
	check "s3: the ledger shows the order exited, paid 15, owed 0" $? "$d/s3-show"
	teardown_pair
}

# 4. Binary payloads travel intact: base64 in the output when they are not
# UTF-8, escaped text when they are; an empty payload and a 200 KiB one
# pass; one over the 256 KiB item limit is dropped without a seq.
binary() {
	local i f line b64 st
	setup_pair s4 "payment_granularity = 4" || return
	printf '\000\377\001\002' >"$d/b1"               # NUL and 0xff
	printf 'ab\000\303\050cd' >"$d/b2"               # a broken 2-byte sequence
	printf '\355\240\200\364\220\200\200' >"$d/b3"   # a surrogate, above U+10FFFF
	printf 'text\000with\001controls\037' >"$d/b4"   # valid UTF-8: text
	head -c $((200 * 1024)) /dev/urandom >"$d/b5"
	printf '\377' >>"$d/b5"                          # never valid UTF-8
	head -c $((300 * 1024)) /dev/urandom >"$d/b6"    # over 256 KiB: dropped
	buy_start s4-buy co2 7
	wait_orders 1
	st=0
	for f in b1 b2 b3 b4; do
		pub_file "$CO2" "$d/$f" || st=1
	done
	timeout $((10 * SLOW)) "$MOSQ_PUB" -h 127.0.0.1 -p "$MQ" -q 1 -t "$CO2" -n || st=1
	pub_file "$CO2" "$d/b5" || st=1
	pub_file "$CO2" "$d/b6" || st=1
	pub "$CO2" "end" || st=1
	check "s4: binary samples published" $st
	wait_exit "$BUY_PID" 15
	check "s4: sdpp buy exits 0" $WAIT_RC "$d/s4-buy.err" "$GLOG"
	st=0
	for i in 1 2 3 5; do
		case $i in 5) f=b5; line=6 ;; *) f=b$i; line=$i ;; esac
		b64=$(sed -n "${line}s/.*,\"payload\":\"\([A-Za-z0-9+\/=]*\)\",\"payload_base64\":true}$/\1/p" \
		    "$d/s4-buy.jsonl")
		if [ -z "$b64" ] || ! printf '%s' "$b64" | base64 -d | cmp -s - "$d/$f"; then
			echo "# item $line is not $f in base64"
			st=1
		fi
	done
	check "s4: non-UTF-8 payloads come out as base64 of the same bytes" $st "$d/s4-buy.jsonl"
	sed -n '4p' "$d/s4-buy.jsonl" |
	    grep -qF '"seq":4,' && sed -n '4p' "$d/s4-buy.jsonl" |
	    grep -qF '"payload":"text\u0000with\u0001controls\u001f"}'
	check "s4: a UTF-8 payload with NUL and controls comes out as escaped text" $? \
	    "$d/s4-buy.jsonl"
	sed -n '5p' "$d/s4-buy.jsonl" | grep -qF '"seq":5,' &&
	    sed -n '5p' "$d/s4-buy.jsonl" | grep -qF '"payload":""}'
	check "s4: an empty payload is an item" $? "$d/s4-buy.jsonl"
	sed -n '7p' "$d/s4-buy.jsonl" | grep -qF '"seq":7,' &&
	    sed -n '7p' "$d/s4-buy.jsonl" | grep -qF '"payload":"end"}'
	check "s4: a payload over 256 KiB is dropped without using a seq" $? "$d/s4-buy.jsonl"
	teardown_pair
}

# 10. sdpp-gateway -t: exactly the key note and "configuration OK" on a
# good file (with and without the key), exactly the golden errors on a
# broken one, a refusal of a key file others can read.
check_config() {
	local t=$d/t10 key hex
	mkdir -p "$t"
	cp "$ROOT/tests/gateway/good.ini" "$t/gw.ini"
	cp "$ROOT/tests/gateway/bad.ini" "$t/bad.ini"
	key=$(cd "$t" && pwd -P)/seller.key
	(cd "$t" && "$GATEWAY" -t -c gw.ini >"$t/out" 2>"$t/err")
	check "t: -t on a good file without a key exits 0" $? "$t/out" "$t/err"
	printf '%s: does not exist yet; it will be created at first start\nconfiguration OK\n' \
	    "$key" >"$t/want"
	cmp -s "$t/want" "$t/out" && [ ! -s "$t/err" ]
	check "t: it prints exactly the key note and configuration OK" $? "$t/out" "$t/err"
	[ ! -e "$key" ]
	check "t: -t creates no key" $?
	hex=$("$SDPP" keygen -o "$key")
	(cd "$t" && "$GATEWAY" -t -c gw.ini >"$t/out" 2>"$t/err")
	check "t: -t on a good file with its key exits 0" $? "$t/out" "$t/err"
	printf '%s: seller identity %s\nconfiguration OK\n' "$key" "$hex" >"$t/want"
	cmp -s "$t/want" "$t/out" && [ ! -s "$t/err" ]
	check "t: it prints exactly the seller identity and configuration OK" $? "$t/out" "$t/err"
	chmod 0640 "$key"
	(cd "$t" && "$GATEWAY" -t -c gw.ini >"$t/out" 2>"$t/err")
	[ $? -eq 1 ] && grep -qF "$key" "$t/err" && ! grep -q 'configuration OK' "$t/out"
	check "t: -t refuses a key file its group can read" $? "$t/out" "$t/err"
	(cd "$t" && "$GATEWAY" -t -c bad.ini >"$t/out" 2>"$t/err")
	check "t: -t on a broken file exits 1" $(($? != 1)) "$t/err"
	if cmp -s "$ROOT/tests/gateway/bad.err" "$t/err" && [ ! -s "$t/out" ]; then
		ok "t: it prints exactly the FILE:LINE errors of tests/gateway/bad.err"
	else
		notok "t: it prints exactly the FILE:LINE errors of tests/gateway/bad.err"
		diff "$ROOT/tests/gateway/bad.err" "$t/err" | sed 's/^/# /'
		diag "$t/out"
	fi
}

# 11. checkpoint = 1s: a running order's held invoice, payment and
# receipts reach the log on the gateway's timer, before the order ends.
timed_checkpoint() {
	setup_pair s11 "payment_granularity = 4
[ledger]
checkpoint = 1s" || return
	buy_start s11-buy co2 100
	wait_orders 1
	pub_seq "$CO2" t 1 8 >/dev/null 2>&1
	wait_until 10 lines_at_least "$d/s11-buy.jsonl" 8
	check "s11: 8 items delivered, the order still open" $? "$d/s11-buy.err"
	wait_until 10 sql_at_least "SELECT count(*) FROM records WHERE kind = 'invoice'" 1 &&
	    sql_at_least "SELECT count(*) FROM records WHERE kind = 'payment'" 1 &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'close'")" -eq 0 ]
	check "s11: its invoice and payment joined the log while it runs" $? "$GLOG"
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/s11-verify" 2>&1
	check "s11: ledger verify" $? "$d/s11-verify"
	kill -TERM "$BUY_PID" 2>/dev/null
	wait_exit "$BUY_PID" 10 >/dev/null
	teardown_pair
}

timed "1 full purchase" full_purchase
timed "3 ctrl-c" ctrl_c
timed "4 binary payloads" binary
timed "10 -t" check_config
timed "11 timed checkpoint" timed_checkpoint
finish
