#!/bin/bash
# End to end against hostile buyers (TAP): one that stops paying, and malformed or forged input,
# each answered with its `error' code; after each the gateway still sells to an honest buyer.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
H=$TOOLS/tool_hostile

# 5. A buyer that ACKs but never pays: at most max_unpaid items, a pause,
# then payment_timeout after payment_timeout; the ledger keeps the unpaid
# invoice and the debt.
no_pay() {
	local oid pp out
	setup_pair s5 "payment_granularity = 4
max_unpaid = 4
payment_timeout = 2s" || return
	"$H" -t $((20 * SLOW)) "127.0.0.1:$GP" "$PUB" no-pay co2 0 >"$d/s5-out" 2>"$d/s5-err" &
	local hp=$!
	track $hp
	wait_orders 1
	# A steady stream well past the pause: 40 samples in 2 s.
	pub_seq "$CO2" s5- 1 40 20 >"$d/s5-pub.err" 2>&1 &
	pp=$!
	track $pp
	wait_exit $hp 25
	check "s5: the non-paying buyer is cut off as the protocol says (tool_hostile no-pay)" \
	    $WAIT_RC "$d/s5-out" "$d/s5-err" "$GLOG"
	out=$(cat "$d/s5-out")
	if [[ $out =~ ^items\ ([0-9]+)\ invoices\ ([0-9]+)\ error\ payment_timeout$ ]] &&
	    [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le 8 ] &&
	    [ "${BASH_REMATCH[2]}" -ge 1 ]; then
		ok "s5: it got ${BASH_REMATCH[1]} items (at most 4 + 4), ${BASH_REMATCH[2]} invoice(s), then payment_timeout"
	else
		notok "s5: at most 4 + 4 items, an invoice, then payment_timeout: got \`$out'"
	fi
	grep -q 'event=paused reason=unpaid' "$GLOG"
	check "s5: the gateway logs the pause" $? "$GLOG"
	wait_exit $pp 10
	wait_until 10 closed_orders_at_least 1
	oid=$(last_order)
	"$SDPP" ledger show "$DB" --order "$oid" --json >"$d/s5-show" 2>&1
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'invoice'")" -ge 1 ] &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'payment'")" -eq 0 ] &&
	    grep -q '"invoices":[1-9][0-9]*,"invoiced":"[1-9][0-9]*","paid":"0","owed":"[1-9][0-9]*",' \
	    "$d/s5-show" &&
	    grep -q '"exited":false,"closed":true,"reason":"payment_timeout"' "$d/s5-show"
	check "s5: the ledger has the unpaid invoice, owed > 0, closed for payment_timeout" $? \
	    "$d/s5-show"
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/s5-verify" 2>&1
	check "s5: ledger verify" $? "$d/s5-verify"
	teardown_pair
}

# Orders recorded so far on the s6 gateway (honest and hostile buyers).
ORDERS=0

# still_serves LABEL: an honest buyer of 3 items is still served.
still_serves() {
	local i
	buy_start "s6-buy$ORDERS" co2 3
	if wait_orders $((ORDERS + 1)); then
		for i in 1 2 3; do
			pub "$CO2" "after $1 $i"
		done
	fi
	wait_exit "$BUY_PID" 10
	if [ "$WAIT_RC" -eq 0 ] && [ "$(wc -l <"$d/s6-buy$ORDERS.jsonl")" -eq 3 ]; then
		ok "s6: after $1, sdpp buy --count 3 still works"
	else
		notok "s6: after $1, sdpp buy --count 3 still works (status $WAIT_RC)"
		diag "$d/s6-buy$ORDERS.err" "$GLOG"
	fi
	ORDERS=$((ORDERS + 1))
}

# hostile LABEL WANT ARGS...: runs tool_hostile ARGS, which must print
# `error WANT' (the seller's signed error) and see the connection close.
hostile() {
	local label=$1 want=$2 out st
	shift 2
	"$H" -t $((10 * SLOW)) -e "$want" "127.0.0.1:$GP" "$PUB" "$@" >"$d/s6-h" 2>"$d/s6-herr"
	st=$?
	out=$(cat "$d/s6-h")
	if [ $st -eq 0 ] && [ "$out" = "error $want" ]; then
		ok "s6: $label: answered $want, then closed"
	else
		notok "s6: $label: answered $want, then closed (got \`$out')"
		diag "$d/s6-herr" "$GLOG"
	fi
}

