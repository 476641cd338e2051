#!/bin/bash
# The ledger fails closed (TAP): writes start failing under a streaming buyer (RLIMIT_FSIZE set
# on the running daemon, as a full disk would), and no credit, item or log line goes beyond what
# the ledger holds; new orders are refused; once writes work again the gateway sells again.
. "$(dirname "$0")/lib/gw.sh"

PRLIMIT=$(command -v prlimit || echo /usr/bin/prlimit)


# size FILE: its size in bytes (0 if absent).
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Counts in the ledger, and in the gateway's log.
in_ledger() { sql "SELECT count(*) FROM records WHERE kind = '$1'"; }
# Lines of records made durable (a lost one is logged as record_lost ... what=event=...).
in_log() { count_in "$GLOG" " [0-9]+ event=$1 .*record=([0-9]+|held)$"; }
# The highest NAME=N of the durable event=KIND lines (0 if none).
log_max() {
	grep -E " [0-9]+ event=$1 .*record=([0-9]+|held)$" "$GLOG" |
	    sed -nE "s/.* $2=([0-9]+).*/\1/p" | sort -n | tail -n 1 | grep . || echo 0
}
# The highest SQL value over the log's records and the held ones of the
# first order (held records are durable too: they join the log later).
ledger_max() { # COLUMN KIND
	sql "SELECT coalesce(max(v), 0) FROM (
	    SELECT CAST($1 AS INTEGER) AS v FROM records WHERE kind = '$2' AND order_id = (SELECT order_id FROM records WHERE kind = 'order' ORDER BY id LIMIT 1)
	    UNION ALL SELECT CAST($1 AS INTEGER) FROM held WHERE kind = '$2' AND order_id = (SELECT order_id FROM records WHERE kind = 'order' ORDER BY id LIMIT 1))"
}

