#!/bin/bash
# tool_cutproxy (TAP), the connection-cutting proxy of the resume tests (issue 15): it forwards
# bytes untouched; it cuts a connection after exactly its budget in the direction that reached it,
# by FIN, RST or half-open as -m says; -n caps the cuts; a seed repeats them. Its own -E/-D target
# serves: the tests use no socat or python.
. "$(dirname "$0")/lib/gw.sh"

CP=$TOOLS/tool_cutproxy
# An ASan build of the tool (the gateway may not be one) runs slower too.
grep -qa '__asan_init' "$CP" 2>/dev/null && SLOW=3

# start_target NAME ARGS...: a test target (tool_cutproxy -E or -D ARGS) on
# a free port, logging to $d/NAME.err. Sets TPORT and TARGET_PID.
start_target() {
	local name=$1
	shift
	TPORT=
	"$CP" "$@" -p "$d/$name.port" 0 2>"$d/$name.err" &
	TARGET_PID=$!
	track $TARGET_PID
	wait_until 5 test -s "$d/$name.port" && TPORT=$(cat "$d/$name.port")
}

# start_proxy NAME ARGS...: the proxy (ARGS are its options) from a free
# port to 127.0.0.1:$TPORT, logging to $d/NAME.err. Sets PPORT and PROXY_PID.
start_proxy() {
	local name=$1
	shift
	PPORT=
	"$CP" "$@" -p "$d/$name.port" 0 "127.0.0.1:$TPORT" 2>"$d/$name.err" &
	PROXY_PID=$!
	track $PROXY_PID
	wait_until 5 test -s "$d/$name.port" && PPORT=$(cat "$d/$name.port")
}

# stop PID: SIGTERM, then its exit status in WAIT_RC.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 10
}

# talk PORT IN OUT MAX: connects to 127.0.0.1:PORT, sends the file IN and
# reads into OUT until MAX bytes or the end (bounded); head's stderr goes
# to OUT.err, its status to TALK_RC.
talk() {
	local wpid
	exec 3<>"/dev/tcp/127.0.0.1/$1" || {
		TALK_RC=255
		return 1
	}
	cat "$2" >&3 2>/dev/null &
	wpid=$!
	timeout $((10 * SLOW)) head -c "$4" <&3 >"$3" 2>"$3.err"
	TALK_RC=$?
	exec 3<&-
	wait $wpid
	return 0
}

# Frames of the resume tests are lines: these 1,000 bytes have no line end at
# byte 100, so a cut there is mid-line.
seq 1 400 | head -c 1000 >"$d/k1000"
seq 1 2000 | head -c 4000 >"$d/k4000"
head -c 1048576 /dev/urandom >"$d/m1"
head -c 262144 /dev/urandom >"$d/k256"

s_passthrough() {
	local i bad=0 rc pids=()
	start_target t1 -E && start_proxy p1 -n 0 -b 1000000000000
	check "t1: target and proxy listen (ports ${TPORT:-?} ${PPORT:-?})" $? "$d/t1.err" "$d/p1.err"
	talk "$PPORT" "$d/m1" "$d/t1-m1.out" 1048576
	[ "$TALK_RC" -eq 0 ] && cmp -s "$d/m1" "$d/t1-m1.out"
	check "t1: 1 MiB passes through and back unchanged (head status $TALK_RC)" $? \
	    "$d/t1-m1.out.err" "$d/p1.err"
	for i in 1 2 3; do
		(talk "$PPORT" "$d/k256" "$d/t1-c$i.out" 262144) &
		pids+=($!)
	done
	wait "${pids[@]}"
	wait_until 5 has_at_least "$d/t1.err" 'end=eof' 4
	for i in 1 2 3; do
		cmp -s "$d/k256" "$d/t1-c$i.out" || bad=1
	done
	check "t1: three connections at once each get their 256 KiB back unchanged" $bad \
	    "$d/t1.err" "$d/p1.err"
	stop "$PROXY_PID"
	rc=$WAIT_RC
	[ "$rc" -eq 0 ] && ! grep -q '^cut ' "$d/p1.err" &&
	    grep -qx 'cuts=0 conns=4 bytes_up=1835008 bytes_down=1835008' "$d/p1.err"
	check "t1: no cut; SIGTERM exits 0 (status $rc) with the summary of the 4 connections" $? \
	    "$d/p1.err"
	stop "$TARGET_PID"
}

