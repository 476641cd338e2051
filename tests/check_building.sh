#!/bin/bash
# A simulated zigbee2mqtt building (TAP): tool_building against a real mosquitto publishes 200
# devices' states from the office trace (the numbers' exact text) and 1,200 retained discovery
# configs that our own parser reads; --change, --properties and --remove do what they say.
. "$(dirname "$0")/lib/gw.sh"

B=$TOOLS/tool_building
DATA=${SDPP_OCCUPANCY:-../shared/data/occupancy/datatest.txt}
MOSQ_SUB=$(command -v mosquitto_sub || echo /usr/bin/mosquitto_sub)
DEVICES=200
ROUNDS=2
Z=zigbee2mqtt
HA=homeassistant

skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# retained FILTER OUT: every retained message under FILTER, "TOPIC<TAB>PAYLOAD" lines.
retained() {
	timeout $((10 * SLOW)) "$MOSQ_SUB" -h 127.0.0.1 -p "$MQ" -t "$1" --retained-only \
	    -W $((2 * SLOW)) -F '%t\t%p' >"$2" 2>/dev/null
	return 0 # -W ends it with status 27
}

# 1. The command line: a clean error, --help, and 77 when the trace is absent.
options() {
	local out st
	out=$("$B" --devices abc 2>&1)
	st=$?
	[ $st -eq 1 ] && [ "$out" = "tool_building: --devices: not a number: \`abc'" ]
	check "options: --devices abc: status 1 and one clean line (got $st: $out)" $?
	out=$("$B" --devices 0 --broker 127.0.0.1:1 2>&1)
	[ $? -eq 1 ] && [ "$out" = "tool_building: --devices: not in 1..100000: \`0'" ]
	check "options: --devices 0 is out of range ($out)" $?
	"$B" --help | grep -q -- '--topics-per-device\|--announce'
	check "options: --help lists the options" $?
	out=$("$B" --broker 127.0.0.1:1 --rounds 1 --data "$d/none.txt" 2>&1)
	st=$?
	[ $st -eq 77 ] && case $out in "tool_building: skip: "*) true ;; *) false ;; esac
	check "options: no trace: exit 77 with \"skip: ...\" (got $st: $out)" $?
}

