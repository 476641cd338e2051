#!/usr/bin/env bash
# Installation and the systemd unit (TAP): the installed tree, systemd-analyze
# verify and security (exposure <= 2.0), and the daemon serving a purchase
# under the unit's restrictions (nobody, no new privileges, no capabilities,
# read-only file system but its state directory).
set -u
BIN=$(cd "${SDPP_BIN:-build/bin}" && pwd)
T=$(cd "${SDPP_TOOLS:-build/tests}" && pwd)
root=$(pwd)
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
d=$(mktemp -d /var/tmp/sdpp-install.XXXXXX) || exit 1
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT

# 1. The installed tree under a DESTDIR matches the docs.
make -s --no-print-directory install BUILD="$(dirname "$BIN")" DESTDIR="$d/dest" PREFIX=/usr/local \
	>"$d/install.log" 2>&1 || { notok "make install DESTDIR"; cat "$d/install.log" | sed 's/^/# /'; }
want="etc/sdpp-gateway/mqtt-password 600
etc/sdpp-gateway/sdpp-gateway.ini 644
usr/local/bin/sdpp 755
usr/local/lib/systemd/system/sdpp-gateway.service 644
usr/local/sbin/sdpp-gateway 755
usr/local/share/man/man1/sdpp.1 644
usr/local/share/man/man5/sdpp-gateway.ini.5 644
usr/local/share/man/man8/sdpp-gateway.8 644"
got=$(cd "$d/dest" && find . -type f -printf '%P %m\n' | sort)
[ "$got" = "$want" ] && ok "make install puts exactly the documented files in place" ||
	{ notok "installed tree differs"; diff <(echo "$want") <(echo "$got") | sed 's/^/# /'; }
grep -q '^ExecStart=/usr/local/sbin/sdpp-gateway ' "$d/dest/usr/local/lib/systemd/system/sdpp-gateway.service" &&
	ok "the unit runs the installed binary" || notok "unit ExecStart path"
make -s --no-print-directory uninstall DESTDIR="$d/dest" PREFIX=/usr/local >/dev/null 2>&1
left=$(cd "$d/dest" && find . -type f -printf '%P\n' | sort | tr '\n' ' ')
[ "$left" = "etc/sdpp-gateway/mqtt-password etc/sdpp-gateway/sdpp-gateway.ini " ] &&
	ok "make uninstall removes all but the operator's configuration" || notok "left after uninstall: $left"

# 2. systemd-analyze on a unit whose paths exist.
if command -v systemd-analyze >/dev/null; then
	make -s --no-print-directory install BUILD="$(dirname "$BIN")" PREFIX="$d/usr" \
		SYSCONFDIR="$d/etc" >/dev/null 2>&1
	unit=$d/usr/lib/systemd/system/sdpp-gateway.service
	out=$(MANPATH=$d/usr/share/man systemd-analyze verify "$unit" 2>&1)
	[ -z "$out" ] && ok "systemd-analyze verify is clean" ||
		{ notok "systemd-analyze verify"; echo "$out" | sed 's/^/# /'; }
	level=$(systemd-analyze security --offline=true "$unit" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 2.0) }' &&
		ok "systemd-analyze security exposure $level <= 2.0" ||
		notok "exposure level '$level'"
else
	skip "systemd-analyze not installed"
	skip "systemd-analyze not installed"
fi

# 3. The daemon under the unit's restrictions.
if [ "$(id -u)" -ne 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
	skip "needs root and mount namespaces"
	echo "1..$n"
	[ "$fails" -eq 0 ]
	exit
fi
mport=$("$T/tool_freeport") gport=$("$T/tool_freeport")
mkdir -p "$d/state" "$d/conf"
cat >"$d/mosq.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
user root
CONF
mosquitto -c "$d/mosq.conf" >"$d/mosq.log" 2>&1 &
pids+=($!)
cat >"$d/conf/gw.ini" <<CONF
[gateway]
listen = 127.0.0.1:$gport
key = $d/state/seller.key
payment_granularity = 4
[mqtt]
uri = tcp://127.0.0.1:$mport
[ledger]
path = $d/state/ledger.db
[product co2]
topic = b/co2
price = 2
CONF
# The daemon's binary must be visible under the private /tmp: copy it
# beside the state (the build tree may itself live under /tmp).
cp "$BIN/sdpp-gateway" "$d/sdpp-gateway"
chmod 755 "$d" "$d/conf" "$d/sdpp-gateway"
chmod 644 "$d/conf/gw.ini"
chown 65534:65534 "$d/state"
chmod 700 "$d/state"
# ProtectSystem=strict: everything read-only but the state directory;
# PrivateTmp; DynamicUser (here: nobody); NoNewPrivileges; no capabilities.
unshare -m --propagation private bash -c '
	mount --bind "$1" "$1" &&
	mount --bind / / && mount -o remount,bind,ro / &&
	mount -t tmpfs -o mode=1777 tmpfs /tmp &&
	exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
		--inh-caps=-all --bounding-set=-all "$2" -c "$3"' _ \
	"$d/state" "$d/sdpp-gateway" "$d/conf/gw.ini" 2>"$d/gw.log" &
pids+=($!)
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$gport") 2>/dev/null && break
	sleep 0.05
done
"$BIN/sdpp" keygen -o "$d/buyer.key" >/dev/null
(
	sleep 0.5
	for i in 1 2 3 4 5 6; do mosquitto_pub -h 127.0.0.1 -p "$mport" -t b/co2 -m "v$i"; done
) &
pids+=($!)
timeout 20 "$BIN/sdpp" buy "127.0.0.1:$gport" --seller-key "$d/state/seller.key.pub" \
	--key "$d/buyer.key" --product co2 --count 5 >"$d/out" 2>"$d/buy.err"
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$d/out")" -eq 5 ] &&
	ok "a purchase works with the daemon restricted like the unit" ||
	{ notok "restricted purchase (status $rc)"; sed 's/^/# /' "$d/buy.err" "$d/gw.log"; }
[ "$(stat -c %U "$d/state/ledger.db" 2>/dev/null)" = nobody ] &&
	ok "the ledger was written by the unprivileged user in its state directory" ||
	notok "ledger owner"
"$BIN/sdpp" ledger verify "$d/state/ledger.db" >/dev/null 2>&1 &&
	ok "the restricted daemon's ledger verifies" || notok "ledger verify"
grep -q 'Read-only file system\|Permission denied' "$d/gw.log" &&
	notok "the daemon hit a restriction: $(grep -m1 -E 'Read-only|Permission' "$d/gw.log")" ||
	ok "no write outside the state directory was attempted"

echo "1..$n"
[ "$fails" -eq 0 ]
