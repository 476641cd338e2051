#!/bin/bash
# Signed items through the gateway (TAP, issue 17): with sign_items = yes each item's signature is
# made on a worker thread (worker_threads) or by the loop (0), and every buyer still gets every
# item once, in order, signed: one buyer, twenty at once, one whose connection is cut and resumed,
# plus worker_threads' bounds. Real mosquitto, sdpp-gateway and `sdpp buy', which checks the
# seller's signature over the receipt chain before each ACK and its exit (exit 5 if it fails).
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2
# A seed whose first connection carries the whole handshake before its cut
# (as in check_resume.sh): a cut before the order cannot be resumed.
SEED=${SEED:-15}
H=$TOOLS/tool_hostile

# samples_at_least N: the gateway has taken N samples from the broker (its
# metrics on $MPORT).
samples_at_least() {
	local v
	v=$(http_get "$MPORT" /metrics | sed -n 's/^sdpp_samples_total //p')
	[ -n "$v" ] && [ "$v" -ge "$1" ]
}

# signed_conf THREADS: the [gateway] lines of every scenario here; a queue
# long enough that a burst of samples reaches a paused buyer whole.
signed_conf() {
	printf 'sign_items = yes\nworker_threads = %s\nack_every = 10\n' "$1"
	printf 'payment_granularity = 10\nbuyer_queue = 5000\n'
}

# log_clean: the gateway logged no failed signature and nothing at error
# level or above.
log_clean() {
	! grep -qE 'event=sign_failed|sdpp-gateway: (emerg|alert|crit|error): ' "$GLOG"
}

# settled_all N: N orders closed, each settled, none for another reason
# (the log line may come just after the buyer has its statement).
settled_all() {
	[ "$(count_in "$GLOG" ' event=close reason=settled ')" -eq "$1" ] &&
	    [ "$(count_in "$GLOG" ' event=close reason=')" -eq "$1" ]
}

# ledger_paid N COUNT: `ledger show' has N orders of COUNT co2 items (price
# 3), each invoiced per payment_granularity 10, paid in full and settled;
# and `ledger verify' passes.
ledger_paid() {
	local want
	want="\"quantity\":$2,\"price\":\"3\",.*\"acknowledged\":$2,\"delivered\":$2,\"invoices\":$(($2 / 10)),\"invoiced\":\"$((3 * $2))\",\"paid\":\"$((3 * $2))\",\"owed\":\"0\",\"exited\":true,\"closed\":true,\"reason\":\"settled\""
	wait_until 10 closed_orders_at_least "$1" &&
	    "$SDPP" ledger show "$DB" --json >"$d/$G-show" 2>&1 &&
	    [ "$(grep -cE -- "$want" "$d/$G-show")" -eq "$1" ] &&
	    "$SDPP" ledger verify "$DB" --key "$PUB" >"$d/$G-verify" 2>&1
}

