#!/bin/bash
# sdpp buy resumes its order after a dropped connection (issue 15; TAP), against a real
# mosquitto and sdpp-gateway, with tests/tool_cutproxy cutting the buyer's connections:
# 100 cuts in one order lose and repeat nothing, --no-resume ends at the first, a resume
# the seller refuses ends with its error (exit 4), --resume-for bounds the attempts, and TLS
# orders resume over TLS.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
# A seed whose first connection carries the whole handshake (menu, order,
# session key) before its cut: a cut before the order runs cannot be resumed.
SEED=${SEED:-15}
MOSQ_SUB=$(command -v mosquitto_sub || echo /usr/bin/mosquitto_sub)
TLS_SEED=${TLS_SEED:-3}

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
	    grep -q "^sdpp buy: the seller ended the order: unknown_order: .*has ended here: resume_timeout" "$d/r3a.err"
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

	# A seller that takes the connection and never answers the resume:
	# --resume-for still bounds the wait (not the session's 30 s timeout).
	proxy_start r3-proxy3 -b 100000000 || {
		notok "r3: tool_cutproxy started"
		return
	}
	buy_via "$PP" r3c co2 100 --resume-for 3
	wait_orders 3
	pub_seq "$CO2" f 1 1
	wait_until 10 lines_at_least "$d/r3c.jsonl" 1
	t0=$(now_ms)
	kill -TERM "$PROXY_PID"
	wait_exit "$PROXY_PID" 5
	"$TOOLS/tool_cutproxy" -D "$PP" >/dev/null 2>"$d/r3-sink.err" &
	track $!
	wait_exit "$BUY_PID" 20
	el=$(($(now_ms) - t0))
	[ "$WAIT_RC" -eq 3 ] && [ "$el" -ge 2900 ] && [ "$el" -lt $((6000 * SLOW)) ] &&
	    grep -q "^sdpp buy: connection lost (no answer to our resume); order [0-9a-f]*\.\.\. not resumed within 3 s: giving up$" "$d/r3c.err" &&
	    grep -q 'target conn=1 open' "$d/r3-sink.err"
	check "r3c: a resume never answered: gives up after ${el} ms with --resume-for 3, exit 3 (status $WAIT_RC)" $? \
	    "$d/r3c.err" "$d/r3-sink.err"
	teardown_pair
}

# 5. The one thing a resume cannot bring back (PROTOCOL 15.6.2): the
# closing statement, when the cut falls inside it. A first run counts the
# bytes the seller sends in a 2-item order; a second one, on a fresh
# ledger, is cut 20 bytes before their end.
lost_statement() {
	local down
	setup_pair r5 "payment_granularity = 2" || return
	proxy_start r5-proxy -b 100000000 || {
		notok "r5: tool_cutproxy started"
		return
	}
	buy_via "$PP" r5a co2 2
	wait_orders 1
	pub_seq "$CO2" s 1 2
	wait_exit "$BUY_PID" 20
	kill -TERM "$PROXY_PID"
	wait_exit "$PROXY_PID" 5
	down=$(sed -n 's/^cuts=0 conns=1 bytes_up=[0-9]* bytes_down=\([0-9]*\)$/\1/p' "$d/r5-proxy.err")
	[ "$WAIT_RC" -eq 0 ] && [ -n "$down" ]
	check "r5: an uncut 2-item order settles; the seller sent ${down:-?} bytes" $? \
	    "$d/r5a.err" "$d/r5-proxy.err"
	[ -n "$down" ] || return
	gw_stop
	rm -f "$DB" "$DB-wal" "$DB-shm"
	gw_start r5
	proxy_start r5-proxy -n 1 -b $((down - 20)) -m close
	buy_via "$PP" r5b co2 2
	wait_orders 1
	pub_seq "$CO2" s 1 2
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq 4 ] && [ "$(wc -l <"$d/r5b.jsonl")" -eq 2 ] &&
	    grep -q "^sdpp buy: the seller ended the order: unknown_order: " "$d/r5b.err" &&
	    grep -q "^sdpp buy: our exit for 2 items was sent before the connection dropped: the order was most likely settled, but the seller's closing statement was lost with the connection$" "$d/r5b.err"
	check "r5: cut inside the statement: unknown_order, said to be a lost statement, exit 4 (status $WAIT_RC)" $? \
	    "$d/r5b.err" "$d/r5-proxy.err" "$GLOG"
	grep -q 'event=close reason=settled' "$GLOG"
	check "r5: the seller settled the order" $? "$GLOG"
	kill -TERM "$PROXY_PID"
	teardown_pair
}

