#!/bin/bash
# Resume at the gateway (TAP, issue #15): a dropped sdpp/2 order waits resume_timeout for its buyer's
# signed resume on a new connection, queueing samples; forged, foreign, replayed, wrong, unknown and
# late resumes are refused with their codes and leave it alone; a half-open connection is taken over;
# the timeout, resume_timeout = 0, an sdpp/1 order and a stop while detached close it. Real broker,
# gateway, sockets and buyer machine (tool_hostile).
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
H=$TOOLS/tool_hostile

# metric NAME: the gateway's sdpp_NAME now (metrics on $MPORT).
metric() { http_get "$MPORT" /metrics | sed -n "s/^sdpp_$1 //p"; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_at_least() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ]; }

# tool NAME ARGS...: tool_hostile in the background (stdout $d/NAME.out,
# stderr $d/NAME.err, go-ahead file $d/NAME.go for -w); sets HPID.
tool() {
	local name=$1
	shift
	"$H" -t $((20 * SLOW)) "$@" >"$d/$name.out" 2>"$d/$name.err" &
	HPID=$!
	track $HPID
}
# go NAME: the go-ahead the tool started with -w $d/NAME.go waits for.
go() { : >"$d/$1.go"; }
# lines NAME: the tool's output on one line, for messages.
lines() { tr '\n' ';' <"$d/$1.out"; }
# tool_done NAME LABEL PATTERN: the tool exited 0 and its output (joined
# with `;') matches the extended regex PATTERN.
tool_done() {
	local out
	wait_exit "$HPID" $((20 + 5))
	out=$(lines "$1")
	[ "$WAIT_RC" -eq 0 ] && [[ $out =~ $3 ]]
	check "$G: $2 (got \`$out', status $WAIT_RC)" $? "$d/$1.err" "$GLOG"
}
# log_ms PATTERN: the gateway's own time (ms) on its first log line
# matching PATTERN, so that intervals do not depend on how fast we poll.
log_ms() {
	local ts
	ts=$(grep -m1 -E -- "$1" "$GLOG" | cut -d' ' -f1)
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}
detached_at_least() { has_at_least "$GLOG" ' event=detached order=[0-9a-f]{16} ' "$1"; }
# order_close OID: the close reason `sdpp ledger show' gives the order.
order_close() {
	"$SDPP" ledger show "$DB" --order "$1" --json 2>&1 |
	    sed -n 's/.*"closed":true,"reason":"\([a-z_]*\)".*/\1/p'
}
orders() { sql "SELECT count(*) FROM records WHERE kind = 'order'"; }
# pub_n PREFIX FIRST COUNT: COUNT co2 samples, then waits until the gateway
# has taken SAMPLES + COUNT samples from the broker in all.
SAMPLES=0
pub_n() {
	pub_seq "$CO2" "$1" "$2" "$3" >>"$d/pub.err" 2>&1
	SAMPLES=$((SAMPLES + $3))
	wait_until 10 metric_at_least samples_total $SAMPLES
}