# 1, 2. One buyer, 400 items published as fast as tool_publish goes, items
# signed by THREADS workers (0: the loop).
one_buyer() {
	local name=$1 threads=$2 cnt=400 first mport
	mport=$("$TOOLS/tool_freeport" 1) || return
	setup_pair "$name" "$(signed_conf "$threads")
metrics_listen = 127.0.0.1:$mport" || return
	buy_start "$name-buy" co2 $cnt
	wait_orders 1
	pub_seq "$CO2" k 1 $cnt >>"$d/pub.err" 2>&1
	wait_exit "$BUY_PID" 30
	check "$name: worker_threads = $threads: sdpp buy verified the signed items and settled, exit 0 (status $WAIT_RC)" \
	    $WAIT_RC "$d/$name-buy.err" "$GLOG"
	first=$(check_items "$d/$name-buy.jsonl" k "$CO2" $cnt 2>"$d/$name-items")
	[ $? -eq 0 ] && [ "$first" = 1 ]
	check "$name: exactly k1..k$cnt, in order, seq 1..$cnt" $? "$d/$name-items"
	grep -qx "settled: $cnt items received, $((3 * cnt)) nanos due, $((3 * cnt)) nanos paid" \
	    "$d/$name-buy.err"
	check "$name: the buyer's statement: $cnt items, $((3 * cnt)) due and paid" $? "$d/$name-buy.err"
	wait_until 10 settled_all 1 && log_clean
	check "$name: the gateway settled the order; no sign_failed, no error in its log" $? "$GLOG"
	ledger_paid 1 $cnt
	check "$name: the ledger: $((cnt / 10)) invoices, $((3 * cnt)) paid, nothing owed; ledger verify" \
	    $? "$d/$name-show" "$d/$name-verify"
	# Who did the work: the threads signed every item and checked the
	# buyer's 40 ACKs and 40 payments (at least), or the loop did it all.
	http_get "$mport" /metrics >"$d/$name-metrics"
	if [ "$threads" -gt 0 ]; then
		awk -v t="$threads" -v n=$cnt '
		$1 == "sdpp_worker_threads" && $2 == t { a = 1 }
		$1 == "sdpp_worker_signed_total" && $2 >= n { b = 1 }
		$1 == "sdpp_worker_checked_total" && $2 >= n / 5 { c = 1 }
		$1 == "sdpp_worker_pending" && $2 == 0 { e = 1 }
		END { exit !(a && b && c && e) }' "$d/$name-metrics"
		check "$name: metrics: $threads worker threads signed >= $cnt items and checked >= $((cnt / 5)) buyer frames, none pending" \
		    $? "$d/$name-metrics"
	else
		grep -qx 'sdpp_worker_threads 0' "$d/$name-metrics" &&
		    grep -qx 'sdpp_worker_signed_total 0' "$d/$name-metrics" &&
		    grep -qx 'sdpp_worker_checked_total 0' "$d/$name-metrics"
		check "$name: metrics: no worker thread, nothing signed or checked off the loop" \
		    $? "$d/$name-metrics"
	fi
	teardown_pair
}

# 3. Twenty buyers of one product at once, two workers: each sample is a
# frame to sign for each of them, so many frames are at the workers at a
# time, and each buyer's output waits behind its own.
many_buyers() {
	local nb=20 cnt=100 i good=0 first
	setup_pair s3 "$(signed_conf 2)" || return
	for i in $(seq 1 $nb); do
		buy_start "s3-buy$i" co2 $cnt
		eval "pid_s3_$i=$BUY_PID"
	done
	wait_orders $nb
	check "s3: $nb orders placed" $? "$d/s3-buy1.err" "$GLOG"
	pub_seq "$CO2" m 1 $cnt >>"$d/pub.err" 2>&1
	for i in $(seq 1 $nb); do
		eval "BUY_PID=\$pid_s3_$i"
		wait_exit "$BUY_PID" 30
		first=$(check_items "$d/s3-buy$i.jsonl" m "$CO2" $cnt 2>>"$d/s3-items")
		[ $? -eq 0 ] && [ "$WAIT_RC" -eq 0 ] && [ "$first" = 1 ] && good=$((good + 1))
	done
	[ $good -eq $nb ]
	check "s3: all $nb buyers settled (exit 0) with m1..m$cnt in order ($good of $nb)" $? \
	    "$d/s3-items" "$d/s3-buy1.err" "$d/s3-buy$nb.err"
	wait_until 10 settled_all $nb && log_clean
	check "s3: the gateway settled all $nb orders; no sign_failed, no error in its log" $? "$GLOG"
	ledger_paid $nb $cnt
	check "s3: the ledger: $nb orders of $cnt items, each paid in full; ledger verify" $? \
	    "$d/s3-show" "$d/s3-verify"
	teardown_pair
}

