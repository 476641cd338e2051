#!/bin/bash
# Who may buy (TAP): allow and deny lists of buyer keys (a refused key gets not_allowed and nothing is
# recorded; the lists follow SIGHUP; a bad list is a file:line error at -t and a refused reload), the
# per-address limits of connections at once and new connections a second, and an honest buyer served
# while 5,000 sockets from one address are refused. Real broker, gateway, buyers and sockets.
. "$(dirname "$0")/lib/gw.sh"

FLOOD=$TOOLS/tool_flood

# refused_metric PORT REASON: sdpp_access_refused_total{reason=REASON} now.
refused_metric() {
	http_get "$1" /metrics | sed -n "s/^sdpp_access_refused_total{reason=\"$2\"} //p"
}
buyers_metric() { http_get "$1" /metrics | sed -n 's/^sdpp_buyers_connected //p'; }
buyers_at_most() { local v; v=$(buyers_metric "$1"); [ -n "$v" ] && [ "$v" -le "$2" ]; }
records() { sql "SELECT count(*) FROM records"; }
newkey() { "$SDPP" keygen -o "$d/$1.key" >/dev/null 2>&1 && "$SDPP" pubkey "$d/$1.key"; }

# settled: every recorded order has its close record (nothing still on its way).
settled() {
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'close'")" = \
	    "$(sql "SELECT count(*) FROM records WHERE kind = 'order'")" ]
}
# buy NAME KEY: one co2 item bought with KEY (the order, one sample, exit);
# status in BUY_RC, stderr in $d/NAME.err; returns once the ledger settled.
buy() {
	local orders pid
	orders=$(sql "SELECT count(*) FROM records WHERE kind = 'order'")
	"$SDPP" buy "127.0.0.1:$GP" --seller-key "$PUB" --key "$d/$2.key" --product co2 --count 1 \
	    >"$d/$1.jsonl" 2>"$d/$1.err" &
	pid=$!
	track $pid
	# Refused at the order (the buyer is gone), or the order recorded:
	# then a sample for it.
	order_or_gone() { orders_at_least $((orders + 1)) || ! kill -0 $pid 2>/dev/null; }
	wait_until 10 order_or_gone
	if orders_at_least $((orders + 1)); then
		pub building/7/floor2/co2 "$1" >/dev/null
	fi
	wait_exit $pid 10
	BUY_RC=$WAIT_RC
	wait_until 10 settled
}
# refused NAME KEY: the buy fails with the seller's not_allowed, and the
# ledger holds no more records than before.
refused() {
	local before after
	before=$(records)
	buy "$@"
	after=$(records)
	[ "$BUY_RC" -ne 0 ] && grep -q 'not_allowed' "$d/$1.err" && [ "$before" = "$after" ]
}
reloads_ok() { has_at_least "$GLOG" 'event=reload result=ok' "$1"; }

