#!/bin/bash
# Products cut from what a building publishes (TAP): zigbee2mqtt-style JSON per device, sold
# one field at a time, excluded topics never sold, payloads without the field skipped and
# counted in the metrics -- a real mosquitto, the real daemon, `sdpp buy'.
. "$(dirname "$0")/lib/gw.sh"

Z=zigbee2mqtt


# payloads JSONL: the payload member of each item, one per line.
payloads() { sed 's/.*"payload":"\(.*\)"}$/\1/' "$1"; }

# 1. Two products on one wildcard topic, each selling one field of the
# device JSON; temperature excludes the bridge's own topic. Every sample
# goes to both; each buyer gets exactly its field's text, nothing else.
fields() {
	local mport out want
	mport=$("$TOOLS/tool_freeport" 1) || return
	setup_pair f1 "payment_granularity = 2
metrics_listen = 127.0.0.1:$mport" "[product temperature]
topic = $Z/+
field = /temperature
exclude = $Z/bridge
price = 2
unit = C

[product humidity]
topic = $Z/+
field = /humidity
price = 1
unit = %RH

[product whole]
topic = $Z/+
price = 1" || return
	buy_start f1-temp temperature 4
	wait_orders 1
	buy_start f1-hum humidity 3
	wait_orders 2
	pub "$Z/bridge" '{"temperature":99,"state":"online"}'
	pub "$Z/Kitchen" '{"temperature":21.30,"humidity":40,"battery":97,"linkquality":120}'
	pub "$Z/Kitchen" 'not json'
	pub "$Z/Office" '{"humidity":41}'
	pub "$Z/Hall" '{"humidity":43,"temperature_calibration":0}'
	pub "$Z/Office" '{"temperature":-0.5e1,"humidity":42.0}'
	pub "$Z/Hall" '{"temperature":{"v":1},"battery":80}'
	pub "$Z/Hall" '{"temperature":"22"}'
	wait_exit "$BUY_PID" 15
	check "f1: the humidity buyer settles" $WAIT_RC "$d/f1-hum.err" "$GLOG"
	want=$(printf '40\n41\n43')
	out=$(payloads "$d/f1-hum.jsonl")
	[ "$out" = "$want" ]
	rc=$? # the message's $(...) would reset $?
	check "f1: humidity: exactly 40, 41, 43 (got $(echo $out))" $rc "$d/f1-hum.jsonl"
	wait_until 15 test "$(wc -l <"$d/f1-temp.jsonl")" -ge 4
	out=$(payloads "$d/f1-temp.jsonl")
	want=$(printf '21.30\n-0.5e1\n{\\"v\\":1}\n\\"22\\"')
	[ "$out" = "$want" ]
	check "f1: temperature: the exact text 21.30, -0.5e1, {\"v\":1}, \"22\"; no bridge, no battery" \
	    $? "$d/f1-temp.jsonl"
	grep -q "\"topic\":\"$Z/Kitchen\"" "$d/f1-temp.jsonl" &&
	    ! grep -q "$Z/bridge" "$d/f1-temp.jsonl"
	check "f1: items keep their device topic; the excluded topic never reaches the buyer" $? \
	    "$d/f1-temp.jsonl"
	http_get "$mport" /metrics >"$d/f1-metrics" 2>&1
	grep -q '^sdpp_samples_unsold_total{product="temperature",reason="excluded"} 1$' \
	    "$d/f1-metrics" &&
	    grep -q '^sdpp_samples_unsold_total{product="temperature",reason="not_json"} 1$' \
		"$d/f1-metrics" &&
	    grep -q '^sdpp_samples_unsold_total{product="temperature",reason="no_field"} 2$' \
		"$d/f1-metrics"
	check "f1: metrics count what temperature did not sell: 1 excluded, 1 not JSON, 2 without it" \
	    $? "$d/f1-metrics"
	! grep -q 'sdpp_samples_unsold_total{product="whole"' "$d/f1-metrics"
	check "f1: a product that sells whole payloads has no unsold counts" $? "$d/f1-metrics"
	# Per product: samples on its topic (8 on zigbee2mqtt/+), items its
	# buyers took (temperature: 4 sold; humidity: 3), a buyer streaming.
	grep -q '^sdpp_product_samples_total{product="temperature"} 8$' "$d/f1-metrics" &&
	    grep -q '^sdpp_product_samples_total{product="whole"} 8$' "$d/f1-metrics" &&
	    grep -q '^sdpp_product_items_total{product="temperature"} 4$' "$d/f1-metrics" &&
	    grep -q '^sdpp_product_items_total{product="humidity"} 3$' "$d/f1-metrics" &&
	    grep -q '^sdpp_product_items_total{product="whole"} 0$' "$d/f1-metrics" &&
	    grep -qE '^sdpp_build_info\{version="[0-9.]+",protocols="sdpp/1 sdpp/2"\} 1$' \
		"$d/f1-metrics"
	check "f1: per-product metrics: samples in, items sold; build_info" $? "$d/f1-metrics"
	http_get "$mport" /health >"$d/f1-health" 2>&1
	grep -qx 'ready' "$d/f1-health"
	check "f1: /health says ready (broker connected, ledger writable)" $? "$d/f1-health"
	exec 3<>"/dev/tcp/127.0.0.1/$mport" &&
	    printf 'GET /nothing HTTP/1.0\r\n\r\n' >&3 && timeout 10 cat <&3 >"$d/f1-404"
	exec 3<&-
	grep -q '^HTTP/1.[01] 404' "$d/f1-404" && grep -qi '^Content-Type: text/plain' "$d/f1-404"
	check "f1: an unknown path is a text/plain 404" $? "$d/f1-404"
	# Only what was sold is billed: 4 items at 2.
	wait_until 10 closed_orders_at_least 1
	"$SDPP" ledger show "$DB" --json >"$d/f1-show" 2>&1
	grep -q '"product":"temperature","currency":"nanos","quantity":4,"price":"2"' \
	    "$d/f1-show" && grep -q '"delivered":4,' "$d/f1-show"
	check "f1: the ledger bills temperature for the 4 items sold" $? "$d/f1-show"
	teardown_pair
}

