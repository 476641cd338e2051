#!/bin/bash
# The files [mqtt] names are checked before anything starts (TAP): a password file others can
# read, a missing one, a missing CA file -- `-t' reports each, the daemon refuses to start, and
# no seller key is made. No broker is needed: nothing gets that far.
. "$(dirname "$0")/lib/gw.sh"

# conf NAME PWFILE CAFILE: a config in $d/NAME/ whose [mqtt] names these files.
conf() {
	mkdir -p "$d/$1"
	cat >"$d/$1/g.ini" <<EOF
[gateway]
key = seller.key
listen = 127.0.0.1:1
[mqtt]
uri = ssl://127.0.0.1:1
username = sdpp
password_file = $2
ca_file = $3
[ledger]
path = ledger.db
[product co2]
topic = building/co2
price = 1
EOF
}

# refused NAME PATTERN: -t exits 1 saying PATTERN; the daemon exits non-zero
# saying it too; no key file is left behind.
refused() {
	local st
	"$GATEWAY" -t -c "$d/$1/g.ini" >"$d/$1/t.out" 2>&1
	st=$?
	[ $st -eq 1 ] && grep -q "$2" "$d/$1/t.out"
	check "$1: -t reports it: $2" $? "$d/$1/t.out"
	timeout $((10 * SLOW)) "$GATEWAY" -c "$d/$1/g.ini" >"$d/$1/start.out" 2>&1
	st=$?
	[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q "$2" "$d/$1/start.out" &&
	    ! [ -e "$d/$1/seller.key" ]
	check "$1: the daemon refuses to start (status $st) and makes no key" $? "$d/$1/start.out"
}

conf open pw ca.pem
printf 'secret\n' >"$d/open/pw"
chmod 0644 "$d/open/pw"
: >"$d/open/ca.pem"
refused open "mode 0644 gives group or others access"

conf nopw pw ca.pem
: >"$d/nopw/ca.pem"
refused nopw "mqtt password: .*pw"

conf noca pw nope.pem
printf 'secret\n' >"$d/noca/pw"
chmod 0600 "$d/noca/pw"
refused noca "ca_file .*nope.pem: No such file"

conf good pw ca.pem
printf 'secret\n' >"$d/good/pw"
chmod 0600 "$d/good/pw"
: >"$d/good/ca.pem"
"$GATEWAY" -t -c "$d/good/g.ini" >"$d/good/t.out" 2>&1
grep -q 'configuration OK' "$d/good/t.out" || grep -q 'will be created at first start' "$d/good/t.out"
check "good: with readable files -t finds nothing wrong with them" $? "$d/good/t.out"
! grep -qE 'mqtt password|ca_file' "$d/good/t.out"
check "good: no complaint about the password or CA file" $? "$d/good/t.out"

# The packaged unit's state directory is made by systemd when the service
# first starts: -t before that says so (and still refuses: the daemon would).
state=/var/lib/sdpp-test-absent-$$
sed "s|^path = .*|path = $state/ledger.db|" "$d/good/g.ini" >"$d/good/state.ini"
"$GATEWAY" -t -c "$d/good/state.ini" >"$d/good/state.out" 2>&1
st=$?
[ $st -eq 1 ] && grep -q "$state does not exist" "$d/good/state.out" &&
    grep -q "StateDirectory= creates it when the service first starts" "$d/good/state.out"
check "state: -t before systemd made /var/lib/NAME says the unit creates it (status $st)" $? \
    "$d/good/state.out"
finish