# 1. The held order: resumed with its queue, the refusals, the takeover,
# sdpp/1 and a stop, on one gateway (buyer_queue = 4; resume_timeout long
# enough for what the script does while orders wait, on a loaded machine).
held() {
	local ports oid t0 t1 n0 rc logged
	ports=$("$TOOLS/tool_freeport" 1) || return
	MPORT=$ports
	setup_pair r1 "resume_timeout = 60s
buyer_queue = 4
metrics_listen = 127.0.0.1:$MPORT" || return

	# 3 items, the cut; 4 samples while detached, all queued (buyer_queue
	# 4); the resume gets them after `resumed', then our exit.
	tool r1a -w "$d/r1a.go" -o "$d/r1a.items" "127.0.0.1:$GP" "$PUB" resume co2 3 7
	wait_orders 1 && pub_n r1a- 1 3
	wait_until 10 detached_at_least 1
	check "r1: the dropped sdpp/2 order is held (event=detached)" $? "$d/r1a.err" "$GLOG"
	wait_until 5 metric_is orders_detached 1
	rc=$?
	check "r1: orders_detached is 1 while it waits (got $(metric orders_detached))" $rc
	pub_n r1a- 4 4
	go r1a
	tool_done r1a "resume co2 3 7: resumed at 3 of 3 sent, nothing dropped; 4 queued items after; our exit" \
	    '^resumed seq=3 sent=3 dropped=0;items 7;exit ok;$'
	[ "$(tr '\n' ' ' <"$d/r1a.items")" = "1 r1a-1 2 r1a-2 3 r1a-3 4 r1a-4 5 r1a-5 6 r1a-6 7 r1a-7 " ]
	rc=$?
	check "r1: items 1-7 are the samples in order, 4-7 those published while detached (got $(tr '\n' ' ' <"$d/r1a.items"))" \
	    $rc
	oid=$(sql "SELECT order_id FROM records WHERE kind = 'order' ORDER BY id LIMIT 1")
	grep -qE " event=resumed order=${oid:0:16} " "$GLOG"
	check "r1: the gateway logs event=resumed order=${oid:0:16}" $? "$GLOG"
	wait_until 5 metric_is orders_detached 0
	rc=$?
	check "r1: orders_detached is 0 after the resume (got $(metric orders_detached))" $rc
	metric_is resumes_total 1
	rc=$?
	check "r1: resumes_total is 1 (got $(metric resumes_total))" $rc

	# 1 item, the cut, 10 samples while detached: the queue keeps the
	# newest 4, 6 are dropped and `resumed' says so.
	n0=$(orders)
	tool r1b -w "$d/r1b.go" -o "$d/r1b.items" "127.0.0.1:$GP" "$PUB" resume co2 1 5
	wait_orders $((n0 + 1)) && pub_n r1b- 1 1
	wait_until 10 detached_at_least 2
	pub_n r1b- 2 10
	go r1b
	tool_done r1b "beyond buyer_queue: resumed with dropped=6, then the 4 queued" \
	    '^resumed seq=1 sent=1 dropped=6;items 5;exit ok;$'
	[ "$(tr '\n' ' ' <"$d/r1b.items")" = "1 r1b-1 2 r1b-8 3 r1b-9 4 r1b-10 5 r1b-11 " ]
	rc=$?
	check "r1: the queue kept the newest 4 of the 10 (got $(tr '\n' ' ' <"$d/r1b.items"))" $rc

	# Eight orders detached at once share the samples published meanwhile,
	# and come back together.
	local i good=0 held0
	n0=$(orders)
	held0=$(count_in "$GLOG" ' event=detached ')
	for i in 1 2 3 4 5 6 7 8; do
		tool "r1n$i" -w "$d/r1n.go" -o "$d/r1n$i.items" "127.0.0.1:$GP" "$PUB" resume co2 2 4
		eval "pid_r1n$i=$HPID"
	done
	wait_orders $((n0 + 8)) && pub_n r1n- 1 2
	wait_until 10 detached_at_least $((held0 + 8)) && wait_until 5 metric_is orders_detached 8
	rc=$?
	check "r1: eight orders detached at once (orders_detached $(metric orders_detached))" $rc "$GLOG"
	pub_n r1n- 3 2
	go r1n
	for i in 1 2 3 4 5 6 7 8; do
		eval "HPID=\$pid_r1n$i"
		wait_exit "$HPID" 25
		[ "$WAIT_RC" -eq 0 ] &&
		    [ "$(lines "r1n$i")" = "resumed seq=2 sent=2 dropped=0;items 4;exit ok;" ] &&
		    [ "$(tr '\n' ' ' <"$d/r1n$i.items")" = "1 r1n-1 2 r1n-2 3 r1n-3 4 r1n-4 " ] &&
		    good=$((good + 1))
	done
	[ $good -eq 8 ]
	check "r1: all eight resumed and got the two samples queued while detached ($good of 8)" $? \
	    "$d/r1n1.err" "$d/r1n8.err"

	# Refused resumes, each on a new connection; then the right one on a
	# third: the order was not disturbed.
	refusal() {
		local name=$1 code=$2 re logged
		shift 2
		re=" event=resume_refused order=[0-9a-f]{16} .*code=$code( |$)"
		logged=$(count_in "$GLOG" "$re")
		tool "$name" "127.0.0.1:$GP" "$PUB" "$@"
		tool_done "$name" "$*: refused with $code, then resumed and exited" \
		    "^(resumed seq=0 sent=0 dropped=0;)?error $code;resumed seq=0 sent=0 dropped=0;$"
		has_at_least "$GLOG" "$re" $((logged + 1))
		check "$G: the gateway logs event=resume_refused ... code=$code" $? "$GLOG"
	}
	refusal r1c bad_signature resume-forged co2
	refusal r1d bad_signature resume-foreign co2
	refusal r1e stale_resume resume-replay co2
	refusal r1f bad_digest resume-digest co2
	refusal r1g bad_sequence resume-beyond co2
	tool r1h "127.0.0.1:$GP" "$PUB" resume-unknown
	tool_done r1h "resume-unknown: a random order id gets unknown_order" '^error unknown_order;$'
	grep -qE ' event=resume_refused order=[0-9a-f]{16} .*code=unknown_order( |$)' "$GLOG"
	check "r1: the gateway logs event=resume_refused ... code=unknown_order" $? "$GLOG"

	# Half-open: the old connection stays open, unread; the resume takes
	# the order over and the gateway closes the old socket.
	n0=$(orders)
	logged=$(count_in "$GLOG" ' event=takeover ')
	tool r1i -n 2 "127.0.0.1:$GP" "$PUB" resume-halfopen co2
	wait_orders $((n0 + 1)) && pub_n r1i- 1 2
	tool_done r1i "resume-halfopen: taken over on the new connection, the old one closed" \
	    '^resumed seq=2 sent=2 dropped=0;old connection closed;exit ok;$'
	has_at_least "$GLOG" ' event=takeover ' $((logged + 1))
	check "r1: the gateway logs event=takeover" $? "$GLOG"

	# An sdpp/1 order is not held: closed at once, and unknown to a resume.
	n0=$(orders)
	"$H" -t $((10 * SLOW)) -1 "127.0.0.1:$GP" "$PUB" save-order "$d/r1k.order" co2 \
	    >"$d/r1k.out" 2>"$d/r1k.err"
	check "r1: an sdpp/1 order is placed, then its connection closed" $? "$d/r1k.err"
	oid=$(sed -n 's/^started //p' "$d/r1k.out")
	wait_until 10 closed_orders_at_least $((n0 + 1))
	[ -n "$oid" ] && [ "$(order_close "$oid")" = disconnected ] &&
	    ! grep -qE " event=detached order=${oid:0:16} " "$GLOG"
	check "r1: the sdpp/1 order closed at once (disconnected), never detached" $? "$GLOG"
	tool r1l "127.0.0.1:$GP" "$PUB" resume-unknown "${oid:-0}"
	tool_done r1l "a resume naming the sdpp/1 order gets unknown_order" '^error unknown_order;$'

	# Sockets moved between sessions are counted once: none is left.
	wait_until 5 metric_is buyers_connected 0 && metric_is orders_detached 0
	rc=$?
	check "r1: all done: buyers_connected $(metric buyers_connected), orders_detached $(metric orders_detached) (both 0)" \
	    $rc
	metric_is resumes_total 17
	rc=$?
	check "r1: resumes_total counts the 17 accepted resumes (got $(metric resumes_total))" $rc
	metric_is resumes_refused_total 7
	rc=$?
	check "r1: resumes_refused_total counts the 7 refusals (got $(metric resumes_refused_total))" $rc
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/r1-verify" 2>&1
	check "r1: ledger verify" $? "$d/r1-verify"

	# A stop while an order is detached: closed with shutting_down, and the
	# gateway exits promptly.
	n0=$(orders)
	"$H" -t $((10 * SLOW)) "127.0.0.1:$GP" "$PUB" save-order "$d/r1m.order" co2 \
	    >"$d/r1m.out" 2>"$d/r1m.err"
	oid=$(sed -n 's/^started //p' "$d/r1m.out")
	wait_until 10 has_at_least "$GLOG" " event=detached order=${oid:0:16} " 1
	check "r1: an order is detached before the stop" $? "$d/r1m.err" "$GLOG"
	gw_sane
	t0=$(now_ms)
	gw_stop
	t1=$(now_ms)
	[ "$WAIT_RC" -eq 0 ] && [ $((t1 - t0)) -le $((3000 * SLOW)) ]
	check "r1: SIGTERM: the gateway exits 0 promptly (status $WAIT_RC, $((t1 - t0)) ms)" $? "$GLOG"
	[ -n "$oid" ] && [ "$(order_close "$oid")" = shutting_down ]
	rc=$?
	check "r1: the detached order is closed with shutting_down (ledger show: $(order_close "$oid"))" \
	    $rc "$GLOG"
	sanitizer_clean "$GLOG" "$d"/r1*.err
	check "r1: no sanitizer report" $? "$GLOG"
	broker_stop "$BROKER_PID"
}

