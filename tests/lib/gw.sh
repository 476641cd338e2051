# Shared helpers of the gateway integration scripts (tests/check_gateway*.sh), sourced by bash.
#
# Each scenario runs a real mosquitto and a real sdpp-gateway on fresh free
# loopback ports (setup_pair), drives buyers against them, and ends with
# teardown_pair, which also asserts that the gateway is still running and
# that no sanitizer complained in its log. Every process started here is
# killed on exit, also when the script fails half-way, and every wait is
# bounded (scaled by $SLOW under ASan).
#
# Environment: SDPP_BIN (sdpp, sdpp-gateway) and SDPP_TOOLS (tool_*), as
# absolute paths from tests/run.sh; KEEP=1 keeps the work directory.

set -u

BIN=$(cd "${SDPP_BIN:-build/bin}" && pwd) || exit 1
TOOLS=$(cd "${SDPP_TOOLS:-build/tests}" && pwd) || exit 1
SDPP=$BIN/sdpp
GATEWAY=$BIN/sdpp-gateway
MOSQUITTO=$(PATH=$PATH:/usr/sbin:/sbin command -v mosquitto || echo /usr/sbin/mosquitto)
MOSQ_PUB=$(command -v mosquitto_pub || echo /usr/bin/mosquitto_pub)
# The repository root: run.sh starts scripts there; golden files live under it.
ROOT=$(pwd)

# ASan and UBSan builds run two to three times slower: every bound scales.
SLOW=1
if grep -qa '__asan_init' "$GATEWAY" 2>/dev/null; then
	SLOW=3
fi
SANITIZER_RE='ERROR: (Address|Leak)Sanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL'

# ---------------------------------------------------------------- TAP

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
# A check that fails because of a known product bug: still `not ok'.
todo() { n=$((n + 1)); echo "not ok $n - $1 # TODO $2"; }
# diag FILE...: show files as TAP comments (the last 40 lines of each).
diag() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || continue
		echo "# --- ${f#"$d"/}"
		tail -n 40 "$f" | sed 's/^/#   /'
	done
}
# check NAME STATUS [FILES...]: ok if STATUS is 0, else not ok with FILES shown.
check() {
	local name=$1 st=$2
	shift 2
	if [ "$st" -eq 0 ]; then
		ok "$name"
	else
		notok "$name"
		diag "$@"
	fi
}
finish() {
	echo "1..$n"
	[ "$fails" -eq 0 ]
}

# ---------------------------------------------------------------- processes

d=$(mktemp -d /tmp/sdpp-gw-test.XXXXXX) || exit 1
PIDS=()

# Every process goes into PIDS; cleanup stops them all (TERM, then KILL).
track() { PIDS+=("$1"); }