# 6. Ctrl-C while the order has no connection: the exit waits in the
# session and goes out after the resume; --mqtt-out -q through 20 cuts
# republishes every sample once, in order, quietly; --budget through 20
# cuts stops where it should.
exit_and_mqtt() {
	local cnt=150 subpid
	setup_pair r6 "payment_granularity = 4
buyer_queue = 5000" || return
	proxy_start r6-proxy -b 100000000 || {
		notok "r6: tool_cutproxy started"
		return
	}
	buy_via "$PP" r6a co2 0
	wait_orders 1
	pub_seq "$CO2" x 1 3
	wait_until 10 lines_at_least "$d/r6a.jsonl" 3
	kill -TERM "$PROXY_PID"
	wait_until 10 grep -q '(attempt 2)' "$d/r6a.err"
	kill -INT "$BUY_PID"
	"$TOOLS/tool_cutproxy" -b 100000000 "$PP" "127.0.0.1:$GP" >/dev/null 2>>"$d/r6-proxy.err" &
	PROXY_PID=$!
	track $PROXY_PID
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq 0 ] && grep -q '^sdpp buy: resumed order ' "$d/r6a.err" &&
	    grep -qx 'settled: 3 items received, 9 nanos due, 9 nanos paid' "$d/r6a.err"
	check "r6a: Ctrl-C while disconnected: resumed, the exit sent, settled, exit 0 (status $WAIT_RC)" $? \
	    "$d/r6a.err" "$GLOG"
	kill -TERM "$PROXY_PID"

	timeout $((60 * SLOW)) "$MOSQ_SUB" -h 127.0.0.1 -p "$MQ" -q 1 -t 'out/#' -v -C $cnt \
	    >"$d/r6b.sub" 2>&1 &
	subpid=$!
	track $subpid
	wait_until 10 has_at_least "$d/r6-mq.log" ' out/#$' 1
	proxy_start r6-proxy2 -s "$SEED" -n 20 -b 300-3000 -m mixed || {
		notok "r6: tool_cutproxy started"
		return
	}
	buy_via "$PP" r6b co2 $cnt --mqtt-out "tcp://127.0.0.1:$MQ" --mqtt-prefix out/ --mqtt-qos 1 -q
	wait_orders 2
	pub_seq "$CO2" m 1 $cnt
	wait_exit "$BUY_PID" 60
	check "r6b: --mqtt-out through 20 cuts: settled, exit 0 (status $WAIT_RC)" $WAIT_RC \
	    "$d/r6b.err" "$d/r6-proxy2.err"
	wait_exit $subpid 10
	seq 1 $cnt | sed "s|^|out/$CO2 m|" | cmp -s - "$d/r6b.sub" &&
	    [ "$(count_in "$d/r6-proxy2.err" '^cut [0-9]+ ')" -eq 20 ]
	check "r6b: the broker got m1..m$cnt once each, in order, across 20 cuts" $? "$d/r6b.sub" \
	    "$d/r6-proxy2.err"
	[ ! -s "$d/r6b.err" ]
	check "r6b: -q: the resumes print nothing (no sample was dropped)" $? "$d/r6b.err"
	kill -TERM "$PROXY_PID"

	# --budget 300 at 3 nanos an item, open-ended, through 20 cuts: the
	# budget stops it after the 100th item, settled within it. Only those
	# 100 are published (check_cli_buy_exit e7 says why).
	proxy_start r6-proxy3 -s "$SEED" -n 20 -b 300-3000 -m mixed || {
		notok "r6: tool_cutproxy started"
		return
	}
	buy_via "$PP" r6c co2 0 --budget 300
	wait_orders 3
	pub_seq "$CO2" b 1 100
	wait_exit "$BUY_PID" 60
	[ "$WAIT_RC" -eq 7 ] && check_items "$d/r6c.jsonl" b "$CO2" 100 >/dev/null 2>"$d/r6c-items" &&
	    grep -q '^sdpp buy: your --budget of 300 nanos is reached: stopping after 100 items' "$d/r6c.err" &&
	    grep -qx 'settled: 100 items received, 300 nanos due, 300 nanos paid' "$d/r6c.err" &&
	    [ "$(count_in "$d/r6-proxy3.err" '^cut [0-9]+ ')" -eq 20 ]
	check "r6c: --budget across 20 cuts: 100 items once each, settled at 300, exit 7 (status $WAIT_RC)" $? \
	    "$d/r6c.err" "$d/r6c-items"
	teardown_pair
}

