#!/usr/bin/env bash
# make demo: a complete SDPP purchase on loopback. A private mosquitto, a
# simulated office building (or a recorded trace, TRACE=FILE), the gateway, and
# a buyer that buys CO2 readings, then the seller's ledger is audited; then a
# zigbee2mqtt building announced through Home Assistant discovery, where the
# buyer takes one room's temperature at one reading per interval.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# TRACE=FILE replays a recorded office trace (the UCI occupancy data set's
# datatest.txt); without it the building is synthetic.
trace=${TRACE:-}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# 1. Dependencies: install what is missing when we can, say how otherwise.
need_deps() {
	command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null &&
		pkg-config --exists libevent libsystemd libcjson sqlite3 libqrencode cmocka &&
		[ -e /usr/include/MQTTAsync.h ]
}
if ! need_deps; then
	if [ "$(id -u)" -eq 0 ]; then
		say "installing dependencies (make deps-base)"
		make deps-base
	else
		echo "Missing dependencies. Run: sudo make deps-base   (then make demo again)"
		exit 1
	fi
fi
# Only what the demo runs (not every test and benchmark), with make's own
# progress lines: a first build takes a minute on two cores.
say "building sdpp, sdpp-gateway and the simulated building"
demo_bins="build/bin/sdpp build/bin/sdpp-gateway build/tests/tool_building"
# shellcheck disable=SC2086 # three words
if ! make -q $demo_bins 2>/dev/null && ! make -j2 --no-print-directory $demo_bins; then
	echo "the build failed (above)"
	exit 1
fi
S=$root/build/bin/sdpp
G=$root/build/bin/sdpp-gateway
B=$root/build/tests/tool_building
export PATH=/usr/sbin:$PATH

work=$(mktemp -d /tmp/sdpp-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A free loopback port: nothing answers a connect there.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "no free port" >&2
	exit 1
}
wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1" >&2
	exit 1
}
mport=$(free_port)
gport=$(free_port)
cd "$work"

say "starting a private MQTT broker on 127.0.0.1:$mport"
cat >mosquitto.conf <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
$( [ "$(id -u)" -eq 0 ] && echo "user root" )
CONF
mosquitto -c mosquitto.conf >mosquitto.log 2>&1 &
pids+=($!)
wait_port "$mport"

say "starting the gateway on 127.0.0.1:$gport (3 products)"
cat >sdpp-gateway.ini <<CONF
[gateway]
name = demo-office
listen = 127.0.0.1:$gport
key = seller.key
payment_granularity = 4
[mqtt]
uri = tcp://127.0.0.1:$mport
[ledger]
path = ledger.db
[product co2]
topic = building/7/floor2/co2
price = 3
unit = ppm
description = CO2 concentration, office 2.14
[product temperature]
topic = building/7/floor2/temperature
price = 1
unit = degC
description = Air temperature, office 2.14
[product occupancy]
topic = building/7/floor2/occupancy
price = 5
description = Room occupied (0/1), paid in advance
prepay = yes
; Every room's temperature from the zigbee2mqtt building below, one
; reading per room every 2 s at most (the trace is replayed fast).
[product room-temperature-2s]
topic = zigbee2mqtt/+
field = /temperature
exclude = zigbee2mqtt/bridge/#
min_interval = 2s
price = 1
unit = °C
device_class = temperature
; And every sensor the building announces through Home Assistant discovery.
[discovery]
enabled = yes
price = 2
price.temperature = 1
deny = class:battery
CONF
"$G" -t -c sdpp-gateway.ini
"$G" -c sdpp-gateway.ini 2>gateway.log &
pids+=($!)
wait_port "$gport"
echo "seller identity (give this to buyers): $("$S" pubkey seller.key)"

say "a simulated building publishes CO2, temperature and occupancy"
(
	# A recorded office trace when given, else a synthetic one.
	if [ -r "$trace" ]; then
		tail -n +2 "$trace" | tr -d '"' | awk -F, '{print $3, $6, $8}'
	else
		for i in $(seq 1 2000); do echo "$((21 + i % 3)).5 $((450 + i % 200)) $((i / 50 % 2))"; done
	fi
) | while read -r temp co2 occ; do
	echo "{\"ppm\":$co2}" >&3
	echo "{\"celsius\":$temp}" >&4
	echo "$occ" >&5
	sleep 0.05
done 3> >(mosquitto_pub -h 127.0.0.1 -p "$mport" -t building/7/floor2/co2 -l) \
     4> >(mosquitto_pub -h 127.0.0.1 -p "$mport" -t building/7/floor2/temperature -l) \
     5> >(mosquitto_pub -h 127.0.0.1 -p "$mport" -t building/7/floor2/occupancy -l) &
pids+=($!)
sleep 0.5

say "the buyer makes a key and reads the signed menu"
"$S" keygen -o buyer.key >/dev/null
"$S" menu "127.0.0.1:$gport" --seller-key seller.key.pub

say "the buyer buys 10 CO2 readings (an invoice every 4, paid with signed vouchers)"
"$S" buy "127.0.0.1:$gport" --seller-key seller.key.pub --key buyer.key \
	--product co2 --count 10 --max-price 5

say "and 4 occupancy readings, paid in advance"
"$S" buy "127.0.0.1:$gport" --seller-key seller.key.pub --key buyer.key \
	--product occupancy --count 4

say "the seller's ledger: what was sold, invoiced and paid"
"$S" ledger show ledger.db
say "anyone with the seller's public key can audit it"
"$S" ledger verify ledger.db --key seller.key.pub
"$S" ledger prove ledger.db 1 >proof.json
"$S" ledger check-proof proof.json --key seller.key.pub

say "a zigbee2mqtt building with Home Assistant discovery: 50 rooms announce their sensors"
# The rooms replay the office trace, or a synthetic one of the same shape.
if [ -r "$trace" ]; then
	cp "$trace" rooms.csv
else
	awk 'BEGIN { print "\"date\",\"Temperature\",\"Humidity\",\"Light\",\"CO2\",\"HumidityRatio\",\"Occupancy\"";
		for (i = 1; i <= 500; i++)
			printf "\"%d\",\"2015-02-02 14:19:00\",%.2f,%.2f,%d,%d,0.0047,%d\n",
			    i, 21 + (i % 30) / 10, 26 + (i % 7) / 2, 400 + i % 200, 450 + i % 300, (i / 40) % 2 }' \
	    >rooms.csv
fi
"$B" --broker "127.0.0.1:$mport" --devices 50 --announce --data rooms.csv
sleep 1 # the gateway rebuilds its menu once the announcements settle
"$S" menu "127.0.0.1:$gport" --seller-key seller.key.pub --filter "room 007"
"$B" --broker "127.0.0.1:$mport" --devices 50 --rounds 100000 --interval 250 \
	--data rooms.csv 2>/dev/null &
pids+=($!)

say "the buyer takes Room 007's temperature, at most one reading every 2 s"
"$S" buy "127.0.0.1:$gport" --seller-key seller.key.pub --key buyer.key \
	--product room-temperature-2s --topic 'zigbee2mqtt/Room 007 TH' --count 3

say "and Room 007's CO2, a product discovery made"
co2=$("$S" menu "127.0.0.1:$gport" --seller-key seller.key.pub --json --filter "room 007 th co2" |
	grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
"$S" buy "127.0.0.1:$gport" --seller-key seller.key.pub --key buyer.key \
	--product "$co2" --count 3

say "gateway log (one line per event)"
grep -E 'event=(order|invoice|payment|exit|close|discovery_menu)' gateway.log | head -30
echo
echo "demo finished: everything ran on 127.0.0.1 and is cleaned up now."
