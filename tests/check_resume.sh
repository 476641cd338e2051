#!/bin/bash
# sdpp buy resumes its order after a dropped connection (issue 15; TAP), against a real
# mosquitto and sdpp-gateway, with tests/tool_cutproxy cutting the buyer's connections:
# 100 cuts in one order lose and repeat nothing, --no-resume ends at the first, a resume
# the seller refuses ends with its error (exit 4), and --resume-for bounds the attempts.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
# A seed whose first connection carries the whole handshake (menu, order,
# session key) before its cut: a cut before the order runs cannot be resumed.
SEED=${SEED:-15}

# proxy_start NAME ARGS...: tool_cutproxy on a free port to the gateway,
# cuts on $d/NAME.err; sets PROXY_PID and PP (its port).
proxy_start() {
	local name=$1
	shift
	rm -f "$d/$name.port"
	"$TOOLS/tool_cutproxy" -p "$d/$name.port" "$@" 0 "127.0.0.1:$GP" 2>"$d/$name.err" &
	PROXY_PID=$!
	track $PROXY_PID
	wait_until 5 test -s "$d/$name.port" || return 1
	PP=$(cat "$d/$name.port")
}

# buy_via PORT OUT PRODUCT COUNT [ARGS...]: buy_start against 127.0.0.1:PORT.
buy_via() {
	local port=$1 out=$2 product=$3 count=$4
	shift 4
	buyer_key
	"$SDPP" buy "127.0.0.1:$port" --seller-key "$PUB" --key "$d/buyer.key" \
	    --product "$product" --count "$count" "$@" >"$d/$out.jsonl" 2>"$d/$out.err" &
	BUY_PID=$!
	track $BUY_PID
}

# 1. One order through 100 cuts (close, reset and half-open, anywhere in a
# frame), 300-3000 bytes a connection: every sample once, in order, the
# totals right, the ledger sound, the resumes in the gateway's log.
many_cuts() {
	local cnt=400 cuts resumed rlines glines first
	setup_pair r1 "payment_granularity = 4
buyer_queue = 5000" || return
	proxy_start r1-proxy -s "$SEED" -n 100 -b 300-3000 -m mixed || {
		notok "r1: tool_cutproxy started"
		return
	}
	buy_via "$PP" r1-buy co2 $cnt
	wait_orders 1
	check "r1: the order is placed through the proxy" $? "$d/r1-buy.err" "$d/r1-proxy.err"
	pub_seq "$CO2" k 1 $cnt
	wait_exit "$BUY_PID" 80
	check "r1: the buy ends settled, exit 0 (status $WAIT_RC)" $WAIT_RC "$d/r1-buy.err" \
	    "$d/r1-proxy.err" "$GLOG"
	cuts=$(count_in "$d/r1-proxy.err" '^cut [0-9]+ ')
	[ "$cuts" -eq 100 ] && grep -q 'mode=halfopen' "$d/r1-proxy.err" &&
	    grep -q 'mode=reset' "$d/r1-proxy.err" && grep -q 'mode=close' "$d/r1-proxy.err"
	check "r1: 100 cuts ($cuts), of all three kinds" $? "$d/r1-proxy.err"
	first=$(check_items "$d/r1-buy.jsonl" k "$CO2" $cnt 2>"$d/r1-items")
	[ $? -eq 0 ] && [ "$first" = 1 ]
	check "r1: stdout has samples k1..k$cnt, each once, in order (seq 1..$cnt)" $? "$d/r1-items"
	grep -qx "settled: $cnt items received, $((3 * cnt)) nanos due, $((3 * cnt)) nanos paid" \
	    "$d/r1-buy.err"
	check "r1: the statement: $cnt items, $((3 * cnt)) due, $((3 * cnt)) paid" $? "$d/r1-buy.err"
	rlines=$(count_in "$d/r1-buy.err" '^sdpp buy: connection lost \(.*\); resuming order [0-9a-f]{8}\.\.\. \(attempt [0-9]+\) in [0-9]+\.[0-9] s$')
	resumed=$(count_in "$d/r1-buy.err" '^sdpp buy: resumed order [0-9a-f]{8}\.\.\. at item [0-9]+ \(attempt [0-9]+\)$')
	# Every cut after the handshake is one attempt line; a resume cut before
	# its answer needs another attempt.
	[ "$rlines" -eq "$cuts" ] && [ "$resumed" -ge 50 ] && [ "$resumed" -le "$rlines" ]
	check "r1: one line per attempt ($rlines), $resumed resumed" $? "$d/r1-buy.err"
	glines=$(count_in "$GLOG" 'event=resumed ')
	[ "$glines" -ge "$resumed" ] && [ "$(count_in "$GLOG" 'event=takeover ')" -ge 1 ]
	check "r1: the gateway logs the resumes ($glines) and a half-open takeover" $? "$GLOG"
	wait_until 10 closed_orders_at_least 1
	[ "$resumed" -ge 1 ] &&
	    [ "$(sql "SELECT count(*) FROM records WHERE kind = 'resume'")" -ge "$resumed" ]
	check "r1: the ledger holds a resume record for each" $?
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/r1-verify" 2>&1
	check "r1: sdpp ledger verify passes" $? "$d/r1-verify"
	"$SDPP" ledger show "$DB" --json >"$d/r1-show" 2>&1
	grep -q "\"paid\":\"$((3 * cnt))\",\"owed\":\"0\"" "$d/r1-show"
	check "r1: ledger show: $((3 * cnt)) paid, nothing owed" $? "$d/r1-show"
	kill -TERM "$PROXY_PID"
	teardown_pair
}