# 4. Cuts mid-stream (tool_cutproxy, 300-3000 bytes a connection, close,
# reset and half-open): each resume resends the items the cut lost, whose
# first copies were at a worker or just written; the session signs the
# resends itself. Then one cut at a known place (tool_hostile hangs up
# after 3 of a burst of 20): the resume must resend what followed item 3.
cut() {
	local cnt=400 cuts resumed first sent pubpid held
	MPORT=$("$TOOLS/tool_freeport" 1) || return
	setup_pair s4 "$(signed_conf 2)
metrics_listen = 127.0.0.1:$MPORT" || return
	rm -f "$d/s4-proxy.port"
	"$TOOLS/tool_cutproxy" -p "$d/s4-proxy.port" -s "$SEED" -n 20 -b 300-3000 -m mixed 0 \
	    "127.0.0.1:$GP" 2>"$d/s4-proxy.err" &
	PROXY_PID=$!
	track $PROXY_PID
	wait_until 5 test -s "$d/s4-proxy.port"
	check "s4: tool_cutproxy started" $? "$d/s4-proxy.err"
	buyer_key
	"$SDPP" buy "127.0.0.1:$(cat "$d/s4-proxy.port" 2>/dev/null)" --seller-key "$PUB" \
	    --key "$d/buyer.key" --product co2 --count $cnt >"$d/s4-buy.jsonl" 2>"$d/s4-buy.err" &
	BUY_PID=$!
	track $BUY_PID
	wait_orders 1
	check "s4: the order is placed through the proxy" $? "$d/s4-buy.err" "$d/s4-proxy.err"
	pub_seq "$CO2" c 1 $cnt >>"$d/pub.err" 2>&1 &
	pubpid=$!
	track $pubpid
	wait_exit "$BUY_PID" 45
	check "s4: the signed order settles through the cuts, exit 0 (status $WAIT_RC)" $WAIT_RC \
	    "$d/s4-buy.err" "$d/s4-proxy.err" "$GLOG"
	wait_exit $pubpid 10 >/dev/null
	cuts=$(count_in "$d/s4-proxy.err" '^cut [0-9]+ ')
	resumed=$(count_in "$d/s4-buy.err" '^sdpp buy: resumed order [0-9a-f]{8}\.\.\. at item [0-9]+ ')
	[ "$cuts" -eq 20 ] && [ "$resumed" -ge 10 ] &&
	    [ "$(count_in "$GLOG" ' event=resumed order=')" -ge "$resumed" ]
	check "s4: 20 cuts ($cuts), $resumed resumes, each in the gateway's log" $? \
	    "$d/s4-proxy.err" "$d/s4-buy.err"
	first=$(check_items "$d/s4-buy.jsonl" c "$CO2" $cnt 2>"$d/s4-items")
	[ $? -eq 0 ] && [ "$first" = 1 ]
	check "s4: every item once, in order: c1..c$cnt, seq 1..$cnt" $? "$d/s4-items"
	grep -qx "settled: $cnt items received, $((3 * cnt)) nanos due, $((3 * cnt)) nanos paid" \
	    "$d/s4-buy.err"
	check "s4: the buyer's statement: $cnt items, $((3 * cnt)) due and paid" $? "$d/s4-buy.err"
	kill -TERM "$PROXY_PID"

	# The known cut: the first connection ends after 3 items while 17 more
	# were on their way; they come again, signed by the session, after
	# `resumed', and the buyer machine checks them before its exit.
	held=$(count_in "$GLOG" ' event=detached order=')
	"$H" -t $((20 * SLOW)) -w "$d/s4h.go" -o "$d/s4h.items" "127.0.0.1:$GP" "$PUB" \
	    resume co2 3 20 >"$d/s4h.out" 2>"$d/s4h.err" &
	BUY_PID=$!
	track $BUY_PID
	# Stopped until the gateway has taken all 20 samples: it has sent them
	# all when the tool reads item 3 and hangs up, however slow we are.
	wait_orders 2 && kill -STOP "$BUY_PID" && pub_seq "$CO2" h 1 20 >>"$d/pub.err" 2>&1 &&
	    wait_until 10 samples_at_least $((cnt + 20))
	kill -CONT "$BUY_PID"
	wait_until 10 has_at_least "$GLOG" ' event=detached order=' $((held + 1))
	check "s4: tool_hostile hung up after 3 items; the order waits for its resume" $? \
	    "$d/s4h.err" "$GLOG"
	: >"$d/s4h.go"
	wait_exit "$BUY_PID" 25
	sent=$(sed -n 's/^resumed seq=3 sent=\([0-9]*\) dropped=0$/\1/p' "$d/s4h.out")
	[ "$WAIT_RC" -eq 0 ] && [ "${sent:-0}" -eq 20 ] &&
	    [ "$(tr '\n' ';' <"$d/s4h.out")" = "resumed seq=3 sent=$sent dropped=0;items 20;exit ok;" ]
	check "s4: resumed at 3 of ${sent:-?} sent: items 4-20 resent, 20 in all, exit ok (status $WAIT_RC)" \
	    $? "$d/s4h.out" "$d/s4h.err" "$GLOG"
	[ "$(tr '\n' ' ' <"$d/s4h.items")" = "$(for i in $(seq 1 20); do printf '%s h%s ' "$i" "$i"; done)" ]
	check "s4: the resumed order's items are h1..h20, each once, in order" $? "$d/s4h.items"
	wait_until 10 settled_all 2 && log_clean
	check "s4: the gateway settled both orders; no sign_failed, no error in its log" $? "$GLOG"
	ledger_paid 1 $cnt && wait_until 10 closed_orders_at_least 2
	check "s4: the ledger: the $cnt-item order paid in full; ledger verify" $? \
	    "$d/s4-show" "$d/s4-verify"
	teardown_pair
}

