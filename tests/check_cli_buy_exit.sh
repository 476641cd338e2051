#!/bin/bash
# sdpp buy's exit statuses, --budget, -q/-v and its error messages (TAP), against a real
# mosquitto and sdpp-gateway: settled 0, usage 2, unreachable 3, refused 4 (the seller's
# own error even after our write failed), wrong seller key 5, interrupted 6, budget 7.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
PRE=building/7/floor2/pre

# buy NAME ARGS...: sdpp buy in the foreground against the gateway, items
# to $d/NAME.jsonl, stderr to $d/NAME.err; its status in RC.
buy() {
	local name=$1
	shift
	buyer_key
	timeout $((30 * SLOW)) "$SDPP" buy "127.0.0.1:$GP" --key "$d/buyer.key" "$@" \
	    >"$d/$name.jsonl" 2>"$d/$name.err"
	RC=$?
}

orders() { sql "SELECT count(*) FROM records WHERE kind = 'order'"; }

# 1. Usage errors exit 2 and say what is wrong, before connecting.
usage() {
	local rc
	buyer_key
	"$SDPP" buy 127.0.0.1:1 --seller-key "$(printf '%064d' 0)" --key "$d/buyer.key" -x \
	    2>"$d/u1.err"
	rc=$?
	[ $rc -eq 2 ] && grep -qxF 'sdpp buy: unknown option: -x (see --help)' "$d/u1.err"
	check "u: an unknown option: exit 2, \`unknown option: -x' (status $rc)" $? "$d/u1.err"
	"$SDPP" buy 127.0.0.1:1 --key "$d/buyer.key" --seller-key 2>"$d/u2.err"
	rc=$?
	[ $rc -eq 2 ] && grep -qxF 'sdpp buy: --seller-key needs a value (see --help)' "$d/u2.err"
	check "u: an option missing its value: exit 2, named (status $rc)" $? "$d/u2.err"
	"$SDPP" buy 127.0.0.1:1 --key "$d/buyer.key" -v 2>"$d/u3.err"
	rc=$?
	[ $rc -eq 2 ] && grep -q '^usage: sdpp buy' "$d/u3.err" && ! grep -q 'needs a value' "$d/u3.err"
	check "u: -v last is a flag, not an option missing its value (status $rc)" $? "$d/u3.err"
	"$SDPP" buy 127.0.0.1:1 --key "$d/buyer.key" --seller-key "$(printf '%064d' 0)" \
	    --product co2 --count many 2>"$d/u4.err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "count is not an integer" "$d/u4.err"
	check "u: a bad --count: exit 2 (status $rc)" $? "$d/u4.err"
	"$SDPP" menu 127.0.0.1:1 --bogus 2>"$d/u5.err"
	rc=$?
	[ $rc -eq 2 ] && grep -qxF 'sdpp menu: unknown option: --bogus (see --help)' "$d/u5.err"
	check "u: sdpp menu: an unknown option: exit 2 (status $rc)" $? "$d/u5.err"
	"$SDPP" buy --help >"$d/u6.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^Exit status: 0 settled' "$d/u6.out" && grep -q -- '-q prints' "$d/u6.out"
	check "u: --help documents the exit statuses and -q/-v (status $rc)" $? "$d/u6.out"
}

# 2. Nobody listening: exit 3, the reason printed.
unreachable() {
	local port rc
	port=$("$TOOLS/tool_freeport" 1)
	buyer_key
	"$SDPP" buy "127.0.0.1:$port" --seller-key "$(printf '%064d' 0)" --key "$d/buyer.key" \
	    --product co2 --count 1 >/dev/null 2>"$d/c1.err"
	rc=$?
	[ $rc -eq 3 ] && grep -q "127.0.0.1:$port: Connection refused" "$d/c1.err"
	check "c: a closed port: exit 3, connection refused (status $rc)" $? "$d/c1.err"
}