# 2. resume_timeout = 0: an order ends with its connection, as in sdpp/1.
off() {
	local oid rc
	setup_pair r2 "resume_timeout = 0" || return
	tool r2a "127.0.0.1:$GP" "$PUB" resume-late co2 0
	wait_orders 1
	tool_done r2a "resume_timeout = 0: a resume right after the drop gets unknown_order" \
	    '^error unknown_order;$'
	oid=$(last_order)
	wait_until 10 closed_orders_at_least 1
	[ "$(order_close "$oid")" = disconnected ] && ! grep -qE ' event=detached ' "$GLOG"
	rc=$?
	check "r2: the order closed at once with reason disconnected (ledger show: $(order_close "$oid"))" \
	    $rc "$GLOG"
	teardown_pair
}

# 3. The payment timer runs on while an order is detached: a buyer that
# stops paying and drops is closed for payment_timeout before its
# resume_timeout, and its late resume gets unknown_order.
unpaid() {
	local oid t0 t1 rc
	setup_pair r3 "resume_timeout = 5s
payment_granularity = 2
max_unpaid = 2
payment_timeout = 1s" || return
	tool r3a -P -n 2 "127.0.0.1:$GP" "$PUB" resume-late co2 $((3 + 2 * SLOW))
	wait_orders 1 && pub_seq "$CO2" r3- 1 2 >>"$d/pub.err" 2>&1
	oid=$(last_order)
	wait_until 10 has_at_least "$GLOG" " event=detached order=${oid:0:16} " 1
	check "r3: the unpaid order is held when its buyer drops" $? "$d/r3a.err" "$GLOG"
	wait_until 10 has_at_least "$GLOG" ' event=close reason=payment_timeout ' 1
	rc=$?
	t0=$(log_ms " event=detached order=${oid:0:16} ")
	t1=$(log_ms ' event=close reason=payment_timeout ')
	[ $rc -eq 0 ] && [ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -lt 4500 ] &&
	    ! grep -qE ' event=close reason=resume_timeout ' "$GLOG"
	check "r3: closed for payment_timeout while detached, $((t1 - t0)) ms after the drop (resume_timeout is 5 s)" \
	    $? "$GLOG"
	tool_done r3a "the resume after it gets unknown_order" '^error unknown_order;$'
	wait_until 5 closed_orders_at_least 1
	[ "$(order_close "$oid")" = payment_timeout ]
	rc=$?
	check "r3: the ledger closes it with reason payment_timeout (ledger show: $(order_close "$oid"))" \
	    $rc "$GLOG"
	teardown_pair
}