# 5. worker_threads out of range or not a number: FILE:LINE errors naming
# it, from -t and from a start; auto is accepted and serves signed items.
bounds() {
	local v st rc
	for v in 65 lots; do
		gw_config "s5-$v" 1 1 "worker_threads = $v"
		(cd "$d" && "$GATEWAY" -t -c "s5-$v.ini" >"$d/s5-$v.out" 2>"$d/s5-$v.err")
		st=$?
		printf "s5-%s.ini:6: worker_threads is not \`auto' or an integer 0-64: \`%s'\n" "$v" "$v" \
		    >"$d/s5-$v.want"
		[ $st -eq 1 ] && cmp -s "$d/s5-$v.want" "$d/s5-$v.err" && [ ! -s "$d/s5-$v.out" ]
		rc=$? # the message's $(...) would reset $?
		check "s5: worker_threads = $v: -t exits 1 (status $st) with exactly $(cat "$d/s5-$v.want")" \
		    $rc "$d/s5-$v.err" "$d/s5-$v.out"
		(cd "$d" && timeout $((10 * SLOW)) "$GATEWAY" -c "s5-$v.ini" >"$d/s5-$v.start" 2>&1)
		st=$?
		[ $st -ne 0 ] && [ $st -ne 124 ] && grep -qF "$(cat "$d/s5-$v.want")" "$d/s5-$v.start" &&
		    [ ! -e "$d/s5-$v.key" ]
		check "s5: worker_threads = $v: the daemon refuses to start (status $st), makes no key" $? \
		    "$d/s5-$v.start"
	done
	setup_pair s5 "$(signed_conf auto)" || return
	buy_start s5-buy co2 20
	wait_orders 1
	pub_seq "$CO2" a 1 20 >>"$d/pub.err" 2>&1
	wait_exit "$BUY_PID" 20
	check_items "$d/s5-buy.jsonl" a "$CO2" 20 >/dev/null 2>"$d/s5-items" && [ "$WAIT_RC" -eq 0 ] &&
	    wait_until 10 settled_all 1 && log_clean
	check "s5: worker_threads = auto: the gateway starts and a signed order of 20 settles (status $WAIT_RC)" \
	    $? "$d/s5-items" "$d/s5-buy.err" "$GLOG"
	teardown_pair
}

two_workers() { one_buyer s1 2; }
loop_signs() { one_buyer s2a 0; }
one_worker() { one_buyer s2b 1; }

timed "1 one buyer, 2 workers" two_workers
timed "2a one buyer, the loop signs" loop_signs
timed "2b one buyer, 1 worker" one_worker
timed "3 twenty buyers" many_buyers
timed "4 cut and resumed" cut
timed "5 worker_threads bounds" bounds
sanitizer_clean "$d"/*.err
check "no sanitizer report from any buyer, proxy or tool" $? "$d"/*.err
finish