s_budget() {
	local rc
	# Up: the client's 1,000 bytes reach a budget of 100.
	start_target t2 -D && start_proxy p2 -b 100-100
	check "t2: target (-D) and proxy -b 100-100 listen" $? "$d/t2.err" "$d/p2.err"
	talk "$PPORT" "$d/k1000" "$d/t2.out" 1000
	rc=$TALK_RC
	grep -qx 'cut 1 conn=1 after=100 dir=up mode=close' "$d/p2.err"
	check "t2: the cut is logged as after=100 dir=up" $? "$d/p2.err"
	wait_until 5 grep -qx 'target conn=1 in=100 out=0 end=eof' "$d/t2.err"
	check "t2: the target got exactly 100 of the 1,000 bytes (mid-line), then a FIN" $? \
	    "$d/t2.err"
	[ "$rc" -eq 0 ] && [ ! -s "$d/t2.out" ]
	check "t2: the client reads a clean end (head status $rc)" $? "$d/t2.out.err"
	stop "$PROXY_PID"
	stop "$TARGET_PID"

	# Down: the target's 1,000-byte greeting reaches it first.
	start_target t3 -D -G 1000 && start_proxy p3 -b 100
	check "t3: target (-D -G 1000) and proxy -b 100 listen" $? "$d/t3.err" "$d/p3.err"
	talk "$TPORT" /dev/null "$d/t3-direct.out" 100
	talk "$PPORT" /dev/null "$d/t3.out" 1000
	rc=$TALK_RC
	[ "$rc" -eq 0 ] && [ "$(wc -c <"$d/t3.out")" -eq 100 ] &&
	    cmp -s "$d/t3-direct.out" "$d/t3.out"
	check "t3: the client gets the greeting's first 100 bytes, then the end (status $rc)" $? \
	    "$d/t3.out.err" "$d/p3.err"
	grep -qx 'cut 1 conn=1 after=100 dir=down mode=close' "$d/p3.err"
	check "t3: the cut is logged as after=100 dir=down" $? "$d/p3.err"
	stop "$PROXY_PID"
	stop "$TARGET_PID"
}

s_limit() {
	local i bad=0
	start_target t4 -E && start_proxy p4 -n 3 -b 100-100
	check "t4: target (-E) and proxy -n 3 -b 100-100 listen" $? "$d/t4.err" "$d/p4.err"
	for i in 1 2 3 4 5; do
		talk "$PPORT" "$d/k1000" "$d/t4-$i.out" 1000
	done
	wait_until 5 has_at_least "$d/t4.err" 'end=' 5
	[ "$(count_in "$d/p4.err" '^cut ')" -eq 3 ] &&
	    [ "$(grep '^cut ' "$d/p4.err" | sed 's/.*conn=\([0-9]*\) .*/\1/' | tr '\n' ' ')" = "1 2 3 " ]
	check "t4: exactly three cuts, of connections 1-3" $? "$d/p4.err"
	for i in 1 2 3; do
		grep -q "^target conn=$i in=100 " "$d/t4.err" || bad=1
	done
	for i in 4 5; do
		grep -q "^target conn=$i in=1000 out=1000 end=eof" "$d/t4.err" &&
		    cmp -s "$d/k1000" "$d/t4-$i.out" || bad=1
	done
	check "t4: the target got 100 bytes on each cut one; connections 4 and 5 echo all 1,000" \
	    $bad "$d/t4.err"
	stop "$PROXY_PID"

	# Two connections open at once under -n 1: the second reaches its budget
	# after the first was cut, and passes.
	start_proxy p4b -n 1 -b 100
	exec 4<>"/dev/tcp/127.0.0.1/$PPORT" 5<>"/dev/tcp/127.0.0.1/$PPORT"
	wait_until 5 grep -qx 'target conn=7 open' "$d/t4.err"
	cat "$d/k1000" >&4
	timeout $((10 * SLOW)) cat <&4 >"$d/t4b-1.out" 2>&1
	cat "$d/k1000" >&5
	timeout $((10 * SLOW)) head -c 1000 <&5 >"$d/t4b-2.out" 2>&1
	exec 4<&- 5<&-
	[ "$(count_in "$d/p4b.err" '^cut ')" -eq 1 ] && cmp -s "$d/k1000" "$d/t4b-2.out"
	check "t4: -n 1 with two connections open at once cuts one and passes the other" $? \
	    "$d/p4b.err" "$d/t4b-2.out"
	stop "$PROXY_PID"
	stop "$TARGET_PID"
}

s_reset() {
	local rc
	start_target t5 -E && start_proxy p5 -m reset -b 100-100
	check "t5: target (-E) and proxy -m reset listen" $? "$d/t5.err" "$d/p5.err"
	talk "$PPORT" "$d/k1000" "$d/t5.out" 1000
	rc=$TALK_RC
	[ "$rc" -ne 0 ] && grep -q 'Connection reset by peer' "$d/t5.out.err"
	check "t5: the client's read fails with ECONNRESET (head status $rc)" $? "$d/t5.out.err"
	wait_until 5 grep -q '^target conn=1 .*end=reset' "$d/t5.err"
	check "t5: the target's side is reset too" $? "$d/t5.err"
	grep -qx 'cut 1 conn=1 after=100 dir=up mode=reset' "$d/p5.err"
	check "t5: the cut is logged with mode=reset" $? "$d/p5.err"
	stop "$PROXY_PID"
	stop "$TARGET_PID"
}

