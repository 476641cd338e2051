#!/bin/bash
# `sdpp menu' and `sdpp buy --topic' against a real gateway of 2,000 sdpp/2 products (TAP): the
# aligned table, --filter, --json read back by sqlite3, a --topic outside the product's
# filter refused before ordering, and a narrowed order that gets only its topics.
. "$(dirname "$0")/lib/gw.sh"

Z=zigbee2mqtt
LONG=site/north-campus/building-7/floor-2/east-wing/room-2.17/ceiling/sensor-array/co2/raw
NGEN=1996 # generated products, beside the four below: 2,000 in all

# products: the four named ones, then sensor-0001..sensor-$NGEN, one topic each; every
# 100th is in a kitchenette, so "kitchen" finds 19 of them and kitchen-co2.
products() {
	cat <<EOF
[product temperature]
topic = $Z/+
field = /temperature
price = 2
unit = C
description = Temperature of every room

[product kitchen-co2]
topic = building/7/kitchen/co2
min_interval = 60s
on_change = yes
deadband = 0.5
price = 3
unit = ppm
description = CO2 by the coffee machine

[product long-topic]
topic = $LONG
price = 1

[product hall-1min]
topic = building/7/hall/+
min_interval = 2m
price = 1
unit = lx
EOF
	local i room
	for i in $(seq -f %04g 1 $NGEN); do
		room=room-$i
		[ $((10#$i % 100)) -eq 0 ] && room=kitchenette-$i
		printf '\n[product sensor-%s]\ntopic = site/floor-%d/%s/co2\nprice = 1\nunit = ppm\n' \
		    "$i" $((10#$i % 7)) "$room"
	done
}

# menu FILE ARGS...: `sdpp menu' on this gateway into FILE (stderr FILE.err).
menu() {
	local out=$1
	shift
	timeout $((20 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" "$@" \
	    >"$out" 2>"$out.err"
}

# jq_sql FILE EXPR: one SQL expression over the JSON text in FILE, as x.
jq_sql() {
	sqlite3 :memory: "SELECT $2 FROM (SELECT CAST(readfile('$1') AS TEXT) AS x)"
}

# 1. The table: one line per product after the header and terms, every column lined up
# (ASCII rows: TOPIC starts where its heading does), a long topic cut with an ellipsis.
table() {
	local t=$d/m1-table col bad
	menu "$t"
	check "m1: sdpp menu exits 0" $? "$t.err"
	[ ! -s "$t.err" ]
	check "m1: nothing on stderr" $? "$t.err"
	[ "$(sed -n 1p "$t")" = "m1: 2000 products" ] && sed -n 2p "$t" | grep -q ', sdpp/2$'
	check "m1: the header line names the gateway and 2000 products" $? "$t"
	sed -n 6p "$t" | grep -qE '^PRODUCT +PRICE +UNIT +CLASS +SELLS +RATE +LAST SEEN +TOPIC$' &&
	    [ "$(($(wc -l <"$t") - 6))" -eq 2000 ]
	check "m1: column headings, then exactly 2000 product lines" $? "$t"
	grep -qE '^temperature +2 nanos +C +- +/temperature +every sample +(never|[0-9]+s ago) +zigbee2mqtt/\+$' "$t" &&
	    grep -qE '^kitchen-co2 +3 nanos +ppm +- +whole payload +≤1/60s, on change >0\.5 +never +building/7/kitchen/co2$' "$t" &&
	    grep -qE '^hall-1min +1 nanos +lx +- +whole payload +≤1/2min +never +building/7/hall/\+$' "$t" &&
	    grep -qE '^sensor-0042 +1 nanos +ppm +- +whole payload +every sample +never +site/floor-0/room-0042/co2$' "$t"
	check "m1: rows give price and currency, unit, class, what is sold, rate tier, age, topic" $? "$t"
	grep -qE '^long-topic .* site/north-campus/buildi…ng/sensor-array/co2/raw$' "$t" &&
	    ! grep -qF "$LONG" "$t"
	check "m1: a long topic is cut in the middle with an ellipsis, its last levels kept" $? "$t"
	col=$(sed -n 6p "$t" | awk '{ print index($0, "TOPIC") }')
	bad=$(sed -n '7,$p' "$t" | LC_ALL=C grep -v '[^ -~]' |
	    awk -v c="$col" 'substr($0, c - 2, 2) != "  " || substr($0, c, 1) == " " { print }')
	[ -z "$bad" ] && [ "$(LC_ALL=C.UTF-8 wc -L <"$t")" -le 200 ]
	check "m1: TOPIC starts at column $col on every line; no line over 200 columns" $? "$t"
}

# 2. --filter, any case, on id, topic, unit, class and description.
filter() {
	local t=$d/m2-filter
	menu "$t" --filter KITCHEN
	[ "$(sed -n 1p "$t")" = 'm1: 2000 products, 20 shown (filter "KITCHEN")' ] &&
	    [ "$(($(wc -l <"$t") - 6))" -eq 20 ] && grep -q '^kitchen-co2 ' "$t" &&
	    grep -q '^sensor-1900 .*site/floor-3/kitchenette-1900/co2$' "$t"
	check "m2: --filter KITCHEN: 20 of 2000 (id, topic), the header says so" $? "$t"
	menu "$t" --filter 'coffee machine'
	[ "$(($(wc -l <"$t") - 6))" -eq 1 ] && grep -q '^kitchen-co2 ' "$t"
	check "m2: --filter matches the description" $? "$t"
	menu "$t" --filter LX
	[ "$(($(wc -l <"$t") - 6))" -eq 1 ] && grep -q '^hall-1min ' "$t"
	check "m2: --filter matches the unit" $? "$t"
	menu "$t" --filter nothing-like-this
	[ "$(sed -n 1p "$t")" = 'm1: 2000 products, 0 shown (filter "nothing-like-this")' ] &&
	    [ "$(wc -l <"$t")" -eq 4 ]
	check "m2: --filter with no match: the header, the terms, no table" $? "$t"
}

# 3. --json: one valid document with every product and every sdpp/2 member.
json() {
	local t=$d/m3-menu.json kitchen
	menu "$t" --json
	[ "$(wc -l <"$t")" -eq 1 ] && [ "$(jq_sql "$t" 'json_valid(x)')" = 1 ]
	check "m3: --json is one line of valid JSON" $? "$t.err"
	[ "$(jq_sql "$t" "json_array_length(x, '\$.products')")" = 2000 ] &&
	    [ "$(jq_sql "$t" "json_extract(x, '\$.products_total') || ' ' ||
		json_extract(x, '\$.version') || ' ' || json_extract(x, '\$.gateway')")" = \
		"2000 sdpp/2 m1" ]
	check "m3: --json has all 2000 products, version sdpp/2" $? "$t"
	# Every member of every product, with its JSON type.
	[ "$(jq_sql "$t" "(SELECT count(*) FROM json_each(x, '\$.products') AS p WHERE
	    json_type(p.value, '\$.id') = 'text' AND json_type(p.value, '\$.price') = 'text' AND
	    json_type(p.value, '\$.unit') = 'text' AND json_type(p.value, '\$.description') = 'text' AND
	    json_type(p.value, '\$.last_seen') = 'integer' AND
	    json_type(p.value, '\$.prepay') IN ('true', 'false') AND
	    json_type(p.value, '\$.topic') = 'text' AND json_type(p.value, '\$.field') = 'text' AND
	    json_type(p.value, '\$.device_class') = 'text' AND
	    json_type(p.value, '\$.min_interval') = 'integer' AND
	    json_type(p.value, '\$.on_change') IN ('true', 'false') AND
	    json_type(p.value, '\$.deadband') = 'text' AND
	    (SELECT count(*) FROM json_each(p.value)) = 12)")" = 2000 ]
	check "m3: each product has exactly the 12 members, each of its JSON type" $? "$t"
	kitchen=$(jq_sql "$t" "(SELECT json_extract(p.value, '\$.topic') || '|' ||
	    json_extract(p.value, '\$.min_interval') || '|' || json_extract(p.value, '\$.on_change') ||
	    '|' || json_extract(p.value, '\$.deadband') || '|' || json_extract(p.value, '\$.price')
	    FROM json_each(x, '\$.products') AS p WHERE json_extract(p.value, '\$.id') = 'kitchen-co2')")
	[ "$kitchen" = "building/7/kitchen/co2|60000|1|0.5|3" ] &&
	    [ "$(jq_sql "$t" "(SELECT json_extract(p.value, '\$.topic') FROM json_each(x, '\$.products')
		AS p WHERE json_extract(p.value, '\$.id') = 'long-topic')")" = "$LONG" ] &&
	    [ "$(jq_sql "$t" "(SELECT json_extract(p.value, '\$.field') FROM json_each(x, '\$.products')
		AS p WHERE json_extract(p.value, '\$.id') = 'temperature')")" = /temperature ]
	check "m3: the values are the configured ones, long topics whole ($kitchen)" $? "$t"
	menu "$t" --json --filter kitchen
	[ "$(jq_sql "$t" "json_valid(x) || ' ' || json_array_length(x, '\$.products') || ' ' ||
	    json_extract(x, '\$.filter')")" = "1 20 kitchen" ]
	check "m3: --json --filter kitchen: 20 products" $? "$t"
}

# 4. --topic: refused before ordering when it is no filter or not within the product's;
# a narrowed order gets only the samples of its topic.
narrow() {
	local orders out
	buyer_key
	orders=$(sql "SELECT count(*) FROM records WHERE kind = 'order'")
	timeout $((20 * SLOW)) "$SDPP" buy "127.0.0.1:$GP" --seller-key "$PUB" --key "$d/buyer.key" \
	    --product temperature --count 1 --topic 'x/#' >"$d/m4-out.jsonl" 2>"$d/m4-out.err"
	[ $? -eq 4 ] && grep -qxF "sdpp buy: --topic 'x/#' is not within product temperature's filter '$Z/+'" \
	    "$d/m4-out.err" && [ ! -s "$d/m4-out.jsonl" ]
	check "m4: --topic outside the product's filter: a clear error, exit 4" $? "$d/m4-out.err"
	timeout $((20 * SLOW)) "$SDPP" buy "127.0.0.1:$GP" --seller-key "$PUB" --key "$d/buyer.key" \
	    --product temperature --count 1 --topic "$Z/#/x" >/dev/null 2>"$d/m4-bad.err"
	[ $? -eq 2 ] && grep -qxF "sdpp buy: --topic is not an MQTT topic filter: \`$Z/#/x'" \
	    "$d/m4-bad.err"
	check "m4: --topic that is no MQTT filter: refused" $? "$d/m4-bad.err"
	[ "$(sql "SELECT count(*) FROM records WHERE kind = 'order'")" = "$orders" ]
	check "m4: neither was ordered" $? "$GLOG"
	buy_start m4-kitchen temperature 2 --topic "$Z/Kitchen"
	wait_orders $((orders + 1))
	pub "$Z/Office" '{"temperature":1}'
	pub "$Z/Kitchen" '{"temperature":2}'
	pub "$Z/Hall" '{"temperature":3}'
	pub "$Z/Kitchen" '{"temperature":4}'
	wait_exit "$BUY_PID" 15
	check "m4: the narrowed buyer settles" $WAIT_RC "$d/m4-kitchen.err" "$GLOG"
	out=$(sed 's/.*"topic":"\([^"]*\)".*"payload":"\([^"]*\)".*/\1=\2/' "$d/m4-kitchen.jsonl")
	[ "$out" = "$(printf '%s\n%s' "$Z/Kitchen=2" "$Z/Kitchen=4")" ]
	rc=$? # the message's $(...) would reset $?
	check "m4: --topic $Z/Kitchen gets only Kitchen's samples (got $(echo $out))" $rc \
	    "$d/m4-kitchen.jsonl"
}

products >"$d/products"
t0=$(now_ms)
setup_pair m1 "" "$(cat "$d/products")" || {
	finish
	exit
}
echo "# start: $(($(now_ms) - t0)) ms"
timed m1 table
timed m2 filter
timed m3 json
timed m4 narrow
teardown_pair
finish