# full NAME CHECKPOINT: the run, with [ledger] checkpoint = CHECKPOINT
# (0: every record joins the log at once; 60s: invoices, payments and
# receipts are held, the default).
full() {
	local limit paid items price=3 unpaid=8 mport
	G=$1
	local ports
	ports=$("$TOOLS/tool_freeport" 3) || return
	MQ=$(echo "$ports" | sed -n 1p)
	GP=$(echo "$ports" | sed -n 2p)
	mport=$(echo "$ports" | sed -n 3p)
	GLOG=$d/$G.log
	DB=$d/$G.db
	PUB=$d/$G.key.pub
	gw_config "$G" "$MQ" "$GP" "payment_granularity = 4
max_unpaid = $unpaid
metrics_listen = 127.0.0.1:$mport
[ledger]
checkpoint = $2"
	broker_start "$G-mq" "$MQ" || return
	# The log goes through a pipe: the file-size limit below must stop the
	# ledger's writes, not the log's.
	"$GATEWAY" -c "$d/$G.ini" -d 2> >(cat >>"$GLOG") &
	GW_PID=$!
	track $GW_PID
	wait_until 10 has_at_least "$GLOG" 'source=mqtt event=connected' 1 &&
	    wait_until 10 has_at_least "$d/$G-mq.log" "^sdpp-gateway-$G 1 " 2
	check "$G: broker on :$MQ and gateway on :$GP started" $? "$GLOG"

	# A buyer streams; a publisher keeps the samples coming throughout.
	buy_start $G-a co2 0
	wait_orders 1
	pub_seq building/7/floor2/co2 v 1 100000 200 >/dev/null 2>&1 &
	track $!
	wait_until 20 lines_at_least "$d/$G-a.jsonl" 20
	check "$G: the buyer streams (20 items)" $? "$d/$G-a.err" "$GLOG"

	# The disk fills: no file of the daemon's may grow 16 KiB past the
	# largest it has now.
	limit=$(($(size "$DB") > $(size "$DB-wal") ? $(size "$DB") : $(size "$DB-wal")))
	limit=$((limit + 16384))
	# The soft limit only: raising a hard one back needs CAP_SYS_RESOURCE.
	"$PRLIMIT" --pid "$GW_PID" --fsize="$limit:unlimited"
	check "$G: the ledger's files may no longer grow past $limit bytes" $?
	wait_exit "$BUY_PID" 30
	[ "$WAIT_RC" -ne 0 ] && grep -q 'could not be recorded' "$d/$G-a.err"
	check "$G: the streaming buyer is stopped with a signed error that says why" $? \
	    "$d/$G-a.err" "$GLOG"
	wait_until 10 has_at_least "$GLOG" 'event=ledger_commit .*error=' 1
	check "$G: the gateway logs the failed commit" $? "$GLOG"

	# While it fails: a new order is refused and never logged as taken.
	buy_start $G-b co2 4
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -ne 0 ] && grep -qE 'order could not be recorded|internal' "$d/$G-b.err"
	check "$G: a new order is refused while the ledger cannot be written" $? "$d/$G-b.err"
	http_get "$mport" /health >"$d/$G-health"
	http_get "$mport" /metrics >"$d/$G-metrics"
	grep -q 'not ready: ledger not writable' "$d/$G-health" &&
	    grep -q '^sdpp_ledger_writable 0$' "$d/$G-metrics"
	check "$G: /health says not ready (ledger not writable), sdpp_ledger_writable 0" $? \
	    "$d/$G-health"

	# Space again: the gateway sells again by itself.
	"$PRLIMIT" --pid "$GW_PID" --fsize=unlimited:unlimited
	check "$G: space again (the limit lifted)" $?
	buy_start $G-c co2 4
	wait_exit "$BUY_PID" 30
	check "$G: once writes work again a new order is served and settled" $WAIT_RC \
	    "$d/$G-c.err" "$GLOG"

	# What was sold, paid and logged agrees with what the ledger holds.
	paid=$(ledger_max amount payment)
	items=$(wc -l <"$d/$G-a.jsonl")
	[ "$items" -le $((paid / price + unpaid)) ]
	check "$G: items delivered ($items) within the durable credit: $paid paid / $price + $unpaid unpaid" \
	    $? "$d/$G-a.jsonl"
	if [ "$2" = 0 ]; then
		[ "$(in_log order)" -eq "$(in_ledger order)" ] &&
		    [ "$(in_log payment)" -eq "$(in_ledger payment)" ] &&
		    [ "$(in_log invoice)" -eq "$(in_ledger invoice)" ]
		rc=$? # the message's $(...) would reset $?
		check "$G: the log tells of exactly the orders ($(in_log order)), payments ($(in_log payment)) and invoices ($(in_log invoice)) the ledger holds" \
		    $rc "$GLOG"
	else
		# Held: the ledger keeps the latest payment and invoice of
		# the order; the log's last durable lines name the same.
		[ "$(in_log order)" -eq "$(in_ledger order)" ] &&
		    [ "$(log_max payment total)" -eq "$(ledger_max amount payment)" ] &&
		    [ "$(log_max invoice invoice)" -eq "$(ledger_max invoice invoice)" ] &&
		    [ "$(ledger_max invoice invoice)" -gt 0 ]
		rc=$?
		check "$G: the log's orders ($(in_log order)), last payment total ($(log_max payment total)) and last invoice ($(log_max invoice invoice)) are what the ledger holds ($(ledger_max amount payment), $(ledger_max invoice invoice))" \
		    $rc "$GLOG"
	fi
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/$G-verify" 2>&1
	check "$G: the ledger verifies" $? "$d/$G-verify"
	gw_sane
	gw_stop
	check "$G: the gateway stops cleanly (status $WAIT_RC)" $WAIT_RC "$GLOG"
	broker_stop "$BROKER_PID"
}

if ! [ -x "$PRLIMIT" ]; then
	ok "# SKIP prlimit (util-linux) is absent"
	finish
	exit
fi
full_now() { full f1 0; }
full_held() { full f2 60s; }
timed f1 full_now
timed f2 full_held
finish
