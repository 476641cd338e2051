#!/bin/bash
# sdpp ledger archive (TAP): closed orders' bodies move to an archive file beside a running gateway;
# the live ledger and the archive each verify, verify --archive ties them, the gateway sells on.
. "$(dirname "$0")/lib/gw.sh"

buy_ok() { # NAME COUNT: a purchase of COUNT co2 samples; TAP line
	buy_start "$1" co2 "$2"
	wait_orders "$3"
	pub_seq building/7/floor2/co2 "$1" 1 "$2" >/dev/null 2>&1
	wait_exit "$BUY_PID" 20
	check "a1: purchase $1 settles (status $WAIT_RC)" $WAIT_RC "$d/$1.err" "$GLOG"
}

archive() {
	local out rc
	setup_pair a1 "payment_granularity = 4" || return
	buy_ok a1-one 8 1
	buy_ok a1-two 4 2
	wait_until 10 closed_orders_at_least 2
	out=$("$SDPP" ledger archive "$DB" --older-than 0 -o "$d/arch-1.db" 2>&1)
	rc=$?
	echo "$out" >"$d/a1-archive.out"
	[ $rc -eq 0 ] && echo "$out" | grep -qE '^archived 2 orders \([0-9]+ records\) into '
	check "a1: sdpp ledger archive beside the running gateway: 2 orders" $? "$d/a1-archive.out"
	[ "$(sql "SELECT count(*) FROM records WHERE body = ''")" -eq \
	    "$(sql "SELECT count(*) FROM records")" ]
	check "a1: every body of the two closed orders left the live ledger" $?
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/a1-v1" 2>&1 &&
	    grep -q '^note: [0-9]* records are archived' "$d/a1-v1"
	check "a1: the live ledger verifies, its archived records noted" $? "$d/a1-v1"
	"$SDPP" ledger verify "$d/arch-1.db" --key "$PUB" >"$d/a1-v2" 2>&1
	check "a1: the archive verifies on its own with the seller's key" $? "$d/a1-v2"
	"$SDPP" ledger verify "$DB" --key "$PUB" --archive "$d/arch-1.db" >"$d/a1-v3" 2>&1 &&
	    grep -q "^archive $d/arch-1.db: [0-9]* archived records, each this log's" "$d/a1-v3"
	check "a1: verify --archive: the archive holds the live ledger's archived bodies" $? \
	    "$d/a1-v3"
	"$SDPP" ledger show "$d/arch-1.db" >"$d/a1-show" 2>&1 &&
	    [ "$(grep -c '^  state     closed' "$d/a1-show")" -eq 2 ]
	check "a1: ledger show on the archive shows both orders closed" $? "$d/a1-show"
	"$SDPP" ledger show "$DB" >"$d/a1-show-live" 2>&1 &&
	    [ "$(grep -c '^  state     archived' "$d/a1-show-live")" -eq 2 ]
	check "a1: ledger show on the live ledger says archived" $? "$d/a1-show-live"

	# The gateway goes on: a new order, then a restart (start check).
	buy_ok a1-three 4 3
	gw_stop
	check "a1: the gateway stops cleanly after an archive (status $WAIT_RC)" $WAIT_RC "$GLOG"
	gw_start a1
	check "a1: and starts again on the archived ledger" $? "$GLOG"
	"$SDPP" ledger archive "$DB" --older-than 0 -o "$d/arch-1.db" >"$d/a1-again" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q 'already exists' "$d/a1-again"
	check "a1: an archive file is never overwritten (status $rc)" $? "$d/a1-again"
	"$SDPP" ledger archive "$DB" --older-than 0 -o "$d/arch-2.db" >"$d/a1-a2" 2>&1 &&
	    grep -q '^archived 1 orders' "$d/a1-a2"
	check "a1: a second archive takes the third order" $? "$d/a1-a2"
	"$SDPP" ledger verify "$DB" --key "$PUB" --archive "$d/arch-1.db" >"$d/a1-v4" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q 'archived records are in none of the archives given' "$d/a1-v4"
	check "a1: verify --archive with one archive of two: the rest is missing (status $rc)" $? \
	    "$d/a1-v4"
	"$SDPP" ledger verify "$DB" --key "$PUB" --archive "$d/arch-1.db" \
	    --archive "$d/arch-2.db" >"$d/a1-v5" 2>&1
	check "a1: verify --archive with both archives" $? "$d/a1-v5"
	"$SDPP" ledger archive "$DB" --older-than 3x -o "$d/arch-3.db" >"$d/a1-bad" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q 'not an age' "$d/a1-bad" && ! [ -e "$d/arch-3.db" ]
	check "a1: --older-than 3x is a usage error (status $rc)" $? "$d/a1-bad"
	teardown_pair
}

timed a1 archive
finish
