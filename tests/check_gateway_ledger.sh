#!/bin/bash
# The daemon and its ledger as evidence (TAP): a forged ledger is refused at start and named, an
# unwritable ledger is refused before any key is made (also by -t), a crash mid-order is closed.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2

# gw_refused NAME: runs the gateway on $d/NAME.ini in the foreground; it
# must exit non-zero within 10 s. Its log goes to $d/NAME.log.
gw_refused() {
	"$GATEWAY" -c "$d/$1.ini" 2>>"$d/$1.log" &
	local p=$!
	track $p
	wait_exit $p 10
	[ "$WAIT_RC" -ne 0 ] && [ "$WAIT_RC" -ne 124 ]
}

# after_marker MARKER PATTERN: PATTERN in $GLOG after the line MARKER
# (gw_start may return on an earlier run's lines: poll with wait_until).
after_marker() { sed -n "/^$1\$/,\$p" "$GLOG" | grep -qE -- "$2"; }

# 1. A payment forged in a stopped gateway's ledger (body and amount
# changed, its leaf hash recomputed, every tree head that covers it
# deleted): the gateway refuses to start, names the record, signs nothing.
forged() {
	local id body leaf heads
	setup_pair l1 "payment_granularity = 4" || return
	buy_start l1-buy co2 8
	wait_orders 1
	pub_seq "$CO2" f 1 8
	wait_exit "$BUY_PID" 15
	check "l1: the buyer bought 8 items (status $WAIT_RC)" $WAIT_RC "$d/l1-buy.err" "$GLOG"
	teardown_pair
	id=$(sql "SELECT id FROM records WHERE kind = 'payment' AND invoice = 2")
	body=$(sql "SELECT body FROM records WHERE id = $id")
	body=${body/\"total\":\"24\"/\"total\":\"94\"}
	leaf=$({ printf '\0'; printf '%s' "$body"; } | sha256sum | cut -c1-64)
	sql "UPDATE records SET body = '$body', amount = '94', leaf_hash = X'$leaf' WHERE id = $id;
	    DELETE FROM tree_heads WHERE size >= $id" &&
	    [ "$(sql "SELECT amount FROM records WHERE id = $id")" = 94 ]
	check "l1: payment record $id forged to 94 with its leaf hash, its tree heads deleted" $?
	heads=$(sql "SELECT count(*) FROM tree_heads")
	echo "--- restart" >>"$GLOG"
	broker_run l1-mq "$MQ"
	gw_refused l1
	check "l1: the gateway refuses to start on the forged ledger (status $WAIT_RC)" $? "$GLOG"
	sed -n '/^--- restart$/,$p' "$GLOG" | grep -qE "records? $id[-:].*|does not match its signed tree head.*records ([0-9]+-)?$id[-; ]"
	check "l1: the refusal names record $id" $? "$GLOG"
	[ "$(sql "SELECT count(*) FROM tree_heads")" = "$heads" ]
	check "l1: no tree head was signed over the forgery" $?
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/l1-verify" 2>&1
	[ $? -eq 1 ]
	check "l1: sdpp ledger verify fails too" $? "$d/l1-verify"
	broker_stop "$BROKER_PID"
}

# 2. A ledger in a directory that does not exist, and a read-only one:
# refused by -t and at start, exit non-zero, no key file created.
unwritable() {
	local ports name what
	ports=$("$TOOLS/tool_freeport" 2) || { notok "l2: free ports"; return; }
	for name in l2a l2b; do
		gw_config "$name" "$(echo "$ports" | sed -n 1p)" "$(echo "$ports" | sed -n 2p)" ""
	done
	sed -i 's|^path = l2a.db|path = nodir/l2a.db|' "$d/l2a.ini"
	: >"$d/l2b.db"
	chmod 0444 "$d/l2b.db"
	for name in l2a l2b; do
		[ $name = l2a ] && what="does not exist" || what="read-only (mode 0444)"
		"$GATEWAY" -t -c "$d/$name.ini" >"$d/$name-t.out" 2>"$d/$name-t.err"
		[ $? -eq 1 ] && grep -qF "$what" "$d/$name-t.err" && ! grep -q 'configuration OK' "$d/$name-t.out"
		check "$name: -t refuses the ledger: $what" $? "$d/$name-t.out" "$d/$name-t.err"
		gw_refused $name && grep -qF "$what" "$d/$name.log"
		check "$name: the gateway refuses to start: $what (status $WAIT_RC)" $? "$d/$name.log"
		[ ! -e "$d/$name.key" ] && [ ! -e "$d/nodir" ]
		check "$name: no key file was created" $?
	done
	[ "$(stat -c %s "$d/l2b.db")" = 0 ]
	check "l2b: the read-only ledger was not written" $?
}

# 3. kill -9 mid-order, then restart: the order gets a close record with
# reason interrupted and what the ledger proves; the log verifies.
killed() {
	local oid
	setup_pair l3 "payment_granularity = 4" || return
	# --no-resume: the buyer leaves with the killed gateway (it would try
	# to resume for a minute); resume has its own suites.
	buy_start l3-buy co2 0 --no-resume
	wait_orders 1
	pub_seq "$CO2" k 1 6
	wait_until 10 lines_at_least "$d/l3-buy.jsonl" 6 &&
	    wait_until 10 has_at_least "$GLOG" 'event=payment invoice=1 ' 1
	check "l3: 6 items delivered, invoice 1 paid" $? "$d/l3-buy.jsonl" "$GLOG"
	oid=$(last_order)
	kill -KILL "$GW_PID"
	wait_exit "$GW_PID" 5 2>/dev/null
	wait_exit "$BUY_PID" 15
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'close'")" = 0 ]
	check "l3: killed with the order open (no close record)" $?
	echo "--- restart" >>"$GLOG"
	gw_start l3
	check "l3: the gateway starts again" $? "$GLOG"
	wait_until 10 after_marker '--- restart' 'event=ledger .* interrupted=1'
	check "l3: it logs one interrupted order" $? "$GLOG"
	[ "$(sql "SELECT json_extract(body, '\$.detail.reason') FROM records
	    WHERE kind = 'close' AND order_id = '$oid'")" = interrupted ]
	check "l3: the order has a close record with reason interrupted" $?
	[ "$(sql "SELECT max(size) FROM tree_heads")" = "$(sql "SELECT max(id) FROM records")" ]
	check "l3: a signed tree head covers the close record" $?
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/l3-verify" 2>&1
	check "l3: sdpp ledger verify passes" $? "$d/l3-verify"
	"$SDPP" ledger show "$DB" --json >"$d/l3-show" 2>&1
	grep -q '"reason":"interrupted"' "$d/l3-show" && grep -q '"paid":"12","owed":"0"' "$d/l3-show"
	check "l3: ledger show: closed as interrupted, 12 paid, nothing owed" $? "$d/l3-show"
	gw_stop
	check "l3: it stops cleanly (status $WAIT_RC)" $WAIT_RC "$GLOG"
	echo "--- second restart" >>"$GLOG"
	gw_start l3
	wait_until 10 after_marker '--- second restart' 'event=ledger .* interrupted=0'
	check "l3: a second restart closes nothing more" $? "$GLOG"
	teardown_pair
}

timed "1 forged" forged
timed "2 unwritable" unwritable
timed "3 killed" killed
finish
