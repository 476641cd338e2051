#!/bin/bash
# `sdpp buy --mqtt-out' into a broker that wants TLS and a login, as Home Assistant's mosquitto
# does (TAP): samples arrive; a wrong password, an untrusted CA, a host name the certificate
# lacks and a closed port each fail with the reason; a gateway whose [mqtt] uri names a host
# the certificate lacks, or whose ca_file did not sign it, logs why once, not on every retry.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2

# A throwaway CA, and the broker's certificate from it for 127.0.0.1 and
# broker.invalid only: "localhost" reaches the same broker under a name the
# certificate lacks. other.crt is a CA that signed nothing here.
make_certs() {
	cat >"$d/srv.ext" <<EOF
subjectAltName = IP:127.0.0.1, DNS:broker.invalid
EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=sdpp test CA" &&
	    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	        -keyout "$d/srv.key" -out "$d/srv.csr" -subj "/CN=sdpp test broker" &&
	    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	        -CAcreateserial -out "$d/srv.crt" -days 2 -extfile "$d/srv.ext" &&
	    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	        -keyout "$d/other.key" -out "$d/other.crt" -days 2 -subj "/CN=other CA"
}

# tls_broker_start PORT: the buyer's broker, TLS only, user alice (s3cret).
tls_broker_start() {
	mosquitto_passwd -b -c "$d/passwd" alice s3cret || return 1
	{
		# As root, mosquitto would drop to its own user, who cannot read $d.
		[ "$(id -u)" -eq 0 ] && echo "user root"
		cat <<EOF
per_listener_settings false
allow_anonymous false
password_file $d/passwd
persistence false
log_dest stderr
log_type all
log_timestamp false
listener $1 127.0.0.1
cafile $d/ca.crt
certfile $d/srv.crt
keyfile $d/srv.key
EOF
	} >"$d/tls-mq.conf"
	broker_run tls-mq "$1"
}

# out NAME URI ARGS...: `sdpp buy --mqtt-out URI ARGS' of one co2 sample, in
# the background; stdout and stderr to $d/NAME.{jsonl,err}. Sets BUY_PID.
out() {
	local name=$1 uri=$2
	shift 2
	buy_start "$name" co2 "${COUNT:-1}" --mqtt-out "$uri" --mqtt-prefix out/ "$@"
}

# out_fails STATUS NAME URI PATTERN ARGS...: the buyer exits with STATUS
# (sdpp(1): 1 a local file, 2 usage, 3 cannot connect), saying PATTERN.
out_fails() {
	local want=$1 name=$2 uri=$3 pat=$4
	shift 4
	out "$name" "$uri" "$@"
	wait_exit "$BUY_PID" 20
	[ "$WAIT_RC" -eq "$want" ] && grep -qE -- "$pat" "$d/$name.err"
}