# 4. Over TLS: each resume is a new TLS connection with the same CA file
# and name; a cut mid-record is a TLS error after the handshake, a drop.
# The gateway sends `resumed' and what follows it in one record of up to
# 16 KB: a connection cut within its first few KB never resumes.
over_tls() {
	local cnt=300 cuts resumed
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj "/CN=ca" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null &&
	    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=s" \
	        -keyout "$d/s.key" -out "$d/s.csr" 2>/dev/null &&
	    printf 'subjectAltName = IP:127.0.0.1\n' >"$d/s.ext" &&
	    openssl x509 -req -in "$d/s.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
	        -days 2 -extfile "$d/s.ext" -out "$d/s.pem" 2>/dev/null && chmod 0600 "$d/s.key"
	check "r4: a throwaway CA and a server certificate for 127.0.0.1" $? || return
	setup_pair r4 "payment_granularity = 4
buyer_queue = 5000
tls_cert = s.pem
tls_key = s.key" || return
	proxy_start r4-proxy -s "$TLS_SEED" -n 8 -b 8000-16000 -m mixed || {
		notok "r4: tool_cutproxy started"
		return
	}
	buyer_key
	"$SDPP" buy "tls://127.0.0.1:$PP" --cafile "$d/ca.pem" --seller-key "$PUB" \
	    --key "$d/buyer.key" --product co2 --count $cnt >"$d/r4-buy.jsonl" 2>"$d/r4-buy.err" &
	BUY_PID=$!
	track $BUY_PID
	wait_orders 1
	check "r4: the order is placed over TLS through the proxy" $? "$d/r4-buy.err" \
	    "$d/r4-proxy.err"
	pub_seq "$CO2" t 1 $cnt
	wait_exit "$BUY_PID" 60
	check "r4: the buy ends settled, exit 0 (status $WAIT_RC)" $WAIT_RC "$d/r4-buy.err" \
	    "$d/r4-proxy.err" "$GLOG"
	cuts=$(count_in "$d/r4-proxy.err" '^cut [0-9]+ ')
	resumed=$(count_in "$d/r4-buy.err" '^sdpp buy: resumed order ')
	[ "$cuts" -eq 8 ] && [ "$resumed" -ge 5 ]
	check "r4: $cuts cuts, $resumed resumed" $? "$d/r4-buy.err" "$d/r4-proxy.err"
	check_items "$d/r4-buy.jsonl" t "$CO2" $cnt >/dev/null 2>"$d/r4-items"
	check "r4: samples t1..t$cnt, each once, in order" $? "$d/r4-items"
	grep -qx "settled: $cnt items received, $((3 * cnt)) nanos due, $((3 * cnt)) nanos paid" \
	    "$d/r4-buy.err"
	check "r4: the statement: $cnt items, all paid" $? "$d/r4-buy.err"
	kill -TERM "$PROXY_PID"
	teardown_pair
}

timed "1 many cuts" many_cuts
timed "2 refusals" refusals
timed "3 timeouts" timeouts
timed "4 over TLS" over_tls
timed "5 lost statement" lost_statement
timed "6 exit and mqtt-out" exit_and_mqtt
sanitizer_clean "$d"/*.err
check "no sanitizer report from any buyer or proxy" $? "$d"/*.err
finish