# 2. --no-resume: the first cut ends the buy as before (exit 6), and a
# resume the seller refuses ends it with the seller's error (exit 4).
refusals() {
	local oid pubpid
	setup_pair r2 "payment_granularity = 4" || return

	proxy_start r2-proxy -s 1 -n 1 -b 4000 -m close || {
		notok "r2: tool_cutproxy started"
		return
	}
	buy_via "$PP" r2a co2 100 --no-resume
	wait_orders 1
	pub_seq "$CO2" a 1 100 50 &
	pubpid=$!
	track $pubpid
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq 6 ] &&
	    grep -qxE 'sdpp buy: (the seller closed the connection|read from the seller: Connection reset by peer|write to the seller: Broken pipe)' "$d/r2a.err" &&
	    ! grep -q 'resum' "$d/r2a.err" && grep -q '^cut 1 ' "$d/r2-proxy.err"
	check "r2a: --no-resume: the cut ends the buy, exit 6 (status $WAIT_RC)" $? "$d/r2a.err" \
	    "$d/r2-proxy.err"
	! grep -q 'event=resumed ' "$GLOG"
	check "r2a: no resume reached the gateway" $? "$GLOG"
	kill -TERM "$PROXY_PID"
	wait_exit $pubpid 10

	# The gateway killed and started again: the order it held is gone.
	buy_start r2b co2 100
	wait_orders 2
	oid=$(last_order)
	pub_seq "$CO2" b 1 3
	wait_until 10 lines_at_least "$d/r2b.jsonl" 3
	kill -KILL "$GW_PID"
	wait_exit "$GW_PID" 5 2>/dev/null
	wait_until 10 grep -q '(attempt 2)' "$d/r2b.err"
	echo "--- restart" >>"$GLOG"
	gw_start r2
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq 4 ] &&
	    grep -q "^sdpp buy: the seller ended the order: unknown_order: " "$d/r2b.err" &&
	    [ "$(wc -l <"$d/r2b.jsonl")" -eq 3 ]
	check "r2b: a restarted gateway refuses the resume: unknown_order, exit 4 (status $WAIT_RC)" $? \
	    "$d/r2b.err" "$GLOG"
	grep -q "event=resume_refused order=${oid:0:16} .*code=unknown_order" "$GLOG"
	check "r2b: the gateway logs the refusal" $? "$GLOG"
	teardown_pair
}

# 3. The seller's resume_timeout passes while the buyer cannot reach it;
# and --resume-for gives up when nobody answers (exit 3).
timeouts() {
	local t0 el
	setup_pair r3 "resume_timeout = 1s" || return
	proxy_start r3-proxy -b 100000000 || {
		notok "r3: tool_cutproxy started"
		return
	}
	buy_via "$PP" r3a co2 100
	wait_orders 1
	pub_seq "$CO2" c 1 2
	wait_until 10 lines_at_least "$d/r3a.jsonl" 2
	# Both sides closed at once: the gateway holds the order for 1 s; the
	# proxy comes back on its port after the order has expired.
	kill -TERM "$PROXY_PID"
	wait_until 10 has_at_least "$GLOG" 'event=close reason=resume_timeout' 1
	check "r3a: the held order expires after resume_timeout" $? "$GLOG"
	"$TOOLS/tool_cutproxy" -b 100000000 "$PP" "127.0.0.1:$GP" >/dev/null 2>>"$d/r3-proxy.err" &
	PROXY_PID=$!
	track $PROXY_PID
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq 4 ] &&
	    grep -q "^sdpp buy: the seller ended the order: unknown_order: " "$d/r3a.err"
	check "r3a: the resume comes too late: unknown_order, exit 4 (status $WAIT_RC)" $? \
	    "$d/r3a.err" "$GLOG"

	buy_via "$PP" r3b co2 100 --resume-for 2
	wait_orders 2
	pub_seq "$CO2" e 1 1
	wait_until 10 lines_at_least "$d/r3b.jsonl" 1
	t0=$(now_ms)
	kill -TERM "$PROXY_PID"
	wait_exit "$BUY_PID" 20
	el=$(($(now_ms) - t0))
	[ "$WAIT_RC" -eq 3 ] && [ "$el" -ge 1900 ] && [ "$el" -lt $((5000 * SLOW)) ] &&
	    has_at_least "$d/r3b.err" 'resuming order .* \(attempt 3\)' 1 &&
	    grep -q "^sdpp buy: connection lost (127.0.0.1:$PP: Connection refused); order [0-9a-f]*\.\.\. not resumed within 2 s: giving up$" "$d/r3b.err"
	check "r3b: --resume-for 2: attempts, then gives up after ${el} ms, exit 3 (status $WAIT_RC)" $? "$d/r3b.err"
	teardown_pair
}

timed "1 many cuts" many_cuts
timed "2 refusals" refusals
timed "3 timeouts" timeouts
finish