# 2. 200 devices, two rounds, announced: states and configs as a subscriber sees them.
building() {
	local st live cfg ver want
	MQ=$("$TOOLS/tool_freeport" 1) || { notok "building: a free port"; return 1; }
	if ! broker_start b-mq "$MQ"; then
		notok "building: mosquitto on :$MQ"
		diag "$d/b-mq.log"
		return 1
	fi
	ok "building: mosquitto on :$MQ"
	live=$d/states
	"$MOSQ_SUB" -h 127.0.0.1 -p "$MQ" -i building-sub -q 1 -t "$Z/+" -F '%t\t%p' >"$live" &
	track $!
	wait_until 5 has_at_least "$d/b-mq.log" '^building-sub 1 zigbee2mqtt/\+' 1
	check "building: a subscriber on $Z/+" $? "$d/b-mq.log"
	"$B" --broker "127.0.0.1:$MQ" --devices $DEVICES --announce --rounds $ROUNDS --interval 0 \
	    --data "$DATA" --stats 2>"$d/run1.err"
	st=$?
	grep -q "^tool_building: announced 1200 configs, published 400 states, removed 0 configs$" \
	    "$d/run1.err"
	check "building: exit $st; announced 1200 configs, published 400 states" $((st + $?)) \
	    "$d/run1.err"
	grep -Eq '^tool_building: stats .*states=400 .*messages_per_s=[0-9]+' "$d/run1.err"
	check "building: --stats prints counts and a rate" $? "$d/run1.err"

	# States: 2 of every device, as zigbee2mqtt writes them (the bridge's
	# own state is a level deeper than $Z/+), and the bridge online.
	wait_until 10 lines_at_least "$live" $((DEVICES * ROUNDS))
	sleep 0.2
	retained "$Z/bridge/state" "$d/bridge"
	[ "$(wc -l <"$live")" -eq $((DEVICES * ROUNDS)) ] &&
	    [ "$(grep -c "^$Z/Room [0-9]* TH	" "$live")" -eq $((DEVICES * ROUNDS)) ] &&
	    [ "$(cut -f1 "$live" | sort | uniq -c | awk '$1 != 2' | wc -l)" -eq 0 ] &&
	    [ "$(cut -f1 "$live" | sort -u | wc -l)" -eq $DEVICES ] &&
	    [ "$(cat "$d/bridge")" = "$Z/bridge/state	{\"state\":\"online\"}" ]
	check "building: $((DEVICES * ROUNDS)) states, exactly $ROUNDS on each of $DEVICES topics; the bridge online (retained)" \
	    $? "$live" "$d/bridge"
	want='^[^	]*	\{"battery":[0-9]+,"co2":[-0-9.eE+]+,"humidity":[-0-9.eE+]+,"illuminance":[-0-9.eE+]+,"linkquality":[0-9]+,"occupancy":(true|false),"temperature":[-0-9.eE+]+\}$'
	[ "$(grep -cEv "$want" "$live")" -eq 0 ]
	check "building: every state has the seven keys in zigbee2mqtt's order" $? "$live"
	# Each state's measurements are one row of the trace, text for text, and
	# a device's second state is the row after its first.
	awk -F'\t' '
	FNR == NR {
		if (FNR == 1) next
		split($0, c, ",")
		t = c[3] "," c[4] "," c[5] "," c[6] "," (c[8] == 1 ? "true" : "false")
		row[nrows] = t; at[t] = at[t] " " nrows; nrows++
		next
	}
	{
		p = $2; gsub(/[{}"]/, "", p); split(p, kv, ",")
		for (k in kv) { split(kv[k], x, ":"); v[x[1]] = x[2] }
		t = v["temperature"] "," v["humidity"] "," v["illuminance"] "," v["co2"] "," v["occupancy"]
		if (!(t in at)) { print "not a trace row: " $0 > "/dev/stderr"; bad++; next }
		if ($1 in first) {
			m = split(at[first[$1]], ks, " "); okk = 0
			for (j = 1; j <= m; j++) if (row[(ks[j] + 1) % nrows] == t) okk = 1
			if (!okk) { print "not the next row: " $0 > "/dev/stderr"; bad++ }
		} else {
			first[$1] = t; starts[t] = 1
		}
	}
	END {
		ns = 0; for (t in starts) ns++
		if (ns < 150) { print ns " distinct first rows of 200" > "/dev/stderr"; bad++ }
		exit bad > 0
	}' "$DATA" "$live" 2>"$d/rows.err"
	check "building: every state is a trace row's exact text, the next row each round, rooms apart" \
	    $? "$d/rows.err"
	grep -Eq '"temperature":[0-9]+\.[0-9]{3}[,}]' "$live" &&
	    grep -Eq '"co2":[0-9]+\.[0-9]{5,}[,}]' "$live"
	check "building: long texts stay as written (23.718, 622.666666666667)" $? "$live"

	# Configs: 1,200 retained, each read by the gateway's parser.
	cfg=$d/configs
	retained "$HA/#" "$cfg"
	[ "$(wc -l <"$cfg")" -eq 1200 ] &&
	    [ "$(grep -c "^$HA/sensor/0x00158d00[0-9a-f]\{8\}/[a-z0-9]*/config	" "$cfg")" -eq 1000 ] &&
	    [ "$(grep -c "^$HA/binary_sensor/0x00158d00[0-9a-f]\{8\}/occupancy/config	" "$cfg")" -eq 200 ]
	rc=$? # the message's $(...) would reset $?
	check "building: 1200 retained configs: 1000 sensor, 200 binary_sensor ($(wc -l <"$cfg"))" $rc \
	    "$cfg"
	[ "$(grep -c '"stat_t":"~"' "$cfg")" -eq 120 ] &&
	    [ "$(grep -c "value_json\['" "$cfg")" -eq 120 ]
	check "building: 120 in the abbreviated form with ~, 120 with value_json['x']" $? "$cfg"
	ver=$d/verified
	"$B" --verify <"$cfg" >"$ver" 2>"$d/verify.err"
	st=$?
	[ $st -eq 0 ] && grep -q 'verified 1200 configs, 0 removals, 0 refused' "$d/verify.err"
	check "building: mqtt_discovery_parse() takes every config" $? "$d/verify.err"
	awk -F'\t' -v z="$Z" '
	BEGIN {
		u["temperature"] = "°C"; u["humidity"] = "%"; u["co2"] = "ppm"
		u["illuminance"] = "lx"; u["battery"] = "%"; u["occupancy"] = ""
		c["co2"] = "carbon_dioxide"
	}
	{
		cls = ($3 in c) ? c[$3] : $3
		if ($4 != $2 "_" $3 "_zigbee2mqtt" || $5 != z "/" $10 || $6 != "/" $3 ||
		    $7 != u[$3] || $8 != cls || $10 !~ /^Room [0-9]+ TH$/) {
			print "line " NR ": " $0; bad++
		}
		ids[$4]++
	}
	END { n = 0; for (i in ids) n++; if (n != 1200) { print n " product ids"; bad++ }; exit bad > 0 }' \
	    "$ver" >"$d/verify.bad"
	check "building: each names its device's state topic, field, unit and class; 1200 product ids" \
	    $? "$d/verify.bad"
}

# 3. --change, --properties, --remove on the same broker.
lifecycle() {
	local st cfg ver gone
	"$B" --broker "127.0.0.1:$MQ" --devices 3 --change 2>"$d/change.err"
	st=$?
	retained "$HA/#" "$d/configs2"
	"$B" --verify <"$d/configs2" >"$d/verified2" 2>/dev/null
	[ $st -eq 0 ] && [ "$(wc -l <"$d/verified2")" -eq 1200 ] &&
	    [ "$(grep -c '	Temperature (recalibrated)	Room 00[123] TH$' "$d/verified2")" -eq 3 ] &&
	    grep -q '	/temperature	C	temperature	Temperature (recalibrated)	Room 001 TH$' \
		"$d/verified2" &&
	    [ "$(grep -c 'recalibrated' "$d/verified2")" -eq 18 ]
	check "lifecycle: --change re-announces 18 configs with a new name and unit spelling" $? \
	    "$d/change.err" "$d/verified2"

	"$B" --broker "127.0.0.1:$MQ" --devices 2 --devices-from 1001 --announce \
	    --properties temperature,occupancy 2>"$d/props.err"
	st=$?
	retained "$HA/#" "$d/configs3"
	[ $st -eq 0 ] && grep -q 'announced 4 configs' "$d/props.err" &&
	    [ "$(wc -l <"$d/configs3")" -eq 1204 ] &&
	    [ "$(grep -c '/\(temperature\|occupancy\)/config	.*"Room 100[12] TH"' "$d/configs3")" -eq 4 ]
	check "lifecycle: --properties temperature,occupancy announces 2 configs a device" $? \
	    "$d/props.err"

	# Devices 151..200 removed: their 300 configs go, and a subscriber sees
	# 300 removals that the parser reads as such.
	"$MOSQ_SUB" -h 127.0.0.1 -p "$MQ" -i building-rm -q 1 -t "$HA/#" -F '%t\t%p' \
	    -R >"$d/removals" &
	track $!
	wait_until 5 has_at_least "$d/b-mq.log" '^building-rm 1 homeassistant/#' 1
	"$B" --broker "127.0.0.1:$MQ" --devices 50 --devices-from 151 --remove 2>"$d/remove.err"
	st=$?
	grep -q 'announced 0 configs, published 0 states, removed 300 configs$' "$d/remove.err"
	check "lifecycle: --remove of devices 151..200: exit $st, 300 removals" $((st + $?)) \
	    "$d/remove.err"
	wait_until 10 lines_at_least "$d/removals" 300
	"$B" --verify <"$d/removals" >"$d/removals.ver" 2>"$d/removals.err"
	[ "$(grep -c '	removed$' "$d/removals.ver")" -eq 300 ]
	check "lifecycle: a live subscriber sees 300 empty payloads, read as removals" $? \
	    "$d/removals.err"
	retained "$HA/#" "$d/configs4"
	gone=$(awk -F'\t' '$10 ~ /^Room (15[1-9]|1[6-9][0-9]|200) TH$/ { print $2 }' \
	    "$d/verified" | sort -u)
	[ "$(echo "$gone" | wc -l)" -eq 50 ] && [ "$(wc -l <"$d/configs4")" -eq 904 ] &&
	    ! grep -qF "$gone" "$d/configs4"
	check "lifecycle: no retained config of a removed device is left, the other 904 stay" $? \
	    "$d/remove.err"
	broker_stop "$BROKER_PID"
}

options
if [ ! -r "$DATA" ]; then
	skip "building: no occupancy trace at $DATA"
	skip "lifecycle: no occupancy trace at $DATA"
else
	building && lifecycle
fi
finish
