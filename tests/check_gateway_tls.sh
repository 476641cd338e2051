#!/bin/bash
# TLS on the buyer listener (TAP): a throwaway CA in the work dir; a purchase over tls://, an
# untrusted CA, a wrong host name, a plain buyer on the TLS port and a TLS buyer on a plain one
# (each a clear error, no hang), ALPN, SIGHUP serving a new certificate (a bad new pair keeps the
# old one), and -t refusing a certificate and key that do not match.
. "$(dirname "$0")/lib/gw.sh"

CO2=building/7/floor2/co2

# cert NAME CA SAN: $d/NAME.key and $d/NAME.pem, signed by $d/CA.pem, for SAN.
cert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
	    -keyout "$d/$1.key" -out "$d/$1.csr" 2>/dev/null &&
	    printf 'subjectAltName = %s\n' "$3" >"$d/$1.ext" &&
	    openssl x509 -req -in "$d/$1.csr" -CA "$d/$2.pem" -CAkey "$d/$2.key" -CAcreateserial \
	        -days 2 -extfile "$d/$1.ext" -out "$d/$1.pem" 2>/dev/null &&
	    chmod 0600 "$d/$1.key"
}
# ca NAME: a self-signed CA in $d/NAME.pem, $d/NAME.key.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj "/CN=$1" -keyout "$d/$1.key" -out "$d/$1.pem" 2>/dev/null
}
ca ca && ca evil && cert s1 ca "IP:127.0.0.1, DNS:localhost" &&
    cert s2 ca "DNS:seller.example"
check "a throwaway CA, a second one, and two server certificates" $? || {
	finish
	exit
}

# serial PORT: the serial of the certificate the gateway serves now.
serial() {
	timeout $((10 * SLOW)) openssl s_client -connect "127.0.0.1:$1" -alpn sdpp/1 \
	    </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}
# menu NAME TARGET [ARGS]: `sdpp menu' into $d/NAME.out (both streams); its status.
menu() {
	local name=$1 target=$2
	shift 2
	timeout $((20 * SLOW)) "$SDPP" menu "$target" --seller-key "$PUB" "$@" >"$d/$name.out" 2>&1
}

setup_pair t1 "tls_cert = s1.pem
tls_key = s1.key" || {
	finish
	exit
}

# 1. A purchase over TLS, the name checked as a DNS name (localhost).
buyer_key
"$SDPP" buy "tls://localhost:$GP" --cafile "$d/ca.pem" --seller-key "$PUB" --key "$d/buyer.key" \
    --product co2 --count 5 >"$d/t1-buy.jsonl" 2>"$d/t1-buy.err" &
BUY_PID=$!
track $BUY_PID
if wait_orders 1; then
	pub_seq "$CO2" p 1 8
	wait_exit "$BUY_PID" 20
	check "t1: sdpp buy tls://localhost --cafile: the order settles (status $WAIT_RC)" \
	    $WAIT_RC "$d/t1-buy.err" "$GLOG"
	check_items "$d/t1-buy.jsonl" p "$CO2" 5 >/dev/null 2>"$d/t1-items"
	check "t1: the 5 items arrive in order" $? "$d/t1-items" "$d/t1-buy.jsonl"
	wait_until 10 closed_orders_at_least 1
	"$SDPP" ledger verify "$DB" --key "$PUB" >"$d/t1-verify" 2>&1
	check "t1: ledger verify with the seller's key" $? "$d/t1-verify"
else
	notok "t1: the order over TLS is recorded"
	diag "$GLOG" "$d/t1-buy.err"
fi

# 2. The name as an IP address (the certificate's IP entry), by --tls.
menu t2 "127.0.0.1:$GP" --tls --cafile "$d/ca.pem" --json
rc=$?
[ $rc -eq 0 ] && grep -q '"id":"co2"' "$d/t2.out"
check "t2: sdpp menu 127.0.0.1 --tls --cafile reads the menu (status $rc)" $? "$d/t2.out"

# 3. A CA we do not trust, and the system store (which has not ours).
menu t3 "tls://127.0.0.1:$GP" --cafile "$d/evil.pem"
rc=$?
[ $rc -ne 0 ] && grep -qi 'TLS: certificate verify failed: .*\(self-signed\|issuer\)' "$d/t3.out"
check "t3: an untrusted CA: certificate verify failed, with its reason (status $rc)" $? \
    "$d/t3.out"
menu t3b "tls://127.0.0.1:$GP"
rc=$?
[ $rc -ne 0 ] && grep -q 'TLS: certificate verify failed' "$d/t3b.out"
check "t3: the system store does not trust the throwaway CA (status $rc)" $? "$d/t3b.out"

# 4. A plain buyer on the TLS port: told so at once, not after a timeout.
t0=$(now_ms)
menu t4 "127.0.0.1:$GP"
rc=$?
t=$(($(now_ms) - t0))
[ $rc -ne 0 ] && grep -q 'the seller speaks TLS' "$d/t4.out" && [ $t -lt $((5000 * SLOW)) ]
check "t4: a plain buyer on the TLS port: \"the seller speaks TLS\" in ${t} ms (status $rc)" $? \
    "$d/t4.out"
wait_until 10 has_at_least "$GLOG" 'event=tls_failed peer=127.0.0.1' 1
check "t4: the gateway logs the failed handshake" $? "$GLOG"
# A port probe (connect, close) is no failed buyer: a debug line only.
port_open "$GP"
wait_until 10 has_at_least "$GLOG" 'debug: [0-9]+ event=tls_failed .*reason="unexpected eof' 1 &&
    ! grep -q 'info: [0-9]* event=tls_failed .*reason="unexpected eof' "$GLOG"