s_halfopen() {
	local rc
	start_target t6 -E && start_proxy p6 -m halfopen -n 1 -b 100-100
	check "t6: target (-E) and proxy -m halfopen -n 1 listen" $? "$d/t6.err" "$d/p6.err"
	talk "$PPORT" "$d/k1000" "$d/t6-1.out" 1000
	rc=$TALK_RC
	[ "$rc" -eq 0 ] && [ ! -s "$d/t6-1.out" ] &&
	    grep -qx 'cut 1 conn=1 after=100 dir=up mode=halfopen' "$d/p6.err"
	check "t6: the client's side ends (status $rc) at the cut, logged mode=halfopen" $? \
	    "$d/t6-1.out.err" "$d/p6.err"
	# A whole second connection later (its end seen by the target), the first
	# is still open at the target: the proxy sent it no FIN.
	talk "$PPORT" "$d/k1000" "$d/t6-2.out" 1000
	wait_until 5 grep -qx 'target conn=2 in=1000 out=1000 end=eof' "$d/t6.err" &&
	    grep -qx 'target conn=1 open' "$d/t6.err" && ! grep -q '^target conn=1 in=' "$d/t6.err"
	check "t6: the target's side of the cut stays open (the echo read and dropped)" $? \
	    "$d/t6.err"
	stop "$PROXY_PID"
	rc=$WAIT_RC
	[ "$rc" -eq 0 ] && grep -qx 'cuts=1 conns=2 bytes_up=1100 bytes_down=1000' "$d/p6.err"
	check "t6: SIGTERM exits 0 (status $rc); nothing of the cut one went down" $? "$d/p6.err"
	wait_until 5 grep -qx 'target conn=1 in=100 out=100 end=eof' "$d/t6.err"
	check "t6: the target sees the end only when the proxy goes" $? "$d/t6.err"
	stop "$TARGET_PID"
}

s_refused() {
	local port rc
	port=$("$TOOLS/tool_freeport") || port=1
	TPORT=$port
	start_proxy p7 -b 100
	check "t7: proxy to a closed port :$port listens" $? "$d/p7.err"
	talk "$PPORT" "$d/k1000" "$d/t7.out" 1000
	rc=$TALK_RC
	[ "$rc" -ne 124 ] && [ ! -s "$d/t7.out" ] && grep -q '^conn=1 target: Connection refused' \
	    "$d/p7.err"
	check "t7: a refusing target closes the client's side (head status $rc)" $? "$d/p7.err"
	stop "$PROXY_PID"
	rc=$WAIT_RC
	[ "$rc" -eq 0 ] && grep -qx 'cuts=0 conns=1 bytes_up=0 bytes_down=0' "$d/p7.err"
	check "t7: and the proxy stays up: SIGTERM exits 0 with its summary (status $rc)" $? \
	    "$d/p7.err"
}

# seeded NAME ARGS...: six connections of 4,000 bytes through a mixed-mode
# proxy with budgets of 1-3000 (all cut); their cut lines into $d/NAME.cuts.
seeded() {
	local name=$1 i
	shift
	start_proxy "$name" -m mixed -b 1-3000 "$@" || return 1
	for i in 1 2 3 4 5 6; do
		talk "$PPORT" "$d/k4000" "$d/$name-$i.out" 4000
	done
	stop "$PROXY_PID"
	grep '^cut ' "$d/$name.err" >"$d/$name.cuts"
}

s_seed() {
	local s
	start_target t8 -E
	seeded p8a
	s=$(sed -n 's/^seed=\([0-9]*\)$/\1/p' "$d/p8a.err")
	[ -n "$s" ] && [ "$(wc -l <"$d/p8a.cuts")" -ge 6 ]
	check "t8: a clock-seeded run prints seed=${s:-?} and cuts" $? "$d/p8a.err"
	seeded p8b -s "${s:-0}"
	cmp -s "$d/p8a.cuts" "$d/p8b.cuts" && grep -qx "seed=${s:-0}" "$d/p8b.err"
	check "t8: -s $s repeats the same cuts (points and modes)" $? "$d/p8a.cuts" "$d/p8b.cuts"
	seeded p8c -s "$((${s:-0} / 2 + 1))"
	! cmp -s "$d/p8a.cuts" "$d/p8c.cuts"
	check "t8: another seed cuts elsewhere" $? "$d/p8a.cuts" "$d/p8c.cuts"
	stop "$TARGET_PID"
}

timed passthrough s_passthrough
timed budget s_budget
timed limit s_limit
timed reset s_reset
timed halfopen s_halfopen
timed refused s_refused
timed seed s_seed
sanitizer_clean "$d"/*.err
check "no sanitizer report from the tool" $? "$d"/*.err
finish
