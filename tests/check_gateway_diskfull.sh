#!/bin/bash
# The ledger fails closed (TAP): writes start failing under a streaming buyer (RLIMIT_FSIZE set
# on the running daemon, as a full disk would), and no credit, item or log line goes beyond what
# the ledger holds; new orders are refused; once writes work again the gateway sells again.
. "$(dirname "$0")/lib/gw.sh"

PRLIMIT=$(command -v prlimit || echo /usr/bin/prlimit)

# http_get PORT PATH: the body of a plain HTTP/1.0 GET on 127.0.0.1.
http_get() {
	local body
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
	body=$(timeout $((10 * SLOW)) cat <&3)
	exec 3<&-
	printf '%s\n' "$body" | sed '1,/^\r*$/d'
}

# size FILE: its size in bytes (0 if absent).
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Counts in the ledger, and in the gateway's log.
in_ledger() { sql "SELECT count(*) FROM records WHERE kind = '$1'"; }
# Lines of records made durable (a lost one is logged as record_lost ... what=event=...).
in_log() { count_in "$GLOG" " [0-9]+ event=$1 .*record=[0-9]+$"; }

full() {
	local limit paid items price=3 unpaid=8 mport
	G=f1
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
metrics_listen = 127.0.0.1:$mport"
	broker_start "$G-mq" "$MQ" || return
	# The log goes through a pipe: the file-size limit below must stop the
	# ledger's writes, not the log's.
	"$GATEWAY" -c "$d/$G.ini" -d 2> >(cat >>"$GLOG") &
	GW_PID=$!
	track $GW_PID
	wait_until 10 has_at_least "$GLOG" 'source=mqtt event=connected' 1 &&
	    wait_until 10 has_at_least "$d/$G-mq.log" "^sdpp-gateway-$G 1 " 2
	check "f1: broker on :$MQ and gateway on :$GP started" $? "$GLOG"

	# A buyer streams; a publisher keeps the samples coming throughout.
	buy_start f1-a co2 0
	wait_orders 1
	pub_seq building/7/floor2/co2 v 1 100000 200 >/dev/null 2>&1 &
	track $!
	wait_until 20 lines_at_least "$d/f1-a.jsonl" 20
	check "f1: the buyer streams (20 items)" $? "$d/f1-a.err" "$GLOG"

	# The disk fills: no file of the daemon's may grow 16 KiB past the
	# largest it has now.
	limit=$(($(size "$DB") > $(size "$DB-wal") ? $(size "$DB") : $(size "$DB-wal")))
	limit=$((limit + 16384))
	# The soft limit only: raising a hard one back needs CAP_SYS_RESOURCE.
	"$PRLIMIT" --pid "$GW_PID" --fsize="$limit:unlimited"
	check "f1: the ledger's files may no longer grow past $limit bytes" $?
	wait_exit "$BUY_PID" 30
	[ "$WAIT_RC" -ne 0 ] && grep -q 'could not be recorded' "$d/f1-a.err"
	check "f1: the streaming buyer is stopped with a signed error that says why" $? \
	    "$d/f1-a.err" "$GLOG"
	wait_until 10 has_at_least "$GLOG" 'event=ledger_commit .*error=' 1
	check "f1: the gateway logs the failed commit" $? "$GLOG"

	# While it fails: a new order is refused and never logged as taken.
	buy_start f1-b co2 4
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -ne 0 ] && grep -qE 'order could not be recorded|internal' "$d/f1-b.err"
	check "f1: a new order is refused while the ledger cannot be written" $? "$d/f1-b.err"
	http_get "$mport" /health >"$d/f1-health"
	http_get "$mport" /metrics >"$d/f1-metrics"
	grep -q 'not ready: ledger not writable' "$d/f1-health" &&
	    grep -q '^sdpp_ledger_writable 0$' "$d/f1-metrics"
	check "f1: /health says not ready (ledger not writable), sdpp_ledger_writable 0" $? \
	    "$d/f1-health"

	# Space again: the gateway sells again by itself.
	"$PRLIMIT" --pid "$GW_PID" --fsize=unlimited:unlimited
	check "f1: space again (the limit lifted)" $?
	buy_start f1-c co2 4
	wait_exit "$BUY_PID" 30
	check "f1: once writes work again a new order is served and settled" $WAIT_RC \
	    "$d/f1-c.err" "$GLOG"

	# What was sold, paid and logged agrees with what the ledger holds.
	paid=$(sql "SELECT coalesce(max(CAST(amount AS INTEGER)), 0) FROM records WHERE kind = 'payment' AND order_id =
	    (SELECT order_id FROM records WHERE kind = 'order' ORDER BY id LIMIT 1)")
	items=$(wc -l <"$d/f1-a.jsonl")
	[ "$items" -le $((paid / price + unpaid)) ]
	check "f1: items delivered ($items) within the durable credit: $paid paid / $price + $unpaid unpaid" \
	    $? "$d/f1-a.jsonl"
	[ "$(in_log order)" -eq "$(in_ledger order)" ] &&
	    [ "$(in_log payment)" -eq "$(in_ledger payment)" ] &&
	    [ "$(in_log invoice)" -eq "$(in_ledger invoice)" ]
	rc=$? # the message's $(...) would reset $?
	check "f1: the log tells of exactly the orders ($(in_log order)), payments ($(in_log payment)) and invoices ($(in_log invoice)) the ledger holds" \
	    $rc "$GLOG"
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/f1-verify" 2>&1
	check "f1: the ledger verifies" $? "$d/f1-verify"
	gw_sane
	gw_stop
	check "f1: the gateway stops cleanly (status $WAIT_RC)" $WAIT_RC "$GLOG"
	broker_stop "$BROKER_PID"
}

if ! [ -x "$PRLIMIT" ]; then
	ok "# SKIP prlimit (util-linux) is absent"
	finish
	exit
fi
timed f1 full
finish