cleanup() {
	local p i alive
	trap - EXIT
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for i in $(seq 1 60); do
		alive=0
		for p in "${PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.05
	done
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${KEEP:-}" ]; then
		echo "# kept $d"
	else
		rm -rf "$d"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# now_ms: wall clock in milliseconds.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# timed NAME FUNCTION: runs a scenario and notes its duration as a comment.
timed() {
	local t0
	t0=$(now_ms)
	"$2"
	echo "# $1: $(($(now_ms) - t0)) ms"
}

# wait_until SECONDS CMD...: polls CMD every 50 ms; 0 once it succeeds, 1
# when SECONDS (times $SLOW) pass first.
wait_until() {
	local limit=$(($1 * SLOW * 20)) i=0
	shift
	while ! "$@"; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.05
	done
	return 0
}

# wait_exit PID SECONDS: waits for a child to end; its status in WAIT_RC
# (124 and killed if it outlives SECONDS times $SLOW). Returns WAIT_RC.
wait_exit() {
	local pid=$1 limit=$(($2 * SLOW * 20)) i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge $limit ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			WAIT_RC=124
			return $WAIT_RC
		fi
		sleep 0.05
	done
	wait "$pid"
	WAIT_RC=$?
	return $WAIT_RC
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
count_in() { # FILE PATTERN (extended regex): number of matching lines
	local c
	c=$(grep -cE -- "$2" "$1" 2>/dev/null)
	echo "${c:-0}"
}
has_at_least() { [ "$(count_in "$1" "$2")" -ge "$3" ]; }
lines_at_least() { [ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# ---------------------------------------------------------------- broker

# broker_start NAME PORT: mosquitto on 127.0.0.1:PORT; config and log in
# $d/NAME.conf and $d/NAME.log. Sets BROKER_PID.
broker_start() {
	local name=$1 port=$2
	cat >"$d/$name.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
log_timestamp false
EOF
	broker_run "$name" "$port"
}

# broker_run NAME PORT: (re)starts mosquitto on the config broker_start wrote.
broker_run() {
	"$MOSQUITTO" -c "$d/$1.conf" >>"$d/$1.log" 2>&1 &
	BROKER_PID=$!
	track $BROKER_PID
	wait_until 5 port_open "$2"
}

broker_stop() { # PID: TERM and wait
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 5 >/dev/null
}

# ---------------------------------------------------------------- gateway

# gw_config NAME MQPORT GWPORT GATEWAY_LINES [PRODUCT_SECTIONS]: writes
# $d/NAME.ini; key $d/NAME.key, ledger $d/NAME.db. Default products: co2
# (building/7/floor2/co2, price 3) and temp (building/7/floor2/temperature,
# price 2).
gw_config() {
	local name=$1 mq=$2 gp=$3 extra=$4
	local products=${5:-"[product co2]
topic = building/7/floor2/co2
price = 3
unit = ppm

[product temp]
topic = building/7/floor2/temperature
price = 2
unit = C"}
	cat >"$d/$name.ini" <<EOF
; $name: written by tests/lib/gw.sh
[gateway]
name = $name
listen = 127.0.0.1:$gp
key = $name.key
$extra

[mqtt]
uri = tcp://127.0.0.1:$mq
qos = 1

[ledger]
path = $name.db

$products
EOF
}

# gw_start NAME: starts the gateway on $d/NAME.ini, logging to $d/NAME.log,
# and waits until it listens and its MQTT subscriptions reached the broker
# log $d/NAME-mq.log. A restart waits for this run's lines, not the lines
# an earlier run left in both logs. Sets GW_PID.
gw_start() {
	local name=$1 nproducts conn subs
	# One subscription per distinct filter (products may share one).
	nproducts=$(sed -n 's/^topic *= *//p' "$d/$name.ini" | sort -u | wc -l)
	conn=$(count_in "$d/$name.log" 'source=mqtt event=connected')
	subs=$(count_in "$d/$name-mq.log" "^sdpp-gateway-$name 1 ")
	"$GATEWAY" -c "$d/$name.ini" -d 2>>"$d/$name.log" &
	GW_PID=$!
	track $GW_PID
	wait_until 10 has_at_least "$d/$name.log" 'source=mqtt event=connected' $((conn + 1)) &&
		wait_until 10 has_at_least "$d/$name-mq.log" "^sdpp-gateway-$name 1 " \
		    $((subs + nproducts))
}

# setup_pair NAME GATEWAY_LINES [PRODUCT_SECTIONS]: fresh ports, a broker
# ($d/NAME-mq.*) and a gateway ($d/NAME.*). Sets G (name), MQ and GP
# (ports), GLOG, DB, PUB (seller's public key file), GW_PID, BROKER_PID.
# Reports one TAP line for the start.
setup_pair() {
	local ports
	G=$1
	ports=$("$TOOLS/tool_freeport" 2) || {
		notok "$G: free ports"
		return 1
	}
	MQ=$(echo "$ports" | sed -n 1p)
	GP=$(echo "$ports" | sed -n 2p)
	GLOG=$d/$G.log
	DB=$d/$G.db
	PUB=$d/$G.key.pub
	gw_config "$G" "$MQ" "$GP" "$2" "${3:-}"
	if broker_start "$G-mq" "$MQ" && gw_start "$G"; then
		ok "$G: broker on :$MQ and gateway on :$GP started"
		return 0
	fi
	notok "$G: broker on :$MQ and gateway on :$GP started"
	diag "$d/$G-mq.log" "$GLOG"
	return 1
}

# sanitizer_clean FILE...: 0 if no sanitizer report is in any of them.
sanitizer_clean() {
	! grep -qE "$SANITIZER_RE" "$@" 2>/dev/null
}

# gw_sane: TAP lines: the gateway still runs and its log is clean.
gw_sane() {
	if kill -0 "$GW_PID" 2>/dev/null; then
		ok "$G: the gateway is still running"
	else
		notok "$G: the gateway is still running"
		diag "$GLOG"
	fi
	sanitizer_clean "$GLOG" && ok "$G: no sanitizer report in the gateway log" ||
		{ notok "$G: no sanitizer report in the gateway log"; diag "$GLOG"; }
}

# gw_stop: SIGTERM; the gateway must exit 0 within its 10 s stop timeout.
# Returns its status.
gw_stop() {
	kill -TERM "$GW_PID" 2>/dev/null
	wait_exit "$GW_PID" 15
}

# teardown_pair: gw_sane, then a clean stop of both; TAP lines.
teardown_pair() {
	gw_sane
	gw_stop
	check "$G: the gateway stops cleanly on SIGTERM (status $WAIT_RC)" $WAIT_RC "$GLOG"
	sanitizer_clean "$GLOG" || { notok "$G: no sanitizer report at exit"; diag "$GLOG"; }
	broker_stop "$BROKER_PID"
}

# ---------------------------------------------------------------- buyers

# The buyers' identity (one for all; every order has its own nonce).
buyer_key() {
	[ -e "$d/buyer.key" ] || "$SDPP" keygen -o "$d/buyer.key" >/dev/null
}

# buy_start OUT PRODUCT COUNT [ARGS...]: `sdpp buy' in the background,
# items to OUT.jsonl, stderr to OUT.err; sets BUY_PID.
buy_start() {
	local out=$1 product=$2 count=$3
	shift 3
	buyer_key
	"$SDPP" buy "127.0.0.1:$GP" --seller-key "$PUB" --key "$d/buyer.key" \
	    --product "$product" --count "$count" "$@" >"$d/$out.jsonl" 2>"$d/$out.err" &
	BUY_PID=$!
	track $BUY_PID
}

# sql QUERY: one query on the gateway's ledger (WAL: readers never block it).
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }

# http_get PORT PATH: the body of a plain HTTP/1.0 GET on 127.0.0.1 (the
# gateway's metrics and health endpoints).
http_get() {
	local body
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
	body=$(timeout $((10 * SLOW)) cat <&3)
	exec 3<&-
	printf '%s\n' "$body" | sed '1,/^\r*$/d'
}
sql_at_least() { # QUERY N: the query's single number is at least N
	local v
	v=$(sql "$1" 2>/dev/null) || return 1
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}
# orders_at_least N: N orders are recorded, so their session keys are out
# and a sample published now is sold to them (samples from before are not).
orders_at_least() { sql_at_least "SELECT count(*) FROM records WHERE kind = 'order'" "$1"; }
wait_orders() { wait_until 10 orders_at_least "$1"; }
last_order() { sql "SELECT order_id FROM records WHERE kind = 'order' ORDER BY id DESC LIMIT 1"; }
closed_orders_at_least() { sql_at_least "SELECT count(*) FROM records WHERE kind = 'close'" "$1"; }

# pub TOPIC PAYLOAD: one message at QoS 1 (returns once the broker has it).
pub() { timeout $((10 * SLOW)) "$MOSQ_PUB" -h 127.0.0.1 -p "$MQ" -q 1 -t "$1" -m "$2"; }
pub_file() { timeout $((10 * SLOW)) "$MOSQ_PUB" -h 127.0.0.1 -p "$MQ" -q 1 -t "$1" -f "$2"; }
# pub_seq TOPIC PREFIX FIRST COUNT [RATE]: PREFIX<FIRST> ... through tool_publish.
pub_seq() { "$TOOLS/tool_publish" "$MQ" "$1" "$2" "$3" "$4" "${5:-0}"; }

# check_items FILE PREFIX TOPIC COUNT: FILE has exactly COUNT items, seq 1..COUNT
# in order, from TOPIC, with payloads PREFIX<k>, PREFIX<k+1>, ... (a
# contiguous run of what was published). Prints the first k; 1 on mismatch.
check_items() {
	awk -F'"' -v pre="$2" -v topic="$3" -v want="$4" '
	{
		seq = $3; gsub(/[^0-9]/, "", seq)
		p = $12
		if ($2 != "seq" || $6 != topic || $10 != "payload" || index(p, pre) != 1) {
			print "line " NR ": " $0 > "/dev/stderr"; bad = 1; exit
		}
		k = substr(p, length(pre) + 1) + 0
		if (NR == 1) first = k
		if (seq != NR || k != first + NR - 1) {
			print "line " NR ": seq " seq ", payload " p " after " pre first > "/dev/stderr"
			bad = 1; exit
		}
	}
	END {
		if (bad) exit 1
		if (NR != want) { print NR " items, wanted " want > "/dev/stderr"; exit 1 }
		print first
	}' "$1"
}

# json_escape: what `sdpp buy' writes for a text payload (\ " and controls escaped).
json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
