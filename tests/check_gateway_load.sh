#!/bin/bash
# End to end under load (TAP): 50 concurrent buyers of two products on one gateway while both
# topics publish 200 messages a second; every buyer gets its 20 items in order, contiguous.
. "$(dirname "$0")/lib/gw.sh"

BUYERS=50      # half on each product
COUNT=20       # items each
MESSAGES=200   # per topic
RATE=200       # per topic per second

# 2. Each buyer ordered before publishing starts, so each must get a
# contiguous run of what its topic published, numbered 1..COUNT, and pay.
many_buyers() {
	local i product prefix topic st bad pids=()
	# A deep per-buyer queue: a buyer waiting for its payment to be
	# recorded must not lose samples, or its run would have a gap.
	setup_pair s2 "payment_granularity = 4
buyer_queue = 1000" || return
	for i in $(seq 1 $BUYERS); do
		if [ $((i % 2)) -eq 0 ]; then product=co2; else product=temp; fi
		buy_start "s2-buy$i" $product $COUNT
		pids[i]=$BUY_PID
	done
	if ! wait_until 20 orders_at_least $BUYERS; then
		notok "s2: $BUYERS orders are recorded"
		diag "$GLOG"
		teardown_pair
		return
	fi
	ok "s2: $BUYERS orders are recorded"
	pub_seq building/7/floor2/co2 c 1 $MESSAGES $RATE >"$d/s2-pub-co2.err" 2>&1 &
	local pc=$!
	track $pc
	pub_seq building/7/floor2/temperature t 1 $MESSAGES $RATE >"$d/s2-pub-temp.err" 2>&1 &
	local pt=$!
	track $pt
	wait_exit $pc 20 && wait_exit $pt 20
	check "s2: $MESSAGES messages a topic published at $RATE/s" $? "$d/s2-pub-co2.err" \
	    "$d/s2-pub-temp.err"
	st=0 bad=0
	for i in $(seq 1 $BUYERS); do
		wait_exit "${pids[$i]}" 20
		if [ "$WAIT_RC" -ne 0 ]; then
			st=$((st + 1))
			echo "# buyer $i: status $WAIT_RC: $(tail -n 1 "$d/s2-buy$i.err")"
		fi
		if [ $((i % 2)) -eq 0 ]; then
			prefix=c topic=building/7/floor2/co2
		else
			prefix=t topic=building/7/floor2/temperature
		fi
		if ! check_items "$d/s2-buy$i.jsonl" $prefix $topic $COUNT >/dev/null 2>"$d/s2-check$i"; then
			bad=$((bad + 1))
			echo "# buyer $i: $(head -n 1 "$d/s2-check$i")"
		fi
	done
	check "s2: all $BUYERS buyers exit 0" $st "$GLOG"
	check "s2: every buyer got $COUNT items, seq 1..$COUNT, a contiguous run of its topic" $bad
	wait_until 10 closed_orders_at_least $BUYERS
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/s2-verify" 2>&1
	check "s2: ledger verify" $? "$d/s2-verify"
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'order'")" -eq $BUYERS ] &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'exit'")" -eq $BUYERS ] &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'invoice'")" -eq $BUYERS ] &&
	    [ "$(sql "SELECT sum(invoice) FROM records WHERE kind = 'invoice'")" -eq $((BUYERS * COUNT / 4)) ]
	# Held until each exit: one record per order for its invoices.
	check "s2: the ledger has $BUYERS orders and exits, $((BUYERS * COUNT / 4)) invoices in $BUYERS records" $?
	"$SDPP" ledger show "$DB" --json >"$d/s2-show" 2>&1
	[ "$(grep -c '"owed":"0","exited":true,"closed":true,"reason":"settled"' "$d/s2-show")" -eq $BUYERS ]
	check "s2: every order settled, owed 0" $? "$d/s2-show"
	teardown_pair
}

timed "2 $BUYERS buyers" many_buyers
finish
