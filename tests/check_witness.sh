#!/bin/bash
# Witnesses (TAP): `sdpp buy --receipt' keeps the seller's signed tree head, and `sdpp ledger verify
# --witness' holds the ledger to it: it passes on the real log, and names the witness when the log
# was truncated below it or forked (a new log under the same key: self-consistent, but not that one).
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2

# buy_receipt OUT COUNT RECEIPT N: the Nth purchase from this ledger, of
# COUNT co2 items, with --receipt.
buy_receipt() {
	buy_start "$1" co2 "$2" --receipt "$3"
	wait_orders "$4"
	pub_seq "$CO2" "$1" 1 "$2"
	wait_exit "$BUY_PID" 15
}

witness() {
	local size exit_id keep
	setup_pair w1 "payment_granularity = 4" || return
	buy_receipt w1-a 8 "$d/r1.json" 1
	check "w1: sdpp buy --receipt exits 0 (status $WAIT_RC)" $WAIT_RC "$d/w1-a.err" "$GLOG"
	[ -s "$d/r1.json" ] && grep -q '"version":"sdpp-receipt/1"' "$d/r1.json" &&
	    grep -q '"tree_head":{"root":' "$d/r1.json" && grep -q "^receipt: $d/r1.json" "$d/w1-a.err"
	check "w1: the receipt holds the signed statement and its tree head" $? "$d/r1.json" "$d/w1-a.err"
	size=$(sed 's/.*"size":\([0-9]*\).*/\1/' "$d/r1.json")
	exit_id=$(sed 's/.*"record":"ledger:\([0-9]*\)".*/\1/' "$d/r1.json")
	[ "$(sql "SELECT kind FROM records WHERE id = $exit_id")" = exit ] && [ "$size" -ge "$exit_id" ]
	check "w1: its tree head ($size records) covers the exit record $exit_id" $? "$d/r1.json"
	buy_receipt w1-b 4 "$d/r2.json" 2
	check "w1: a second purchase with --receipt (status $WAIT_RC)" $WAIT_RC "$d/w1-b.err"
	teardown_pair

	"$SDPP" ledger verify "$DB" --key "$PUB" --witness "$d/r1.json" --witness "$d/r2.json" \
	    >"$d/w1-verify" 2>&1
	[ $? -eq 0 ] && [ "$(grep -c '^witness .*: ok: the log extends' "$d/w1-verify")" = 2 ]
	check "w1: verify --witness passes for both receipts" $? "$d/w1-verify"

	# Truncation: the last records and their tree heads deleted (a stopped
	# gateway's copy). The log is consistent in itself; the witness is not.
	keep=$(($(sed 's/.*"size":\([0-9]*\).*/\1/' "$d/r2.json") - 2))
	sqlite3 "$DB" ".backup $d/trunc.db"
	sqlite3 "$d/trunc.db" "DELETE FROM records WHERE id > $keep; DELETE FROM tree_heads WHERE size > $keep;
	    DELETE FROM acks WHERE record > $keep; DELETE FROM meta WHERE key = 'head'"
	"$SDPP" ledger verify "$d/trunc.db" --key "$PUB" --witness "$d/r1.json" \
	    --witness "$d/r2.json" >"$d/w1-trunc" 2>&1
	[ $? -eq 1 ] && grep -q "^witness $d/r2.json: truncated: the seller signed a log of" "$d/w1-trunc" &&
	    grep -q "^witness $d/r1.json: ok" "$d/w1-trunc"
	check "w1: a log truncated to $keep records fails naming the witness r2.json (r1.json still ok)" \
	    $? "$d/w1-trunc"

	# An edited receipt is refused, not believed.
	sed 's/"size":\([0-9]*\)/"size":1\1/' "$d/r1.json" >"$d/r1-edited.json"
	"$SDPP" ledger verify "$DB" --key "$PUB" --witness "$d/r1-edited.json" >"$d/w1-edited" 2>&1
	[ $? -eq 1 ] && grep -q "witness $d/r1-edited.json: not a usable receipt: the receipt's fields do not match its signed statement" "$d/w1-edited"
	check "w1: an edited receipt is refused" $? "$d/w1-edited"
}

# A fork: the same seller key starts a fresh ledger and sells the same
# purchases again. That log verifies on its own, but its first records are
# not the ones the buyers' tree heads signed.
fork() {
	local db1=$DB
	setup_pair w2 "payment_granularity = 4" || return
	gw_stop
	sed -i 's|^key = w2.key|key = w1.key|' "$d/w2.ini"
	rm -f "$d/w2.db" "$d/w2.db-wal" "$d/w2.db-shm"
	gw_start w2
	check "w2: the gateway restarts on a fresh ledger with w1's key" $? "$GLOG"
	PUB=$d/w1.key.pub
	buy_receipt w2-a 8 "$d/f1.json" 1
	check "w2: a purchase from it (status $WAIT_RC)" $WAIT_RC "$d/w2-a.err"
	buy_receipt w2-b 4 "$d/f2.json" 2
	check "w2: a second one (status $WAIT_RC)" $WAIT_RC "$d/w2-b.err"
	teardown_pair
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/w2-verify" 2>&1
	check "w2: the forked log verifies on its own" $? "$d/w2-verify"
	"$SDPP" ledger verify "$DB" --key "$PUB" --witness "$d/r1.json" --witness "$d/f1.json" \
	    >"$d/w2-fork" 2>&1
	[ $? -eq 1 ] && grep -q "^witness $d/r1.json: forked: the log's first" "$d/w2-fork" &&
	    grep -q "^witness $d/f1.json: ok" "$d/w2-fork"
	check "w2: verify --witness reports the fork naming r1.json" $? "$d/w2-fork"
	"$SDPP" ledger verify "$db1" --key "$PUB" --witness "$d/f1.json" >"$d/w1-fork" 2>&1
	[ $? -eq 1 ] && grep -q "^witness $d/f1.json: forked" "$d/w1-fork"
	check "w2: and the original log is a fork to the new log's witness" $? "$d/w1-fork"
}

timed "1 witness" witness
timed "2 fork" fork
finish