# 2. Rate tiers of one stream, per source topic: at most one item a minute
# (the first sample of each topic is taken, the rest held back), and only
# changes larger than a deadband. Both outcomes are exact: the interval is
# far longer than the test.
tiers() {
	local mport out
	mport=$("$TOOLS/tool_freeport" 1) || return
	setup_pair f2 "payment_granularity = 2
metrics_listen = 127.0.0.1:$mport" "[product t-1min]
topic = r/+
field = /t
min_interval = 60s
price = 1

[product t-change]
topic = c/+
field = /t
on_change = yes
deadband = 0.5
price = 1" || return
	buy_start f2-min t-1min 2
	wait_orders 1
	buy_start f2-chg t-change 3
	wait_orders 2
	# The buyer leaves after its second item: what it must not get comes first.
	pub r/A '{"t":1}'
	pub r/A '{"t":2}'
	pub r/A '{"t":4}'
	pub r/A '{"t":6}'
	pub r/B '{"t":3}'
	for v in 21.0 21.3 21.6 21.2 20.0; do
		pub c/A "{\"t\":$v}"
	done
	wait_exit "$BUY_PID" 15
	check "f2: the on_change buyer settles" $WAIT_RC "$d/f2-chg.err" "$GLOG"
	out=$(payloads "$d/f2-chg.jsonl")
	[ "$out" = "$(printf '21.0\n21.6\n20.0')" ]
	rc=$? # the message's $(...) would reset $?
	check "f2: on_change, deadband 0.5: 21.0, 21.6, 20.0 (got $(echo $out))" $rc \
	    "$d/f2-chg.jsonl"
	wait_until 15 test "$(wc -l <"$d/f2-min.jsonl")" -ge 2
	out=$(payloads "$d/f2-min.jsonl")
	[ "$out" = "$(printf '1\n3')" ] && grep -q '"topic":"r/A"' "$d/f2-min.jsonl" &&
	    grep -q '"topic":"r/B"' "$d/f2-min.jsonl"
	check "f2: min_interval 60s: the first sample of each topic, 1 from r/A and 3 from r/B" $? \
	    "$d/f2-min.jsonl"
	http_get "$mport" /metrics >"$d/f2-metrics" 2>&1
	grep -q '^sdpp_samples_unsold_total{product="t-1min",reason="rate"} 3$' "$d/f2-metrics" &&
	    grep -q '^sdpp_samples_unsold_total{product="t-change",reason="rate"} 2$' \
		"$d/f2-metrics"
	check "f2: metrics count what the tiers held back (3 and 2)" $? "$d/f2-metrics"
	teardown_pair
}

# 3. SIGHUP with these keys: the product now sells another field at a rate
# tier; the order placed before keeps the field and rate it bought, an
# order placed after gets the new ones.
reloaded() {
	local out
	setup_pair f3 "payment_granularity = 2" "[product room]
topic = h/+
field = /t
price = 1" || return
	buy_start f3-old room 3
	wait_orders 1
	sed -i 's|^field = /t$|field = /h\nmin_interval = 60s|' "$d/f3.ini"
	kill -HUP "$GW_PID"
	wait_until 10 has_at_least "$GLOG" 'event=reload result=ok' 1 &&
	    grep -q 'event=reload result=ok products=1 changes=2 changed="product room field, product room min_interval"' \
		"$GLOG"
	check "f3: SIGHUP takes field = /h and min_interval = 60s, and the log names both" $? "$GLOG"
	buy_start f3-new room 2
	wait_orders 2
	pub h/A '{"t":1,"h":40}'
	pub h/A '{"t":2,"h":41}'
	pub h/B '{"t":3,"h":42}'
	wait_exit "$BUY_PID" 15
	check "f3: the order placed after the reload settles" $WAIT_RC "$d/f3-new.err" "$GLOG"
	out=$(payloads "$d/f3-new.jsonl")
	[ "$out" = "$(printf '40\n42')" ]
	rc=$? # the message's $(...) would reset $?
	check "f3: after the reload: /h, the first of each topic a minute: 40, 42 (got $(echo $out))" \
	    $rc "$d/f3-new.jsonl"
	wait_until 15 test "$(wc -l <"$d/f3-old.jsonl")" -ge 3
	out=$(payloads "$d/f3-old.jsonl")
	[ "$out" = "$(printf '1\n2\n3')" ]
	rc=$? # the message's $(...) would reset $?
	check "f3: the order placed before keeps /t at every sample: 1, 2, 3 (got $(echo $out))" \
	    $rc "$d/f3-old.jsonl"
	teardown_pair
}

timed f1 fields
timed f2 tiers
timed f3 reloaded
finish
