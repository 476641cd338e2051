#!/bin/bash
# Runs inside the Debian 12 that tests/systemd/run.sh boots: the gateway's life through systemctl
# (MODE deb: the packages; MODE install: make install), as unnumbered TAP lines in
# /var/log/sdpp-test.tap that run.sh numbers and counts. Powers the container off when done.
set -u
mode=${1:?usage: inside.sh deb|install}
slow=${SLOW:-1}
here=/opt/sdpp-test
u=sdpp-gateway
ini=/etc/sdpp-gateway/sdpp-gateway.ini
pub=/var/lib/sdpp-gateway/seller.key.pub
exec 3>>/var/log/sdpp-test.tap
say() { printf '%s\n' "$*" >&3; }
ok() { say "ok - $1"; }
notok() { say "not ok - $1"; }
check() { # name, status, then files whose tails explain a failure
	local name=$1 rc=$2
	shift 2
	if [ "$rc" -eq 0 ]; then ok "$name"; else
		notok "$name"
		for f in "$@"; do [ -s "$f" ] && tail -15 "$f" | sed 's/^/# /' >&3; done
	fi
}
wait_until() { # seconds (times SLOW), then a command polled every 0.2 s
	local left=$(($1 * slow * 5))
	shift
	until "$@"; do
		left=$((left - 1))
		[ "$left" -gt 0 ] || return 1
		sleep 0.2
	done
}
prop() { systemctl show -p "$1" --value "$u"; }
journal_since() { journalctl -q --no-pager -o cat --after-cursor "$1" -u "$u"; }
journal_has() { # cursor, extended regexp, file: waits up to 10 s for journald, keeps the lines in file
	local left=$((10 * slow * 5))
	until journal_since "$1" >"$3" && grep -Eq "$2" "$3"; do
		left=$((left - 1))
		[ "$left" -gt 0 ] || return 1
		sleep 0.2
	done
}
cursor() { journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'; }
lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
active() { [ "$(systemctl is-active "$u")" = active ]; }
new_pid() { active && [ "$(prop MainPID)" != "$1" ] && [ "$(prop MainPID)" != 0 ]; }

say "# started: $mode, $(systemctl --version | head -1)"
trap 'journalctl -b --no-pager >/var/log/sdpp-test.journal 2>&1; systemctl --no-block poweroff' EXIT
# The boot must be over before the test starts its own jobs ("degraded" is fine in a container).
timeout $((120 * slow)) systemctl is-system-running --wait >/dev/null

# Debian's broker on 127.0.0.1:1883 (the sample INI's [mqtt] uri), and samples on the sample
# configuration's co2-floor2 topic every 0.2 s for the purchases.
if ! timeout $((30 * slow)) systemctl enable --now mosquitto >/tmp/mosq.log 2>&1 ||
	! wait_until 10 mosquitto_pub -h 127.0.0.1 -t probe -m 1; then
	say "ok # SKIP mosquitto does not start in the container: $(tail -1 /tmp/mosq.log)"
	say "# complete"
	exit 0
fi
(i=0; while :; do mosquitto_pub -h 127.0.0.1 -t building/7/floor2/co2 -m $((400 + i % 50)); i=$((i + 1)); sleep 0.2; done) &
publisher=$!

if [ "$mode" = deb ]; then
	dpkg -i "$here"/sdpp_*.deb "$here"/sdpp-gateway_*.deb >/tmp/dpkg.log 2>&1
	check "dpkg -i sdpp sdpp-gateway with systemd running" $? /tmp/dpkg.log
	state="$(systemctl is-enabled $u) $(systemctl is-active $u)"
	[ "$state" = "disabled inactive" ]
	check "installed, neither enabled nor started (is-enabled, is-active: $state)" $?
else
	if [ -e /bin/kill ]; then say "# /bin/kill is there (procps)"; else say "# no /bin/kill (no procps), as on a minbase system"; fi
	systemctl daemon-reload
	path=$(prop FragmentPath)
	[ "$path" = /usr/local/lib/systemd/system/$u.service ]
	check "make install's unit is loaded from $path" $?
fi

# Start: Type=notify, so systemctl returns once READY=1 came; the status line follows it.
timeout $((60 * slow)) systemctl start $u >/tmp/start.log 2>&1
rc=$?
active || rc=$((rc + 100))
type=$(prop Type)
check "systemctl start $u (Type=$type): active (status $rc)" $rc /tmp/start.log
status=$(prop StatusText)
[[ $status =~ ^selling\ [0-9]+\ products\ on\ 0\.0\.0\.0:7878$ ]]
check "its status text from sd_notify: \"$status\"" $?
wait_until 10 test -s $pub
check "the first start made the seller key ($pub)" $?

# A purchase with the packaged (or installed) sdpp: 12 verified samples and a receipt.
sdpp keygen -o /root/buyer.key >/dev/null 2>&1
timeout $((60 * slow)) sdpp buy 127.0.0.1:7878 --seller-key $pub --key /root/buyer.key \
	--product co2-floor2 --count 12 --output /root/buy1.jsonl --receipt /root/receipt1.json \
	>/dev/null 2>/root/buy1.err
rc=$?
lines /root/buy1.jsonl 12
check "sdpp buy: 12 co2-floor2 samples from the gateway (status $rc)" $((rc + $?)) /root/buy1.err

# Reload with a new price: the same process, the new menu.
pid=$(prop MainPID)
timeout $((20 * slow)) sdpp menu 127.0.0.1:7878 --seller-key $pub --json >/tmp/menu0 2>&1
grep -q '"id":"co2-floor2","price":"250"' /tmp/menu0
check "the menu sells co2-floor2 at 250 before the reload" $? /tmp/menu0
sed -i 's/^price = 250$/price = 300/' $ini
c=$(cursor)
timeout $((30 * slow)) systemctl reload $u >/tmp/reload.log 2>&1
rc=$?
now=$(prop MainPID)
[ "$now" = "$pid" ] && active || rc=$((rc + 100))
journal_since "$c" >/tmp/reload.journal
check "systemctl reload keeps the process (pid $pid -> $now, status $rc)" $rc \
	/tmp/reload.log /tmp/reload.journal
journal_has "$c" 'event=reload result=ok' /tmp/reload.journal
check "the daemon logged the reload (event=reload result=ok)" $? /tmp/reload.journal
timeout $((20 * slow)) sdpp menu 127.0.0.1:7878 --seller-key $pub --json >/tmp/menu1 2>&1
grep -q '"id":"co2-floor2","price":"300"' /tmp/menu1
check "after the reload the menu sells co2-floor2 at 300" $? /tmp/menu1

if [ "$mode" = deb ]; then
	# Watchdog: a frozen daemon stops pinging; systemd aborts it after WatchdogSec and
	# Restart=on-failure starts a new one.
	pid=$(prop MainPID)
	wd=$(prop WatchdogUSec)
	c=$(cursor)
	start=$(date +%s)
	kill -STOP "$pid"
	wait_until $((60 + 30)) new_pid "$pid"
	rc=$?
	took=$(($(date +%s) - start)) now=$(prop MainPID)
	journal_since "$c" >/tmp/watchdog.journal
	check "a SIGSTOPped daemon is restarted by the watchdog (WatchdogSec=$wd): pid $pid -> $now in $took s" \
		$rc /tmp/watchdog.journal
	journal_has "$c" 'Watchdog timeout' /tmp/watchdog.journal
	rc=$?
	restarts=$(prop NRestarts)
	check "the journal says why: Watchdog timeout (NRestarts=$restarts)" $rc /tmp/watchdog.journal
fi

# Graceful stop with a buyer in an open-ended order: it is invoiced and told shutting_down,
# the daemon exits 0 well within TimeoutStopSec (no SIGKILL, no failure).
buyer=""
if [ "$mode" = deb ]; then
	timeout $((120 * slow)) sdpp buy 127.0.0.1:7878 --seller-key $pub --key /root/buyer.key \
		--product co2-floor2 --count 0 --output /root/buy2.jsonl --receipt /root/receipt2.json \
		>/dev/null 2>/root/buy2.err &
	buyer=$!
	wait_until 60 lines /root/buy2.jsonl 3
	check "an open-ended purchase is running before the stop" $? /root/buy2.err
fi
c=$(cursor)
start=$(date +%s)
timeout $((40 * slow)) systemctl stop $u >/tmp/stop.log 2>&1
rc=$?
took=$(($(date +%s) - start))
journal_has "$c" 'Deactivated successfully' /tmp/stop.journal &&
	grep -q 'event=stopped' /tmp/stop.journal &&
	! grep -Eq 'Killing|timed out|code=killed|status=9/KILL|Failed with result' /tmp/stop.journal ||
	rc=$((rc + 100))
check "systemctl stop in $took s: the daemon stopped itself and exited 0 (status $rc)" $rc \
	/tmp/stop.log /tmp/stop.journal
if [ -n "$buyer" ]; then
	wait "$buyer"
	grep -q shutting_down /root/buy2.err
	check "the buyer was told shutting_down" $? /root/buy2.err
fi

# The ledger the service wrote checks, with the buyers' receipts as witnesses (the first one
# from before the watchdog's abort).
witness="--witness /root/receipt1.json"
[ -s /root/receipt2.json ] && witness="$witness --witness /root/receipt2.json"
# shellcheck disable=SC2086 # two options, word-split on purpose
sdpp ledger verify /var/lib/sdpp-gateway/ledger.db --key $pub $witness >/tmp/verify.log 2>&1
check "sdpp ledger verify of the service's ledger, receipts as witnesses" $? /tmp/verify.log

if [ "$mode" = deb ]; then
	# Purge: the programs, unit and configuration go; the keys and the ledger stay (the
	# operator's records, debian/sdpp-gateway.postrm).
	dpkg --purge sdpp-gateway sdpp >/tmp/purge.log 2>&1
	check "dpkg --purge sdpp-gateway sdpp" $? /tmp/purge.log
	left=$(find / -xdev -name '*sdpp*' 2>/dev/null |
		grep -Ev '^(/opt/sdpp-test|/var/log/sdpp-test|/etc/systemd/system/(.*/)?sdpp-test\.service$)' |
		sort | tr '\n' ' ')
	[ "$left" = "/var/lib/private/sdpp-gateway /var/lib/sdpp-gateway " ]
	check "after purge only the state directory is left: $left" $?
	load=$(prop LoadState)
	[ "$load" = not-found ]
	check "systemd no longer knows the unit (LoadState=$load)" $?
fi

kill "$publisher" 2>/dev/null
say "# complete"
