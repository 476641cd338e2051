#!/usr/bin/env bash
# The Debian packages (TAP): `make deb' builds sdpp-gateway and sdpp in
# BUILD/deb and nowhere else, their files, conffile, Depends and maintainer
# scripts, lintian without errors, and the unpacked programs run.
# It takes about 75 s on 2 cores, so `make test' skips it unless
# SDPP_TEST_DEB=1; `make test-deb' sets that.
set -u
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # name, then a command that must succeed
	local name=$1
	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}
skipall() { echo "ok 1 # SKIP $1"; echo "1..1"; exit 0; }

[ "${SDPP_TEST_DEB:-0}" = 1 ] || skipall "Debian packages: run make test-deb (about 75 s)"
for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$t" >/dev/null || skipall "$t not installed (make deps-deb)"
done

root=$(pwd)
build=${BUILD:-$(dirname "${SDPP_BIN:-build/bin}")}
debdir=$(cd "$root" && mkdir -p "$build" && cd "$build" && pwd)/deb
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
d=$(mktemp -d /tmp/sdpp-deb.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
touch "$d/stamp"

# 1. make deb: the packages, in BUILD/deb only.
start=$(date +%s)
make -s --no-print-directory -C "$root" deb BUILD="$build" >"$d/make.log" 2>&1
rc=$?
echo "# make deb: $(($(date +%s) - start)) s"
[ $rc -eq 0 ] && ok "make deb succeeds (lintian: no errors)" ||
	{ notok "make deb (status $rc)"; sed 's/^/# /' "$d/make.log" | tail -40; }
gw=$debdir/sdpp-gateway_${version}_$(dpkg --print-architecture).deb
cli=$debdir/sdpp_${version}_$(dpkg --print-architecture).deb
if [ ! -f "$gw" ] || [ ! -f "$cli" ]; then
	notok "no $gw or $cli"
	echo "1..$n"
	exit 1
fi
ok "sdpp-gateway and sdpp $version are in BUILD/deb"
stray=$(find "$root/.." -maxdepth 1 -newer "$d/stamp" \( -name 'sdpp*.deb' -o -name 'sdpp*.changes' \
	-o -name 'sdpp*.buildinfo' \) 2>/dev/null)
left=$(cd "$root" && git status --porcelain --ignored -- debian 2>/dev/null | grep '^!!')
[ -z "$stray$left" ] && ok "nothing written beside the repository or into debian/" ||
	notok "stray files: $stray $left"

# 2. What each package holds.
dpkg-deb -c "$gw" | awk '{ print $1, $6 }' >"$d/gw.list"
dpkg-deb -c "$cli" | awk '{ print $1, $6 }' >"$d/cli.list"
for f in "-rwxr-xr-x ./usr/sbin/sdpp-gateway" \
	"-rw-r--r-- ./lib/systemd/system/sdpp-gateway.service" \
	"-rw-r--r-- ./etc/sdpp-gateway/sdpp-gateway.ini" \
	"-rw-r--r-- ./usr/share/man/man5/sdpp-gateway.ini.5.gz" \
	"-rw-r--r-- ./usr/share/man/man8/sdpp-gateway.8.gz" \
	"-rw-r--r-- ./usr/share/doc/sdpp-gateway/OPERATIONS.md.gz" \
	"-rw-r--r-- ./usr/share/doc/sdpp-gateway/copyright"; do
	grep -qxF -- "$f" "$d/gw.list" || echo "sdpp-gateway lacks $f" >>"$d/missing"
done
for f in "-rwxr-xr-x ./usr/bin/sdpp" "-rw-r--r-- ./usr/share/man/man1/sdpp.1.gz" \
	"-rw-r--r-- ./usr/share/doc/sdpp/copyright"; do
	grep -qxF -- "$f" "$d/cli.list" || echo "sdpp lacks $f" >>"$d/missing"
done
[ ! -s "$d/missing" ] && ok "the binaries, unit, INI, man pages and docs are packaged, with their modes" ||
	{ notok "missing files"; sed 's/^/# /' "$d/missing"; }
if grep -q 'usr/bin/sdpp$' "$d/gw.list" || grep -q 'sdpp-gateway' "$d/cli.list" ||
	grep -q mqtt-password "$d/gw.list"; then
	notok "a program in both packages, or mqtt-password shipped"
else
	ok "each program in one package; no mqtt-password shipped"
fi

dpkg-deb -e "$gw" "$d/ctl"
grep -qx /etc/sdpp-gateway/sdpp-gateway.ini "$d/ctl/conffiles" && [ "$(wc -l <"$d/ctl/conffiles")" -eq 1 ] &&
	ok "the INI is the one conffile" || notok "conffiles: $(tr '\n' ' ' <"$d/ctl/conffiles")"
deps=$(dpkg-deb -f "$gw" Depends)
miss=""
for p in libpaho-mqtt1.3 libssl3 libsqlite3-0 libsodium23 libcjson1 libevent-2.1-7 \
	libevent-pthreads-2.1-7 libsystemd0 "sdpp (= $version)"; do
	case ", $deps," in *", $p"[\ ,]*) ;; *) miss="$miss $p" ;; esac