# 3. One gateway for the rest: settled, quiet and verbose, refusals, a
# wrong seller key, the budget, Ctrl-C, and last the gateway killed.
with_gateway() {
	local i oid n0 rc
	setup_pair e "payment_granularity = 4
max_quantity = 100" "[product co2]
topic = $CO2
price = 3

[product pre]
topic = $PRE
price = 2
prepay = yes" || return

	buy_start e1 co2 4 -v
	wait_orders 1
	for i in 1 2 3 4; do pub "$CO2" "e1-$i"; done
	wait_exit "$BUY_PID" 15
	check "e1: a complete order exits 0" $WAIT_RC "$d/e1.err" "$GLOG"
	grep -qx 'invoice 1: items 1-4, 12 nanos, 12 nanos due in all' "$d/e1.err" &&
	    grep -qx 'paid invoice 1: a voucher for 12 nanos' "$d/e1.err" &&
	    grep -q '^settled: 4 items received, 12 nanos due, 12 nanos paid' "$d/e1.err"
	check "e1: -v prints the invoice and its payment" $? "$d/e1.err"

	buy_start e2 co2 2 -q
	wait_orders 2
	for i in 1 2; do pub "$CO2" "e2-$i"; done
	wait_exit "$BUY_PID" 15
	[ "$WAIT_RC" -eq 0 ] && [ ! -s "$d/e2.err" ] && [ "$(wc -l <"$d/e2.jsonl")" -eq 2 ]
	check "e2: -q: exit 0, 2 items, nothing on stderr (status $WAIT_RC)" $? "$d/e2.err"

	buy e3 --seller-key "$PUB" --product nosuch --count 1
	[ $RC -eq 4 ] && grep -q "no product \`nosuch' on the menu" "$d/e3.err"
	check "e3: a product not on the menu: exit 4 (status $RC)" $? "$d/e3.err"

	buy e4 --seller-key "$PUB" --product co2 --count 1000
	[ $RC -eq 4 ] && grep -q 'the seller refused: bad_quantity: ' "$d/e4.err"
	check "e4: the seller refuses the order: exit 4, its code printed (status $RC)" $? "$d/e4.err"

	"$SDPP" keygen -o "$d/other.key" >/dev/null
	buy e5 --seller-key "$d/other.key.pub" --product co2 --count 1
	[ $RC -eq 5 ] && grep -qxF "sdpp buy: the seller's messages are not signed by the key in $d/other.key.pub (wrong --seller-key?)" "$d/e5.err"
	check "e5: a wrong --seller-key: exit 5, named as such (status $RC)" $? "$d/e5.err"
	"$SDPP" menu "127.0.0.1:$GP" --seller-key "$d/other.key.pub" >/dev/null 2>"$d/e5m.err"
	rc=$?
	[ $rc -eq 5 ] && grep -q "not signed by the key in $d/other.key.pub (wrong --seller-key?)" "$d/e5m.err"
	check "e5: sdpp menu with a wrong --seller-key: exit 5, named (status $rc)" $? "$d/e5m.err"

	n0=$(orders)
	buy e6 --seller-key "$PUB" --product co2 --count 10 --budget 20
	[ $RC -eq 7 ] && grep -q "10 items of \`co2' at 3 nanos cost more than your --budget of 20 nanos: nothing ordered" "$d/e6.err" &&
	    [ "$(orders)" -eq "$n0" ]
	check "e6: count x price above --budget: exit 7, nothing ordered (status $RC)" $? "$d/e6.err"

	# Open-ended at 3 nanos with a budget of 10: three items (9), then the
	# fourth would go beyond it: exit, settled within the budget. Only three
	# are published: more could reach the buyer (and an invoice be made)
	# before its exit does, on a slow machine.
	buy_start e7 co2 0 --budget 10
	wait_orders $((n0 + 1))
	for i in 1 2 3; do pub "$CO2" "e7-$i"; done
	wait_exit "$BUY_PID" 15
	[ "$WAIT_RC" -eq 7 ] && [ "$(wc -l <"$d/e7.jsonl")" -eq 3 ] &&
	    grep -q '^sdpp buy: your --budget of 10 nanos is reached: stopping after 3 items' "$d/e7.err" &&
	    grep -q '^settled: 3 items received, 9 nanos due, 9 nanos paid' "$d/e7.err" &&
	    ! grep -q 'seller refused\|over_budget' "$d/e7.err"
	check "e7: --budget reached mid-order: exit 7, 3 items, settled, said to be the budget (status $WAIT_RC)" $? \
	    "$d/e7.err" "$d/e7.jsonl"
	wait_until 10 closed_orders_at_least 3
	oid=$(last_order)
	"$SDPP" ledger show "$DB" --order "$oid" --json >"$d/e7-show" 2>&1
	grep -q '"paid":"9","owed":"0","exited":true' "$d/e7-show"
	check "e7: the ledger shows the order exited, paid 9, owed 0" $? "$d/e7-show"

	buy_start e8 co2 10
	wait_orders $((n0 + 2))
	for i in 1 2; do pub "$CO2" "e8-$i"; done
	wait_until 10 lines_at_least "$d/e8.jsonl" 2
	kill -INT "$BUY_PID"
	wait_exit "$BUY_PID" 15
	[ "$WAIT_RC" -eq 6 ] && grep -q '^settled: 2 items received' "$d/e8.err" &&
	    grep -q 'interrupted after 2 of 10 items' "$d/e8.err"
	check "e8: Ctrl-C before the count: settled, exit 6 (status $WAIT_RC)" $? "$d/e8.err"

	# Paid in advance, 4 items (8 nanos) at a time: a budget of 7 cannot
	# pay the first block; one of 10 pays one block, not the second.
	buy e10 --seller-key "$PUB" --product pre --count 0 --budget 7
	[ $RC -eq 7 ] && grep -q "\`pre' is paid in advance, 4 items at a time: its first invoice is above your --budget of 7 nanos: nothing ordered" "$d/e10.err"
	check "e10: a first prepaid block above --budget: exit 7, nothing ordered (status $RC)" $? "$d/e10.err"
	buy_start e11 pre 0 --budget 10
	wait_orders $((n0 + 3))
	for i in 1 2 3 4 5 6; do pub "$PRE" "e11-$i"; done
	wait_exit "$BUY_PID" 15
	[ "$WAIT_RC" -eq 7 ] && [ "$(wc -l <"$d/e11.jsonl")" -eq 4 ] &&
	    grep -q '^sdpp buy: your --budget of 10 nanos is reached: stopping after 4 items' "$d/e11.err" &&
	    grep -q '^settled: 4 items received, 8 nanos due, 8 nanos paid' "$d/e11.err"
	check "e11: prepaid, --budget reached: the paid block, no second invoice paid, exit 7 (status $WAIT_RC)" $? \
	    "$d/e11.err" "$d/e11.jsonl" "$GLOG"

	gw_sane
	# --no-resume: without it the buyer would wait to resume the order
	# (check_resume.sh r2b, r3b).
	buy_start e9 co2 10 --no-resume
	wait_orders $((n0 + 4))
	for i in 1 2; do pub "$CO2" "e9-$i"; done
	wait_until 10 lines_at_least "$d/e9.jsonl" 2
	kill -KILL "$GW_PID"
	wait_exit "$BUY_PID" 15
	[ "$WAIT_RC" -eq 6 ] && grep -q 'the seller closed the connection' "$d/e9.err"
	check "e9: the gateway killed mid-order: exit 6 (status $WAIT_RC)" $? "$d/e9.err"
	broker_stop "$BROKER_PID"
}

