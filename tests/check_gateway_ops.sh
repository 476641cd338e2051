#!/bin/bash
# End to end through operations (TAP): the broker restarts mid-order, SIGHUP changes prices (and
# a broken file is refused), SIGTERM mid-order invoices what was delivered and stops cleanly.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2

# 7. Restart mosquitto under two running orders: the gateway reconnects and
# resubscribes, and each buyer gets all 20 items, seq 1..20. A stale value
# left retained on the new broker before the gateway resubscribes is not a
# sample (the broker replays it on subscribe), and the gateway's own status
# and menu topics, which it publishes again on reconnect, are not either:
# buyer B's product is `#' and must still see only the 20 samples.
broker_restart() {
	local first st b
	setup_pair s7 "payment_granularity = 4" "[product co2]
topic = $CO2
price = 3

[product all]
topic = #
price = 1" || return
	buy_start s7-a co2 20
	local pa=$BUY_PID
	buy_start s7-b all 20
	local pb=$BUY_PID
	wait_orders 2
	pub_seq "$CO2" r 1 5
	wait_until 10 lines_at_least "$d/s7-a.jsonl" 5 && wait_until 10 lines_at_least "$d/s7-b.jsonl" 5
	check "s7: 5 items to each buyer before the restart" $? "$d/s7-a.jsonl" "$d/s7-b.jsonl" \
	    "$GLOG"
	broker_stop "$BROKER_PID"
	echo "--- restart" >>"$d/s7-mq.log"
	broker_run s7-mq "$MQ"
	check "s7: mosquitto restarted on the same port" $? "$d/s7-mq.log"
	# Paho waits at least 1 s before it reconnects: time enough to leave a
	# retained value for the gateway's new subscription to find.
	timeout $((10 * SLOW)) "$MOSQ_PUB" -h 127.0.0.1 -p "$MQ" -q 1 -r -t "$CO2" -m stale
	st=$?
	if [ $st -eq 0 ] && ! sed -n '/^--- restart$/,$p' "$d/s7-mq.log" | grep -q "^sdpp-gateway-s7 1 "
	then
		ok "s7: a stale retained value is left before the gateway is back"
	else
		notok "s7: a stale retained value is left before the gateway is back"
		diag "$d/s7-mq.log"
	fi
	wait_until 15 has_at_least "$GLOG" 'source=mqtt event=connected' 2 &&
	    wait_until 10 has_at_least "$d/s7-mq.log" "^sdpp-gateway-s7 1 $CO2\$" 2 &&
	    wait_until 10 has_at_least "$d/s7-mq.log" "^sdpp-gateway-s7 1 #\$" 2
	check "s7: the gateway reconnects and subscribes again" $? "$GLOG" "$d/s7-mq.log"
	pub_seq "$CO2" r 6 15
	wait_exit $pa 15
	check "s7: buyer A (co2, count 20) exits 0" $WAIT_RC "$d/s7-a.err" "$GLOG"
	wait_exit $pb 15
	check "s7: buyer B (all = #, count 20) exits 0" $WAIT_RC "$d/s7-b.err" "$GLOG"
	for b in a b; do
		first=$(check_items "$d/s7-$b.jsonl" r "$CO2" 20 2>"$d/s7-check") && [ "$first" = 1 ]
		check "s7: buyer $b got the 20 published, seq 1..20, nothing retained or of the gateway's own" \
		    $? "$d/s7-check" "$d/s7-$b.jsonl"
	done
	teardown_pair
}

# invoices ORDER_ID: "unit_price/amount ..." of its invoices, in order.
invoices() {
	sql "SELECT group_concat(p, ' ') FROM (SELECT json_extract(body, '\$.detail.unit_price')
	    || '/' || amount AS p FROM records WHERE kind = 'invoice' AND order_id = '$1' ORDER BY id)"
}