# 1. The lists: deny, then allow and deny after a reload, a list edited in
# place and reloaded, a bad list at reload and at -t, and the counters.
lists() {
	local mport a b c st
	mport=$("$TOOLS/tool_freeport" 1)
	a=$(newkey alice) b=$(newkey bob) c=$(newkey carol)
	printf '# denied\n%s  # bob\n' "$b" >"$d/a1.deny"
	setup_pair a1 "deny_keys = a1.deny
metrics_listen = 127.0.0.1:$mport" || return
	local pid=$GW_PID
	refused a1-bob1 bob
	check "a1: a key on deny_keys is refused with not_allowed, and nothing is recorded" $? \
	    "$d/a1-bob1.err" "$GLOG"
	buy a1-alice1 alice
	check "a1: a key not denied buys (no allow list: every other key may)" "$BUY_RC" \
	    "$d/a1-alice1.err" "$GLOG"

	printf '%s\n%s # bob: denied all the same\n' "$a" "$b" >"$d/a1.allow"
	gw_config a1 "$MQ" "$GP" "deny_keys = a1.deny
allow_keys = a1.allow
metrics_listen = 127.0.0.1:$mport"
	kill -HUP "$GW_PID"
	wait_until 10 reloads_ok 1
	check "a1: the reload that adds allow_keys is taken" $? "$GLOG"
	refused a1-carol1 carol
	check "a1: a key not on allow_keys is refused with not_allowed" $? "$d/a1-carol1.err"
	refused a1-bob2 bob
	check "a1: deny_keys wins over allow_keys" $? "$d/a1-bob2.err"
	buy a1-alice2 alice
	check "a1: a key on allow_keys buys" "$BUY_RC" "$d/a1-alice2.err" "$GLOG"

	# The same files, other keys: a reload reads them again.
	printf '%s\n' "$a" >>"$d/a1.deny"
	kill -HUP "$GW_PID"
	wait_until 10 reloads_ok 2
	refused a1-alice3 alice
	st=$?
	[ "$GW_PID" = "$pid" ] && kill -0 "$pid" 2>/dev/null
	check "a1: after SIGHUP the edited deny list refuses alice, with no restart" $((st + $?)) \
	    "$d/a1-alice3.err" "$GLOG"
	grep -q 'changed=".*gateway.deny_keys (its keys)' "$GLOG"
	check "a1: the reload's log line says the deny list's keys changed" $? "$GLOG"

	printf '%s\n# two good lines, then a bad one\nnot-a-key\n' "$a" >"$d/a1.allow"
	kill -HUP "$GW_PID"
	wait_until 10 has_at_least "$GLOG" 'event=reload result=refused' 1 &&
		grep -q "allow_keys: $d/a1.allow:3: not a buyer key" "$GLOG"
	check "a1: a bad allow list refuses the reload with its file:line" $? "$GLOG"
	refused a1-carol2 carol
	check "a1: the running lists stay: carol is still refused" $? "$d/a1-carol2.err"
	"$GATEWAY" -t -c "$d/a1.ini" >"$d/a1-t.out" 2>"$d/a1-t.err"
	st=$?
	[ "$st" -eq 1 ] && grep -q "a1.ini:[0-9]*: allow_keys: $d/a1.allow:3: not a buyer key" \
	    "$d/a1-t.err"
	check "a1: -t reports the bad list as file:line and exits 1 (status $st)" $? "$d/a1-t.err"

	[ "$(refused_metric "$mport" deny_list)" = 3 ] &&
		[ "$(refused_metric "$mport" allow_list)" = 2 ]
	check "a1: sdpp_access_refused_total counts 3 deny_list and 2 allow_list refusals" $? \
	    "$GLOG"
	teardown_pair
}