check "t4: a connection closed before its handshake is logged at debug level only" $? "$GLOG"

# 5. ALPN: sdpp/1 is chosen; a client offering only another protocol is
# refused; one offering none is served.
timeout $((10 * SLOW)) openssl s_client -connect "127.0.0.1:$GP" -alpn sdpp/1 </dev/null \
    >"$d/t5-sdpp" 2>&1
grep -q 'ALPN protocol: sdpp/1' "$d/t5-sdpp"
check "t5: ALPN sdpp/1 is selected" $? "$d/t5-sdpp"
timeout $((10 * SLOW)) openssl s_client -connect "127.0.0.1:$GP" -alpn http/1.1 </dev/null \
    >"$d/t5-http" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qi 'no application protocol\|alert' "$d/t5-http"
check "t5: a client offering only http/1.1 is refused (status $rc)" $? "$d/t5-http"
timeout $((10 * SLOW)) openssl s_client -connect "127.0.0.1:$GP" </dev/null >"$d/t5-none" 2>&1
grep -q 'No ALPN negotiated' "$d/t5-none" && grep -q 'BEGIN CERTIFICATE' "$d/t5-none"
check "t5: a client offering no ALPN is served" $? "$d/t5-none"

# 6. SIGHUP with a new certificate (only seller.example in it): served to
# new connections; a buyer dialling localhost now gets a name mismatch.
want=$(openssl x509 -noout -serial -in "$d/s2.pem")
before=$(serial "$GP")
sed -i -e 's/^tls_cert = s1.pem$/tls_cert = s2.pem/' -e 's/^tls_key = s1.key$/tls_key = s2.key/' \
    "$d/t1.ini"
kill -HUP "$GW_PID"
wait_until 10 has_at_least "$GLOG" 'event=tls_reload result=ok' 1
check "t6: SIGHUP reloads the TLS files" $? "$GLOG"
got=$(serial "$GP")
[ -n "$got" ] && [ "$got" = "$want" ] && [ "$got" != "$before" ]
check "t6: the new certificate is served ($before -> $got)" $?
menu t6 "tls://localhost:$GP" --cafile "$d/ca.pem"
rc=$?
[ $rc -ne 0 ] && grep -qi 'TLS: certificate verify failed: hostname mismatch' "$d/t6.out"
check "t6: the wrong host name: certificate verify failed: hostname mismatch (status $rc)" $? \
    "$d/t6.out"

# 7. A reload with a key that is not the certificate's keeps the running one.
sed -i -e 's/^tls_key = s2.key$/tls_key = s1.key/' "$d/t1.ini"
kill -HUP "$GW_PID"
wait_until 10 has_at_least "$GLOG" 'event=tls_reload result=refused .*keeping the running' 1
check "t7: a mismatched pair on reload is refused, the running one kept" $? "$GLOG"
got=$(serial "$GP")
[ "$got" = "$want" ]
check "t7: the previous certificate is still served ($got)" $?

# 8. -t refuses the mismatched pair, and a certificate without its key.
"$GATEWAY" -t -c "$d/t1.ini" >"$d/t8.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'tls: tls_key .*s1.key does not match tls_cert .*s2.pem' "$d/t8.out"
check "t8: -t: the key does not match the certificate (status $rc)" $? "$d/t8.out"
sed -e '/^tls_key/d' "$d/t1.ini" >"$d/t8b.ini"
"$GATEWAY" -t -c "$d/t8b.ini" >"$d/t8b.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'tls_cert needs tls_key' "$d/t8b.out"
check "t8: -t: tls_cert without tls_key (status $rc)" $? "$d/t8b.out"
sed -i -e 's/^tls_key = s1.key$/tls_key = s2.key/' "$d/t1.ini"
chmod 0644 "$d/s2.key"
"$GATEWAY" -t -c "$d/t1.ini" >"$d/t8c.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'tls_key .*s2.key.*group or others' "$d/t8c.out"
check "t8: -t: a key file others can read (status $rc)" $? "$d/t8c.out"
chmod 0600 "$d/s2.key"

# 9. A TLS buyer on a plain port: a second gateway, on the same broker.
ports=$("$TOOLS/tool_freeport" 1)
gw_config p1 "$MQ" "$ports" ""
ln -sf "$d/t1-mq.log" "$d/p1-mq.log" # gw_start reads its broker's log there
T1_PID=$GW_PID
gw_start p1
check "t9: a plain gateway on :$ports started" $? "$d/p1.log"
t0=$(now_ms)
timeout $((20 * SLOW)) "$SDPP" menu "tls://127.0.0.1:$ports" --cafile "$d/ca.pem" \
    --seller-key "$d/p1.key.pub" >"$d/t9.out" 2>&1
rc=$?
t=$(($(now_ms) - t0))
[ $rc -ne 0 ] && grep -q 'TLS: the seller does not speak TLS' "$d/t9.out" &&
    [ $t -lt $((5000 * SLOW)) ]
check "t9: a TLS buyer on a plain port: \"does not speak TLS\" in ${t} ms (status $rc)" $? \
    "$d/t9.out" "$d/p1.log"
grep -q 'reason=tls_on_plain_port' "$d/p1.log"
check "t9: the plain gateway logs a TLS client" $? "$d/p1.log"
kill -TERM "$GW_PID"
wait_exit "$GW_PID" 15
GW_PID=$T1_PID

sanitizer_clean "$d"/t*.out "$d/t1-buy.err"
check "no sanitizer report from any buyer" $? "$d"/t*.out "$d/t1-buy.err"
teardown_pair
finish