# 8. SIGHUP: a new price applies to new orders only; a broken file is
# refused with FILE:LINE errors and the running configuration stays.
reload() {
	local oa ob line
	setup_pair s8 "payment_granularity = 4" "[product co2]
topic = $CO2
price = 3
unit = ppm" || return
	buy_start s8-a co2 8
	wait_orders 1
	oa=$(last_order)
	pub_seq "$CO2" a 1 4
	wait_until 10 has_at_least "$GLOG" 'event=payment invoice=1 ' 1
	check "s8: buyer A ordered at 3 and paid its first invoice" $? "$GLOG" "$d/s8-a.err"
	sed -i 's/^price = 3$/price = 5/' "$d/s8.ini"
	kill -HUP "$GW_PID"
	wait_until 10 has_at_least "$GLOG" 'event=reload result=ok' 1
	check "s8: SIGHUP reloads the new price" $? "$GLOG"
	timeout $((10 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" --json >"$d/s8-menu" 2>&1 &&
	    grep -q '"id":"co2","price":"5"' "$d/s8-menu"
	check "s8: sdpp menu shows price 5" $? "$d/s8-menu"
	pub_seq "$CO2" a 5 4
	wait_exit "$BUY_PID" 10
	check "s8: buyer A finishes its order of 8" $WAIT_RC "$d/s8-a.err" "$GLOG"
	grep -q '^settled: 8 items received, 24 nanos due, 24 nanos paid' "$d/s8-a.err" &&
	    [ "$(invoices "$oa")" = "3/24" ]
	rc=$? # the message's $(...) would reset $?
	# Held until the exit, A's two invoices are one record (1..2).
	check "s8: A kept price 3: its invoices (one record) are 3/24 (got $(invoices "$oa"))" $rc "$d/s8-a.err"
	buy_start s8-b co2 4
	wait_orders 2
	ob=$(last_order)
	pub_seq "$CO2" b 1 4
	wait_exit "$BUY_PID" 10
	check "s8: buyer B, after the reload, buys 4" $WAIT_RC "$d/s8-b.err" "$GLOG"
	grep -q '^settled: 4 items received, 20 nanos due, 20 nanos paid' "$d/s8-b.err" &&
	    [ "$(invoices "$ob")" = "5/20" ] &&
	    [ "$(sql "SELECT price FROM orders WHERE order_id = '$ob'")" = 5 ]
	rc=$? # the message's $(...) would reset $?
	check "s8: B ordered and paid at 5 (invoices $(invoices "$ob"))" $rc "$d/s8-b.err"
	# A broken file: every error as FILE:LINE, and the old prices stay.
	sed -i -e 's/^price = 5$/price = abc/' -e 's/^unit = ppm$/unit = ppm\nbogus = 1/' "$d/s8.ini"
	line=$(grep -n '^price = abc$' "$d/s8.ini" | cut -d: -f1)
	kill -HUP "$GW_PID"
	wait_until 10 has_at_least "$GLOG" 'keeping the running configuration' 1 &&
	    grep -qF "$d/s8.ini:$line: price is not" "$GLOG" &&
	    grep -qF "$d/s8.ini:$((line + 2)): unknown key \`bogus' in [product co2]" "$GLOG"
	check "s8: a broken file is refused with FILE:LINE errors, keeping the running configuration" \
	    $? "$GLOG"
	timeout $((10 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" --json >"$d/s8-menu" 2>&1 &&
	    grep -q '"id":"co2","price":"5"' "$d/s8-menu"
	check "s8: after the refused reload the menu still says 5" $? "$d/s8-menu"
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/s8-verify" 2>&1
	check "s8: ledger verify" $? "$d/s8-verify"
	teardown_pair
}

# 9. SIGTERM with an open order of 6 items at K = 4: a final invoice for
# 5..6, paid by the buyer, then shutting_down; the gateway exits 0 within
# its stop timeout (10 s) and the ledger holds it all.
sigterm() {
	local t0 ms
	setup_pair s9 "payment_granularity = 4" || return
	buy_start s9-buy co2 0
	wait_orders 1
	pub_seq "$CO2" z 1 6
	wait_until 10 lines_at_least "$d/s9-buy.jsonl" 6 &&
	    wait_until 10 has_at_least "$GLOG" 'event=payment invoice=1 ' 1
	check "s9: 6 items delivered, invoice 1 paid" $? "$d/s9-buy.jsonl" "$GLOG"
	gw_sane
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_exit "$GW_PID" 15
	ms=$(($(now_ms) - t0))
	check "s9: the gateway exits 0 on SIGTERM (status $WAIT_RC)" $WAIT_RC "$GLOG"
	[ $ms -lt 10000 ]
	check "s9: within its 10 s stop timeout ($ms ms)" $?
	wait_exit "$BUY_PID" 15
	grep -q 'shutting_down' "$d/s9-buy.err"
	check "s9: sdpp buy reports the seller's shutting_down (status $WAIT_RC)" $? "$d/s9-buy.err"
	grep -q 'event=invoice invoice=2 items=5-6 amount=6 total_due=18' "$GLOG" &&
	    grep -q 'event=payment invoice=2 total=18 ' "$GLOG"
	check "s9: a final invoice for items 5..6, paid" $? "$GLOG"
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/s9-verify" 2>&1
	check "s9: ledger verify" $? "$d/s9-verify"
	# Held until the close: invoices 1 (1-4) and 2 (5-6) as one record,
	# the latest payment (18, which covers both).
	[ "$(sql "SELECT group_concat(first_seq || '-' || last_seq, ' ') FROM invoices")" = "1-6" ] &&
	    [ "$(sql "SELECT json_extract(body, '\$.detail.first_invoice') || '..' || invoice FROM records WHERE kind = 'invoice'")" = 1..2 ] &&
	    [ "$(sql "SELECT group_concat(total, ' ') FROM payments")" = "18" ] &&
	    [ "$(sql "SELECT json_extract(body, '\$.detail.reason') FROM records WHERE kind = 'close'")" = shutting_down ]
	check "s9: the ledger has invoices 1-4 and 5-6 (one record), payment 18, a close for shutting_down" \
	    $?
	"$SDPP" ledger show "$DB" --json >"$d/s9-show" 2>&1
	grep -q '"paid":"18","owed":"0"' "$d/s9-show"
	check "s9: owed 0" $? "$d/s9-show"
	sanitizer_clean "$GLOG" "$d/s9-buy.err"
	check "s9: no sanitizer report" $? "$GLOG"
	broker_stop "$BROKER_PID"
}

# 9b. SIGTERM with a buyer that never pays: the final invoice is sent, the
# buyer gets the 5 s shutdown grace, then shutting_down; the gateway still
# exits 0 within its stop timeout.
sigterm_unpaid() {
	local t0 ms hp
	setup_pair s9b "payment_granularity = 4
max_unpaid = 8" || return
	"$TOOLS/tool_hostile" -t $((30 * SLOW)) -e shutting_down "127.0.0.1:$GP" "$PUB" \
	    no-pay co2 0 >"$d/s9b-out" 2>"$d/s9b-err" &
	hp=$!
	track $hp
	wait_orders 1
	pub_seq "$CO2" y 1 6
	wait_until 10 has_at_least "$d/s9b-err" '^tool_hostile: item 6$' 1 &&
	    wait_until 10 has_at_least "$GLOG" 'event=invoice invoice=1 ' 1
	check "s9b: 6 items delivered, invoice 1 unpaid" $? "$GLOG"
	t0=$(now_ms)
	kill -TERM "$GW_PID"
	wait_exit "$GW_PID" 15
	ms=$(($(now_ms) - t0))
	[ "$WAIT_RC" -eq 0 ] && [ $ms -ge 4500 ] && [ $ms -lt 10000 ]
	check "s9b: the gateway waits out the 5 s grace and exits 0 ($ms ms, status $WAIT_RC)" $? \
	    "$GLOG"
	wait_exit $hp 10
	check "s9b: the buyer got shutting_down ($(cat "$d/s9b-out"))" $WAIT_RC "$d/s9b-err"
	grep -q 'event=invoice invoice=2 items=5-6 amount=6 total_due=18' "$GLOG" &&
	    [ "$(sql "SELECT json_extract(body, '\$.detail.reason') FROM records WHERE kind = 'close'")" = shutting_down ]
	check "s9b: the final invoice for 5..6 and the close are recorded" $? "$GLOG"
	"$SDPP" ledger show "$DB" --json >"$d/s9b-show" 2>&1
	grep -q '"invoiced":"18","paid":"0","owed":"18"' "$d/s9b-show"
	check "s9b: the ledger shows 18 owed" $? "$d/s9b-show"
	sanitizer_clean "$GLOG"
	check "s9b: no sanitizer report" $? "$GLOG"
	broker_stop "$BROKER_PID"
}

# 10. A buyer ends its order itself. sdpp buy's budget (5: one item at 3)
# stops it cleanly with an exit, so it closes settled; a buyer that ends it
# with an error (tool_hostile: over_budget) has the close record and the log
# say the buyer did (buyer_over_budget), not internal, which is for the
# gateway's own faults.
buyer_ends() {
	setup_pair s10 "payment_granularity = 4" || return
	buy_start s10-buy co2 0 --budget 5
	wait_orders 1
	pub_seq building/7/floor2/co2 v 1 8 50 >/dev/null 2>&1
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq 7 ] && grep -q 'budget of 5 nanos is reached' "$d/s10-buy.err"
	check "s10: sdpp buy's budget of 5 ends the order after one item, exit 7 (status $WAIT_RC)" $? \
	    "$d/s10-buy.err"
	wait_until 10 closed_orders_at_least 1
	[ "$(sql "SELECT json_extract(body, '\$.detail.reason') FROM records WHERE kind = 'close'")" = settled ]
	check "s10: that order closes settled" $? "$GLOG"
	"$TOOLS/tool_hostile" "127.0.0.1:$GP" "$PUB" buyer-error co2 over_budget >"$d/s10-h.out" 2>&1
	check "s10: a buyer's own over_budget error: the seller closes" $? "$d/s10-h.out"
	wait_until 10 closed_orders_at_least 2
	[ "$(sql "SELECT json_extract(body, '\$.detail.reason') FROM records WHERE kind = 'close' ORDER BY id DESC LIMIT 1")" = buyer_over_budget ] &&
	    grep -q 'event=close reason=buyer_over_budget' "$GLOG"
	check "s10: the close says who ended it: buyer_over_budget, in the ledger and the log" $? \
	    "$GLOG"
	teardown_pair
}

# 11. Each record's log line names that record: the invoice's line its
# invoice record, not the receipts record written just before it (samples
# come slowly, so ACKs are held when each invoice is built). checkpoint = 0:
# every record joins the log at once (held ones are logged record=held).
log_names() {
	setup_pair s11 "payment_granularity = 4
[ledger]
checkpoint = 0" || return
	buy_start s11-a co2 8
	wait_orders 1
	pub_seq "$CO2" v 1 8 10 >/dev/null 2>&1
	wait_exit "$BUY_PID" 20
	check "s11: the buyer settles" $WAIT_RC "$d/s11-a.err"
	wait_until 10 closed_orders_at_least 1
	grep -oE 'event=(order|invoice|payment|exit|close) .*record=[0-9]+$' "$GLOG" |
	    sed -E 's/^event=([a-z]+) .*record=([0-9]+)$/\1 \2/' >"$d/s11-named"
	while read -r kind id; do
		[ "$(sql "SELECT kind FROM records WHERE id = $id")" = "$kind" ] || echo "$kind $id"
	done <"$d/s11-named" >"$d/s11-misnamed"
	[ "$(wc -l <"$d/s11-named")" -eq 7 ] && ! [ -s "$d/s11-misnamed" ] &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'receipts'")" -ge 2 ]
	check "s11: order, 2 invoices, 2 payments, exit, close: each line's record=ID is that record" \
	    $? "$d/s11-misnamed" "$GLOG"
	teardown_pair
}

timed "7 broker restart" broker_restart
timed "8 reload" reload
timed "9 sigterm" sigterm
timed "9b sigterm, unpaid" sigterm_unpaid
timed "10 buyer ends" buyer_ends
timed "11 log names records" log_names
finish