# 6. Hostile input, each answered with its error code; the gateway keeps
# serving honest buyers after each.
hostile_inputs() {
	local orders victim
	# resume_timeout = 0: the saved order's hang-up ends it at once (its
	# close is what the replay must not touch); resume has its own suite.
	setup_pair s6 "payment_granularity = 4
handshake_timeout = 1s
resume_timeout = 0" || return
	hostile "malformed JSON" bad_json raw '{"message_type":"order","data":{'
	still_serves "malformed JSON"
	hostile "a duplicate member" bad_json raw '{"a":1,"a":2}'
	hostile "a fraction" bad_number raw '{"data":{"version":"sdpp/1"},"message_type":"hello","signature":"","verification":1.0}'
	hostile "an unknown message type" unknown_type raw '{"data":{},"message_type":"bye","signature":"","verification":""}'
	hostile "a second hello" unexpected_message raw '{"data":{"version":"sdpp/1"},"message_type":"hello","signature":"","verification":""}'
	# The cap before the order is 16 KiB: a line of exactly 16384 bytes is
	# still a frame (whitespace only: bad_json), one byte more is not.
	hostile "a 16384-byte line" bad_json raw "$(printf '%16384s' '')"
	hostile "a 16385-byte line" frame_too_large raw "$(printf '%16385s' '')"
	hostile "a 20 KiB line before the order" frame_too_large oversized
	still_serves "an oversized line"
	hostile "an order for an unknown product" unknown_product unknown-product
	still_serves "an unknown product"
	hostile "an order with a corrupted signature" bad_signature bad-signature co2
	still_serves "a bad signature"
	# The replayed order: first a real one, saved, then sent again.
	if "$H" -t $((10 * SLOW)) "127.0.0.1:$GP" "$PUB" save-order "$d/s6-order" co2 \
	    >"$d/s6-saved" 2>&1; then
		ok "s6: an order is placed and its frame saved"
	else
		notok "s6: an order is placed and its frame saved"
		diag "$d/s6-saved" "$GLOG"
	fi
	wait_until 10 closed_orders_at_least $((ORDERS + 1))
	victim=$(last_order)
	hostile "an order replayed on a new connection" bad_order_id replay-order "$d/s6-order"
	ORDERS=$((ORDERS + 1)) # the saved one
	orders=$(sql "SELECT count(*) FROM records WHERE kind = 'order'")
	[ "$orders" -eq $ORDERS ]
	check "s6: the replayed order is not recorded again ($orders orders)" $? "$GLOG"
	# The replay must not write under the victim's id: one close, its own.
	"$SDPP" ledger show "$DB" --order "$victim" --json >"$d/s6-victim" 2>&1
	[ "$(sql "SELECT count(*) FROM records WHERE order_id = '$victim'")" -eq 2 ] &&
	    grep -q '"closed":true,"reason":"disconnected"' "$d/s6-victim"
	check "s6: the victim's order keeps its one close record (disconnected)" $? "$d/s6-victim"
	"$SDPP" ledger show "$DB" --order "$victim" >"$d/s6-victim.txt" 2>&1
	grep -q '^  invoiced  nothing$' "$d/s6-victim.txt"
	check "s6: ledger show says an order without invoices was invoiced nothing" $? \
	    "$d/s6-victim.txt"
	still_serves "a replayed order"
	hostile "an ACK naming another order of the same buyer" bad_order_id foreign-ack co2
	ORDERS=$((ORDERS + 2)) # its two orders
	still_serves "a foreign ACK"
	local t0 t1
	t0=$(now_ms)
	hostile "a client that sends nothing (handshake_timeout = 1s)" handshake_timeout silent
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -le $((3000 * SLOW)) ]
	check "s6: handshake_timeout came after about 1 s ($((t1 - t0)) ms)" $?
	still_serves "a silent client"
	sanitizer_clean "$d"/s6-*.err
	check "s6: no sanitizer report from the buyers" $?
	teardown_pair
}

timed "5 no-pay" no_pay
timed "6 hostile inputs" hostile_inputs
finish