# 4. Not resumed in time (resume_timeout = 2s): closed with reason
# resume_timeout 2 s after the drop; a resume after that gets unknown_order.
late() {
	local ports oid t0 t1 rc
	ports=$("$TOOLS/tool_freeport" 1) || return
	MPORT=$ports
	setup_pair r4 "resume_timeout = 2s
metrics_listen = 127.0.0.1:$MPORT" || return
	tool r4a "127.0.0.1:$GP" "$PUB" resume-late co2 $((2 + SLOW))
	wait_orders 1
	oid=$(last_order)
	wait_until 10 has_at_least "$GLOG" " event=detached order=${oid:0:16} " 1
	wait_until 5 metric_is orders_detached 1
	rc=$?
	check "r4: orders_detached is 1 while it waits (got $(metric orders_detached))" $rc
	wait_until $((5 + 2)) has_at_least "$GLOG" ' event=close reason=resume_timeout ' 1
	check "r4: the gateway logs event=close reason=resume_timeout" $? "$GLOG"
	t0=$(log_ms " event=detached order=${oid:0:16} ")
	t1=$(log_ms ' event=close reason=resume_timeout ')
	[ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -ge 1990 ] &&
	    [ $((t1 - t0)) -le $((2000 + 1000 * SLOW)) ]
	check "r4: the held order closed 2 s after it was detached ($((t1 - t0)) ms by the log)" $?
	wait_until 5 metric_is orders_detached 0
	rc=$?
	check "r4: orders_detached is 0 after the timeout (got $(metric orders_detached))" $rc
	tool_done r4a "resume-late: the resume after the timeout gets unknown_order" \
	    '^error unknown_order;$'
	wait_until 5 closed_orders_at_least 1
	[ "$(order_close "$oid")" = resume_timeout ]
	rc=$?
	check "r4: the ledger closes the order with reason resume_timeout (ledger show: $(order_close "$oid"))" \
	    $rc "$GLOG"
	metric_is resumes_refused_total 1 && metric_is resumes_total 0
	rc=$?
	check "r4: resumes_refused_total 1, resumes_total 0 (got $(metric resumes_refused_total), $(metric resumes_total))" \
	    $rc
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/r4-verify" 2>&1
	check "r4: ledger verify" $? "$d/r4-verify"
	teardown_pair
}

# 5. Waiting orders are bounded as connections are: at most max_buyers of
# them wait; beyond, a dropped order ends with its connection.
capped() {
	local i oid rc
	setup_pair r5 "resume_timeout = 60s
max_buyers = 2" || return
	for i in 1 2 3; do
		"$H" -t $((10 * SLOW)) "127.0.0.1:$GP" "$PUB" save-order "$d/r5-order$i" co2 \
		    >"$d/r5-$i" 2>&1
		wait_orders $i
		[ "$i" -lt 3 ] && wait_until 10 detached_at_least "$i"
	done
	oid=$(last_order)
	wait_until 10 closed_orders_at_least 1
	[ "$(order_close "$oid")" = disconnected ] &&
	    [ "$(grep -cE ' event=detached order=[0-9a-f]{16} ' "$GLOG")" -eq 2 ]
	rc=$?
	check "r5: max_buyers = 2: two dropped orders wait, the third closes as disconnected (ledger show: $(order_close "$oid"))" \
	    $rc "$GLOG"
	teardown_pair
}

timed "1 held orders" held
timed "2 resume_timeout = 0" off
timed "3 unpaid while detached" unpaid
timed "4 resume_timeout = 2s" late
timed "5 at most max_buyers wait" capped
finish