# 4. Issue 15: a buyer stopped (SIGSTOP) past ack_timeout finds the
# seller's signed ack_timeout error behind the items in its socket; the
# write of its ACK then fails, and it must report that error (exit 4), not
# its own Broken pipe.
stalled() {
	setup_pair a "ack_timeout = 300ms
max_resends = 0" || return
	buy_start a1 co2 0
	wait_orders 1
	kill -STOP "$BUY_PID"
	for i in $(seq 1 20); do pub "$CO2" "a1-$i"; done
	wait_until 10 has_at_least "$GLOG" 'event=close reason=ack_timeout' 1
	check "a1: the seller ends the stalled order with ack_timeout" $? "$GLOG"
	kill -CONT "$BUY_PID"
	wait_exit "$BUY_PID" 15
	[ "$WAIT_RC" -eq 4 ] &&
	    grep -q '^sdpp buy: the seller ended the order: ack_timeout: .' "$d/a1.err"
	check "a1: the buyer reports the seller's ack_timeout (code and text), exit 4 (status $WAIT_RC)" $? \
	    "$d/a1.err"
	! grep -q 'Broken pipe\|Connection reset' "$d/a1.err"
	check "a1: not its own write error" $? "$d/a1.err"
	teardown_pair
}

timed usage usage
timed unreachable unreachable
timed with_gateway with_gateway
timed stalled stalled
finish