done
[ -z "$miss" ] && ok "sdpp-gateway Depends on its libraries and sdpp" ||
	{ notok "Depends lacks$miss"; echo "# $deps"; }
case "$(dpkg-deb -f "$cli" Depends)" in
*libpaho-mqtt1.3*libqrencode4*) ok "sdpp Depends on its libraries" ;;
*) notok "sdpp Depends: $(dpkg-deb -f "$cli" Depends)" ;;
esac

# 3. Maintainer scripts: the unit is not enabled at installation (only
# re-enabled if it was), and postinst makes the empty 0600 password file.
grep -q "debian-installed 'sdpp-gateway.service'" "$d/ctl/postinst" &&
	! grep -q 'was-enabled defaults to true' "$d/ctl/postinst" &&
	ok "the unit is not enabled (so not started) at installation" || notok "postinst enables the unit"
mkdir -p "$d/fake/etc/sdpp-gateway"
sed "s|/etc/sdpp-gateway/|$d/fake/etc/sdpp-gateway/|; /^#DEBHELPER#/d" "$root/debian/sdpp-gateway.postinst" >"$d/postinst"
(umask 022 && sh "$d/postinst" configure) && [ "$(stat -c %a "$d/fake/etc/sdpp-gateway/mqtt-password")" = 600 ] &&
	[ ! -s "$d/fake/etc/sdpp-gateway/mqtt-password" ] &&
	ok "postinst creates an empty mqtt-password, mode 0600" || notok "postinst and mqtt-password"
echo secret >"$d/fake/etc/sdpp-gateway/mqtt-password"
sh "$d/postinst" configure 0.1.0 && [ "$(cat "$d/fake/etc/sdpp-gateway/mqtt-password")" = secret ] &&
	ok "postinst keeps an existing password on upgrade" || notok "postinst replaced the password"

# 4. lintian: no errors; the other tags are listed (explained in debian/README.source).
lintian -I --pedantic "$debdir"/*.changes >"$d/lintian" 2>/dev/null
rc=$?
grep -v '^N:' "$d/lintian" | sed 's/^/# lintian: /'
[ $rc -eq 0 ] && ! grep -q '^E:' "$d/lintian" && ok "lintian reports no errors" || notok "lintian (status $rc)"

# 5. The unpacked programs run: versions, and -t on the packaged sample config.
dpkg-deb -x "$gw" "$d/root" && dpkg-deb -x "$cli" "$d/root"
unresolved=$(ldd "$d/root/usr/sbin/sdpp-gateway" "$d/root/usr/bin/sdpp" | grep 'not found')
[ -z "$unresolved" ] && ok "every shared library resolves" || notok "ldd: $unresolved"
"$d/root/usr/sbin/sdpp-gateway" --version | grep -q "^sdpp-gateway $version " &&
	"$d/root/usr/bin/sdpp" --version | grep -q "^sdpp $version " &&
	ok "the programs say version $version" || notok "--version"
grep -q '^ExecStart=/usr/sbin/sdpp-gateway -c ' "$d/root/lib/systemd/system/sdpp-gateway.service" &&
	! grep -q @SBINDIR@ "$d/root/lib/systemd/system/sdpp-gateway.service" &&
	ok "the unit runs /usr/sbin/sdpp-gateway" || notok "unit paths"
mkdir -p "$d/state"
sed -e "s|^\[gateway\]|[gateway]\nkey = $d/state/seller.key|" \
	-e "s|^\[ledger\]|[ledger]\npath = $d/state/ledger.db|" \
	"$d/root/etc/sdpp-gateway/sdpp-gateway.ini" >"$d/gw.ini"
"$d/root/usr/sbin/sdpp-gateway" -t -c "$d/gw.ini" >"$d/t.out" 2>&1 &&
	ok "the packaged sample configuration passes -t" || { notok "-t"; sed 's/^/# /' "$d/t.out"; }
"$d/root/usr/bin/sdpp" keygen -o "$d/k" >/dev/null && "$d/root/usr/bin/sdpp" pubkey "$d/k.pub" >/dev/null &&
	ok "the packaged sdpp makes and reads a key" || notok "sdpp keygen/pubkey"

echo "1..$n"
[ "$fails" -eq 0 ]