scenario() {
	local tp closed pw sub_pid st m1_broker
	setup_pair m1 "" || return
	m1_broker=$BROKER_PID
	make_certs >"$d/openssl.log" 2>&1
	check "m1: a throwaway CA and broker certificate" $? "$d/openssl.log"
	tp=$("$TOOLS/tool_freeport" 2) || return
	closed=$(echo "$tp" | sed -n 2p)
	tp=$(echo "$tp" | sed -n 1p)
	tls_broker_start "$tp"
	check "m1: a TLS broker with a password file on :$tp" $? "$d/tls-mq.log"
	pw=$d/alice.pw
	printf 's3cret\n' >"$pw" && chmod 600 "$pw"
	printf 'wrong\n' >"$d/wrong.pw" && chmod 600 "$d/wrong.pw"

	# What the buyer republishes, read back from its broker.
	timeout $((30 * SLOW)) mosquitto_sub -h 127.0.0.1 -p "$tp" --cafile "$d/ca.crt" \
	    -u alice -P s3cret -i m1-sub -t 'out/#' -v -C 3 >"$d/m1-sub.out" 2>"$d/m1-sub.err" &
	sub_pid=$!
	track $sub_pid
	wait_until 10 has_at_least "$d/tls-mq.log" '^m1-sub 0 out/#' 1
	check "m1: a subscriber on the TLS broker" $? "$d/tls-mq.log" "$d/m1-sub.err"

	# 1. TLS against the given CA, logged in with the password file.
	COUNT=3 out m1-ok "mqtts://127.0.0.1:$tp" --mqtt-cafile "$d/ca.crt" \
	    --mqtt-username alice --mqtt-password-file "$pw"
	wait_orders 1
	check "m1: the buyer connected to its TLS broker and ordered" $? "$d/m1-ok.err" "$GLOG"
	st=0
	for i in 1 2 3; do
		pub "$CO2" "ppm-$i" || st=1
	done
	check "m1: 3 samples published" $st
	wait_exit "$BUY_PID" 20
	check "m1: sdpp buy --mqtt-out mqtts:// --count 3 exits 0" $WAIT_RC "$d/m1-ok.err"
	wait_exit "$sub_pid" 10
	printf 'out/%s ppm-%s\n' "$CO2" 1 "$CO2" 2 "$CO2" 3 | cmp -s - "$d/m1-sub.out"
	check "m1: the 3 samples arrived on the TLS broker under out/" $? "$d/m1-sub.out" \
	    "$d/m1-sub.err" "$d/tls-mq.log"

	# 2. The wrong password: the broker's refusal, by name.
	out_fails 3 m1-pw "ssl://127.0.0.1:$tp" \
	    'refused by the broker: (not authorized|bad user name or password) \(CONNACK [45]\)' \
	    --mqtt-cafile "$d/ca.crt" --mqtt-username alice --mqtt-password-file "$d/wrong.pw"
	check "m1: a wrong password is refused by the broker, by name (exit 3)" $? "$d/m1-pw.err"

	# 3. A CA that did not sign the broker's certificate, and the system store.
	out_fails 3 m1-ca "mqtts://127.0.0.1:$tp" \
	    'TLS: certificate verify failed: (unable to get local issuer certificate|self-signed certificate in certificate chain)' \
	    --mqtt-cafile "$d/other.crt" --mqtt-username alice --mqtt-password-file "$pw"
	check "m1: an untrusted CA: certificate verify failed, with OpenSSL's reason" $? \
	    "$d/m1-ca.err"
	out_fails 3 m1-sys "mqtts://127.0.0.1:$tp" \
	    'TLS: certificate verify failed: (unable to get local issuer certificate|self-signed certificate in certificate chain)' \
	    --mqtt-username alice --mqtt-password-file "$pw"
	check "m1: without --mqtt-cafile the system store does not trust the test CA" $? \
	    "$d/m1-sys.err"

	# 4. The right CA, but a name the certificate lacks.
	out_fails 3 m1-name "mqtts://localhost:$tp" 'TLS: certificate verify failed: hostname mismatch' \
	    --mqtt-cafile "$d/ca.crt" --mqtt-username alice --mqtt-password-file "$pw"
	check "m1: a host name the certificate lacks: hostname mismatch" $? "$d/m1-name.err"

	# 5. Nobody listens.
	out_fails 3 m1-closed "mqtts://127.0.0.1:$closed" \
	    "cannot connect to 127.0.0.1:$closed: Connection refused" --mqtt-cafile "$d/ca.crt"
	check "m1: a closed port: connection refused (exit 3)" $? "$d/m1-closed.err"

	# 6. The login is checked before anything connects.
	chmod 644 "$d/wrong.pw"
	out_fails 1 m1-loose "mqtts://127.0.0.1:$tp" 'wrong.pw: mode 0644 gives group or others access' \
	    --mqtt-username alice \
	    --mqtt-password-file "$d/wrong.pw"
	check "m1: a password file others can read is refused (exit 1)" $? "$d/m1-loose.err"
	out_fails 2 m1-nouser "mqtts://127.0.0.1:$tp" '--mqtt-password-file needs --mqtt-username' \
	    --mqtt-password-file "$pw"
	check "m1: --mqtt-password-file without --mqtt-username is a usage error (exit 2)" $? "$d/m1-nouser.err"
	out_fails 2 m1-plain "tcp://127.0.0.1:$tp" 'need an ssl:// or mqtts:// URI' \
	    --mqtt-cafile "$d/ca.crt"
	check "m1: --mqtt-cafile with tcp:// is a usage error (exit 2)" $? "$d/m1-plain.err"
	sanitizer_clean "$d"/m1-*.err
	check "m1: no sanitizer report from any buyer" $? "$d"/m1-*.err
	BROKER_PID=$m1_broker teardown_pair
	TP=$tp
}

# tls_gateway NAME URI CA_FILE: a gateway whose [mqtt] is the TLS broker at
# URI, trusting CA_FILE, logged in as alice; started, not waited for. Sets
# GW_PID.
tls_gateway() {
	local name=$1 gp
	gp=$("$TOOLS/tool_freeport" 1) || return 1
	gw_config "$name" "$TP" "$gp" ""
	sed -i "s|^uri = .*|uri = $2\nca_file = $3\nusername = alice\npassword_file = $d/alice.pw|" \
	    "$d/$name.ini"
	"$GATEWAY" -c "$d/$name.ini" -d 2>>"$d/$name.log" &
	GW_PID=$!
	track $GW_PID
}

# gw_explains NAME PID REASON: after the third attempt (so the first two,
# one of them a retry, failed) the log holds REASON in exactly one line;
# then the gateway stops cleanly.
gw_explains() {
	local name=$1 pid=$2 lines
	wait_until 20 has_at_least "$d/$name.log" 'event=reconnecting .*attempt=3' 1
	check "$name: the gateway retries its TLS broker" $? "$d/$name.log"
	lines=$(count_in "$d/$name.log" "event=connect_failed .*reason=\"TLS: certificate verify failed: $3\"")
	[ "$lines" -eq 1 ]
	check "$name: the reason is logged once, with OpenSSL's words ($lines lines)" $? "$d/$name.log"
	G=$name GLOG=$d/$name.log GW_PID=$pid gw_sane
	GW_PID=$pid gw_stop
	check "$name: the gateway stops cleanly on SIGTERM (status $WAIT_RC)" $WAIT_RC "$d/$name.log"
}

# The gateway's own broker link, two at once: g2 names localhost, which the
# certificate lacks; g3 trusts a CA that did not sign it. Each reason is
# logged once, however often Paho retries.
gateway_tls() {
	local g2 g3
	tls_gateway g2 "ssl://localhost:$TP" "$d/ca.crt" || return
	g2=$GW_PID
	tls_gateway g3 "mqtts://127.0.0.1:$TP" "$d/other.crt" || return
	g3=$GW_PID
	gw_explains g2 $g2 'hostname mismatch'
	gw_explains g3 $g3 '(self-signed certificate in certificate chain|unable to get local issuer certificate)'
}

TP=
timed m1 scenario
[ -n "$TP" ] && timed gateways gateway_tls
finish
