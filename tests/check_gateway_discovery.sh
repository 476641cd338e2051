#!/bin/bash
# Products from Home Assistant discovery (TAP): a simulated zigbee2mqtt building announces its
# sensors, the daemon offers them live (added, changed, removed while buyers stream), prices
# them per device class, and republishes its retained menu -- real mosquitto, real daemon.
. "$(dirname "$0")/lib/gw.sh"

BUILDING=$TOOLS/tool_building
TRACE=${OCCUPANCY:-$ROOT/../shared/data/occupancy/datatest.txt}

# building ARGS...: the simulated building against this pair's broker.
building() {
	timeout $((60 * SLOW)) "$BUILDING" --broker "127.0.0.1:$MQ" --data "$TRACE" "$@" \
	    2>>"$d/building.err"
}


# menu_json FILE: the gateway's verified menu as JSON.
menu_json() {
	timeout $((20 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" --json >"$1" \
	    2>"$1.err"
}
# products FILE: the number of products in a menu JSON file.
products() { grep -o '"id":"[^"]*"' "$1" | wc -l; }
# menu_has N: the menu lists exactly N products.
menu_has() { menu_json "$d/menu.json" && [ "$(products "$d/menu.json")" -eq "$1" ]; }
# product FILE ID: that product's JSON object, on one line.
product() { grep -o "{[^{}]*\"id\":\"$2\"[^{}]*}" "$1"; }

# pid FILE ROOM CLASS: the id of room ROOM's (e.g. 001) sensor of CLASS in a menu.
pid() {
	grep -o '{[^{}]*}' "$1" | grep "\"topic\":\"zigbee2mqtt/Room $2 TH\"" |
	    grep "\"device_class\":\"$3\"" | sed 's/.*"id":"\([^"]*\)".*/\1/'
}

# 1. 200 devices announced in two batches: 200 x 5 sensors offered
# (battery denied), priced per device class; then an explicit [product]
# with a discovered sensor's id, added by a reload, wins that id.
discovered() {
	local t h co2 t3
	setup_pair d1 "payment_granularity = 2" "[discovery]
enabled = yes
price = 10
price.temperature = 5
deny = class:battery" || return
	building --announce --devices 100 >/dev/null
	check "d1: 100 devices announced while the gateway runs" $? "$d/building.err"
	building --announce --devices 100 --devices-from 101 >/dev/null
	check "d1: 100 more announced" $? "$d/building.err"
	wait_until 20 menu_has 1000
	rc=$? # the message's $(...) would reset $?
	check "d1: the menu offers 200 x 5 products (got $(products "$d/menu.json"))" $rc \
	    "$d/menu.json.err" "$GLOG"
	t=$(pid "$d/menu.json" 001 temperature)
	h=$(pid "$d/menu.json" 001 humidity)
	co2=$(pid "$d/menu.json" 002 carbon_dioxide)
	t3=$(pid "$d/menu.json" 003 temperature)
	printf '\n[product %s]\ntopic = zigbee2mqtt/+\nfield = /humidity\nprice = 77\n' "$h" \
	    >>"$d/d1.ini"
	kill -HUP "$GW_PID"
	wait_until 20 eval 'menu_json "$d/menu.json" && product "$d/menu.json" "$h" | grep -q "\"price\":\"77\""'
	check "d1: a reload adds an explicit [product] with a sensor's id: it wins" $? \
	    "$d/menu.json" "$GLOG"
	[ "$(products "$d/menu.json")" -eq 1000 ]
	check "d1: still 1000 products: the explicit one took the discovered one's place" $? \
	    "$d/menu.json"
	grep -q '"version":"sdpp/2"' "$d/menu.json"
	check "d1: the menu is sdpp/2" $? "$d/menu.json"
	product "$d/menu.json" "$t" | grep -q '"price":"5"' &&
	    product "$d/menu.json" "$t" | grep -q '"device_class":"temperature"' &&
	    product "$d/menu.json" "$t" | grep -q '"field":"/temperature"' &&
	    product "$d/menu.json" "$t" | grep -q '"topic":"zigbee2mqtt/Room 001 TH"'
	check "d1: a temperature sensor: price.temperature 5, its class, field and topic" $? \
	    "$d/menu.json"
	product "$d/menu.json" "$co2" | grep -q '"price":"10"' &&
	    product "$d/menu.json" "$co2" | grep -q '"unit":"ppm"'
	check "d1: a CO2 sensor: the default price 10, unit ppm" $? "$d/menu.json"
	! grep -q '_battery_' "$d/menu.json"
	check "d1: deny = class:battery leaves every battery out" $? "$d/menu.json"

	# 2. A buyer takes one room's temperature; the building publishes its
	# trace: exactly device 1's temperatures, as the trace writes them.
	buy_start d1-temp "$t" 3
	wait_orders 1
	building --rounds 3 --interval 100 --devices 3 >/dev/null
	wait_exit "$BUY_PID" 20
	check "d1: the buyer of one discovered sensor settles" $WAIT_RC "$d/d1-temp.err" "$GLOG"
	sed 's/.*"payload":"\(.*\)"}$/\1/' "$d/d1-temp.jsonl" >"$d/d1-got"
	# Device 1 replays from its own row; its first three temperatures.
	grep -c '"topic":"zigbee2mqtt/Room 001 TH"' "$d/d1-temp.jsonl" | grep -qx 3 &&
	    grep -qxE '[0-9]+(\.[0-9]+)?' "$d/d1-got" && [ "$(wc -l <"$d/d1-got")" -eq 3 ]
	check "d1: 3 items, all from Room 001 TH, each a bare number" $? "$d/d1-temp.jsonl"

	# 3. Removal while a buyer streams: the product leaves the menu, the
	# running order goes on, a new order for it is unknown_product.
	buy_start d1-run "$t" 4
	wait_orders 2
	building --remove --devices 1 >/dev/null
	wait_until 20 menu_has 996
	check "d1: removing device 1's configs takes its 4 sold sensors off the menu" $? \
	    "$d/menu.json.err" "$GLOG"
	building --rounds 4 --interval 100 --devices 1 >/dev/null
	wait_exit "$BUY_PID" 20
	check "d1: the order placed before the removal still gets its 4 items" $WAIT_RC \
	    "$d/d1-run.err" "$GLOG"
	buy_start d1-gone "$t" 1
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -ne 0 ] && grep -qE 'unknown_product|no product' "$d/d1-gone.err"
	check "d1: a new order for the removed sensor is refused" $? "$d/d1-gone.err"

	# 4. A changed config replaces the product (another name and unit).
	building --announce --change --devices 1 --devices-from 2 >/dev/null
	wait_until 20 eval 'menu_json "$d/menu.json" && ! product "$d/menu.json" "$co2" | grep -q "\"unit\":\"ppm\""'
	check "d1: a changed config replaces its product" $? "$d/menu.json"

	# 5. The retained menu on MQTT follows discovery.
	timeout $((10 * SLOW)) mosquitto_sub -h 127.0.0.1 -p "$MQ" -t "sdpp/d1/menu" -C 1 \
	    >"$d/d1-retained" 2>&1
	! grep -q "\"$t\"" "$d/d1-retained" && grep -q "\"$t3\"" "$d/d1-retained" &&
	    grep -q '"version":"sdpp/2"' "$d/d1-retained"
	check "d1: the retained MQTT menu is republished without the removed sensors" $? \
	    "$d/d1-retained"
	teardown_pair
}

# 6. A config reload turns discovery off: the discovered products go; on
# again: the broker's retained configs bring them back.
reload() {
	local mport
	mport=$("$TOOLS/tool_freeport" 1) || return
	setup_pair d2 "metrics_listen = 127.0.0.1:$mport" "[discovery]
enabled = yes
price = 1

[product co2]
topic = building/co2
price = 3" || return
	building --announce --devices 20 >/dev/null
	wait_until 20 menu_has 121
	check "d2: 20 devices: 1 + 120 products (battery allowed)" $? "$d/menu.json" "$GLOG"
	# A template the gateway cannot read: skipped, logged once, counted.
	pub homeassistant/sensor/x1/power/config \
	    '{"unique_id":"x1_power","state_topic":"tele/x1/SENSOR","value_template":"{{ value_json.ENERGY.Power | float * 1000 }}"}'
	pub homeassistant/sensor/x1/power/config \
	    '{"unique_id":"x1_power","state_topic":"tele/x1/SENSOR","value_template":"{{ value_json.ENERGY.Power | float * 1000 }}"}'
	wait_until 10 has_at_least "$GLOG" 'event=discovery_refused topic=homeassistant/sensor/x1/power/config' 1
	http_get "$mport" /metrics >"$d/d2-metrics"
	grep -q '^sdpp_discovery_sensors 120$' "$d/d2-metrics" &&
	    grep -q '^sdpp_discovery_products 120$' "$d/d2-metrics" &&
	    grep -q '^sdpp_products 121$' "$d/d2-metrics" &&
	    grep -q '^sdpp_discovery_refused_total 1$' "$d/d2-metrics" &&
	    [ "$(count_in "$GLOG" 'event=discovery_refused')" -eq 1 ]
	check "d2: metrics: 120 sensors, 120 offered, 121 products; the unreadable template skipped, logged and counted once" \
	    $? "$d/d2-metrics" "$GLOG"
	# A restart replays the 120 retained configs in one burst through a
	# queue of 4: retained messages wait for room instead of being dropped.
	gw_stop
	sed -i 's/^\[mqtt\]$/[mqtt]\nqueue = 4/' "$d/d2.ini"
	gw_start d2
	wait_until 30 menu_has 121
	rc=$? # the message's $(...) would reset $?
	check "d2: restarted with [mqtt] queue = 4: all 120 retained configs read (got $(products "$d/menu.json"))" \
	    $rc "$d/menu.json" "$GLOG"
	http_get "$mport" /metrics >"$d/d2-metrics2"
	grep -q '^sdpp_mqtt_dropped_total 0$' "$d/d2-metrics2"
	check "d2: and none dropped" $? "$d/d2-metrics2"
	sed -i 's/^enabled = yes/enabled = no/' "$d/d2.ini"
	kill -HUP "$GW_PID"
	wait_until 20 menu_has 1
	check "d2: SIGHUP with enabled = no: only the written product" $? "$d/menu.json" "$GLOG"
	sed -i 's/^enabled = no/enabled = yes\nallow = class:temperature, class:humidity/' \
	    "$d/d2.ini"
	kill -HUP "$GW_PID"
	wait_until 20 menu_has 41
	check "d2: on again with allow = temperature, humidity: the retained configs, 1 + 40" $? \
	    "$d/menu.json" "$GLOG"
	teardown_pair
}

# 7. A building of 400 devices: a 2,000-product menu served, verified and
# read (table, filter, JSON); the retained MQTT menu holds all of it; an
# sdpp/1 buyer gets the first 256; a narrowed order on a discovered sensor.
big() {
	local t
	setup_pair d3 "" "[discovery]
enabled = yes
price = 1
deny = class:battery" || return
	building --announce --devices 400 >/dev/null
	wait_until 30 menu_has 2000
	rc=$? # the message's $(...) would reset $?
	check "d3: 400 devices: a menu of 2,000 products, verified (got $(products "$d/menu.json"))" \
	    $rc "$d/menu.json.err" "$GLOG"
	timeout $((20 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" >"$d/d3-table" \
	    2>&1
	[ "$(grep -c 'Room [0-9]* TH' "$d/d3-table")" -eq 2000 ]
	check "d3: the table shows one line per product" $? "$d/d3-table"
	timeout $((20 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" \
	    --filter 'room 123 th' >"$d/d3-filter" 2>&1
	[ "$(grep -c 'Room 123 TH' "$d/d3-filter")" -eq 5 ]
	check "d3: --filter 'room 123 th' shows that room's 5 sensors" $? "$d/d3-filter"
	timeout $((20 * SLOW)) "$SDPP" menu "127.0.0.1:$GP" --seller-key "$PUB" --sdpp1 --json \
	    >"$d/d3-v1.json" 2>"$d/d3-v1.err"
	[ "$(products "$d/d3-v1.json")" -eq 256 ] && grep -q '"version":"sdpp/1"' "$d/d3-v1.json" &&
	    ! grep -q '"device_class":"[a-z]' "$d/d3-v1.json"
	check "d3: an sdpp/1 buyer is answered with the first 256 products, sdpp/1 members only" \
	    $? "$d/d3-v1.json" "$d/d3-v1.err"
	timeout $((10 * SLOW)) mosquitto_sub -h 127.0.0.1 -p "$MQ" -t "sdpp/d3/menu" -C 1 \
	    >"$d/d3-retained" 2>&1
	[ "$(products "$d/d3-retained")" -eq 2000 ]
	rc=$? # the message's $(...) would reset $?
	check "d3: the retained MQTT menu holds all 2,000 ($(wc -c <"$d/d3-retained") bytes)" $rc \
	    "$GLOG"
	t=$(pid "$d/menu.json" 007 temperature)
	buy_start d3-narrow "$t" 1 --topic 'zigbee2mqtt/Room 008 TH'
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -ne 0 ] && grep -qE 'within|bad_topic' "$d/d3-narrow.err"
	check "d3: narrowing a sensor to another room's topic is refused" $? "$d/d3-narrow.err"
	teardown_pair
}

if ! [ -r "$TRACE" ]; then
	ok "# SKIP the occupancy trace is absent ($TRACE): no simulated building"
	finish
	exit
fi
timed discovered discovered
timed reload reload
timed big big
finish