# flood NAME ARGS...: tool_flood against the gateway; its line in $d/NAME.out.
flood() {
	local name=$1
	shift
	"$FLOOD" "$@" "127.0.0.1:$GP" "$PUB" >"$d/$name.out" 2>"$d/$name.err"
}
# field NAME KEY: KEY=value of the flood's line.
field() { sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" "$d/$1.out"; }

# 2. At most N connections at once per address; other addresses apart;
# a closed connection makes room again.
concurrent() {
	local mport
	mport=$("$TOOLS/tool_freeport" 1)
	setup_pair a2 "max_conns_per_address = 4
max_new_conns_per_second = 0
metrics_listen = 127.0.0.1:$mport" || return
	mkfifo "$d/a2-hold"
	"$FLOOD" -s 127.0.0.3 -n 5 -p 5 -h "127.0.0.1:$GP" "$PUB" <"$d/a2-hold" >"$d/a2-f1.out" \
	    2>"$d/a2-f1.err" &
	local fp=$!
	track $fp
	exec 8>"$d/a2-hold"
	wait_until 10 lines_at_least "$d/a2-f1.out" 1
	grep -q 'opened=5 admitted=4 too_many_connections=1 rate_limited=0 busy=0 other=0' \
	    "$d/a2-f1.out"
	check "a2: of 5 connections from one address, 4 are served and the 5th gets too_many_connections" \
	    $? "$d/a2-f1.out" "$d/a2-f1.err" "$GLOG"
	flood a2-f2 -s 127.0.0.2 -n 4 -p 4
	grep -q 'opened=4 admitted=4 ' "$d/a2-f2.out"
	check "a2: meanwhile another address gets its own 4" $? "$d/a2-f2.out" "$d/a2-f2.err"
	exec 8>&-
	wait_exit $fp 10
	wait_until 10 buyers_at_most "$mport" 0
	flood a2-f3 -s 127.0.0.3 -n 4 -p 4
	grep -q 'opened=4 admitted=4 ' "$d/a2-f3.out"
	check "a2: once they closed, the first address gets 4 again" $? "$d/a2-f3.out" "$GLOG"
	[ "$(refused_metric "$mport" too_many_connections)" = 1 ]
	check "a2: sdpp_access_refused_total{reason=\"too_many_connections\"} is 1" $?
	teardown_pair
}

# 3. New connections a second per address: a bucket of 2, refilled at 2 a
# second. Refusals cost no token; a second later there is room again.
rate() {
	local mport admitted limited ms
	mport=$("$TOOLS/tool_freeport" 1)
	setup_pair a3 "max_conns_per_address = 0
max_new_conns_per_second = 2
metrics_listen = 127.0.0.1:$mport" || return
	flood a3-f1 -s 127.0.0.3 -n 20 -p 20
	admitted=$(field a3-f1 admitted) limited=$(field a3-f1 rate_limited) ms=$(field a3-f1 elapsed_ms)
	# 2 at once, and at most 2 a second for as long as the flood took.
	[ -n "$admitted" ] && [ "$admitted" -ge 2 ] && [ "$admitted" -le $((2 + 2 * ms / 1000 + 1)) ] &&
		[ $((admitted + limited)) -eq 20 ]
	check "a3: of 20 connections at once, 2 (plus 2 a second) are served, the rest get rate_limited" \
	    $? "$d/a3-f1.out" "$d/a3-f1.err"
	# Tries until the bucket has a token again; its refusals count too.
	a3_again() {
		flood a3-f2 -s 127.0.0.3 -n 1
		limited=$((limited + $(field a3-f2 rate_limited)))
		grep -q 'admitted=1 ' "$d/a3-f2.out"
	}
	wait_until 5 a3_again
	check "a3: a second later the address connects again" $? "$d/a3-f2.out"
	[ "$(refused_metric "$mport" rate_limited)" = "$limited" ]
	check "a3: sdpp_access_refused_total{reason=\"rate_limited\"} counts them ($limited)" $?
	teardown_pair
}

# 4. The issue's attack: 5,000 sockets from one address, held open where
# admitted, while an honest buyer from another address buys.
flood_and_buyer() {
	local mport rss0 rss1 lines
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
		ulimit -n 4096 2>/dev/null || {
			ok "a4: # SKIP the flood needs 4096 file descriptors (ulimit -n is $(ulimit -n))"
			return
		}
	fi
	mport=$("$TOOLS/tool_freeport" 1)
	setup_pair a4 "metrics_listen = 127.0.0.1:$mport" || return
	newkey honest >/dev/null
	rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status")
	mkfifo "$d/a4-hold"
	"$FLOOD" -s 127.0.0.3 -n 5000 -p 1000 -h "127.0.0.1:$GP" "$PUB" <"$d/a4-hold" \
	    >"$d/a4-flood.out" 2>"$d/a4-flood.err" &
	local fp=$!
	track $fp
	exec 8>"$d/a4-hold"
	wait_until 60 lines_at_least "$d/a4-flood.out" 1
	grep -q 'opened=5000 admitted=64 too_many_connections=4936 rate_limited=0 busy=0 other=0' \
	    "$d/a4-flood.out"
	check "a4: of 5,000 sockets from one address, 64 (the default limit) are held, 4,936 get a signed too_many_connections" \
	    $? "$d/a4-flood.out" "$d/a4-flood.err" "$GLOG"
	# While the flood holds what it got (without the limit: max_buyers).
	buy a4-honest honest
	check "a4: meanwhile an honest buyer from another address buys" "$BUY_RC" \
	    "$d/a4-honest.err" "$GLOG"
	[ "$(wc -l <"$d/a4-honest.jsonl")" -eq 1 ]
	check "a4: it got its item" $? "$d/a4-honest.jsonl"
	rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status")
	echo "# a4: $(cat "$d/a4-flood.out"); gateway RSS ${rss0} kB before, ${rss1} kB with the flood held"
	[ "$(refused_metric "$mport" too_many_connections)" = 4936 ] && buyers_at_most "$mport" 64
	check "a4: the metrics count 4,936 refusals, and 64 buyers connected" $?
	lines=$(count_in "$GLOG" 'event=refused .*reason=too_many_connections')
	[ "$lines" -ge 1 ] && [ "$lines" -le $(($(field a4-flood elapsed_ms) / 1000 + 2)) ]
	check "a4: the refusals are logged at most once a second ($lines lines)" $? "$GLOG"
	exec 8>&-
	wait_exit $fp 10
	teardown_pair
}

timed "1 lists" lists
timed "2 connections at once" concurrent
timed "3 new connections a second" rate
timed "4 a flood and an honest buyer" flood_and_buyer
finish
