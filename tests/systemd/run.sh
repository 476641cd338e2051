#!/usr/bin/env bash
# The gateway under a real systemd (TAP, make test-systemd): Debian 12 booted with systemd-nspawn
# from roots in BUILD/systemd-test, once with the .deb installed and once with make install;
# tests/systemd/inside.sh runs the checks there through systemctl. What keeps the test from running
# (not root, tools or network missing, a container that does not boot) is a SKIP, never a failure.
set -u
n=0 passed=0 fails=0 skips=0
ok() { n=$((n + 1)) passed=$((passed + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)) fails=$((fails + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)) skips=$((skips + 1)); echo "ok $n # SKIP $1"; }
finish() {
	echo "1..$n"
	echo "$passed passed, $fails failed, $skips skipped"
	[ "$fails" -eq 0 ]
	exit
}
skipall() { skip "$1"; finish; }
took() { echo "# time: $1: $(($(date +%s) - $2)) s"; }
# A root is removed only on its own file system: nothing a failed debootstrap or boot left
# mounted in it (/proc, a bound /dev) is followed.
remove() {
	findmnt -rn -o TARGET | grep -F "$1/" | sort -r | xargs -r umount -l 2>/dev/null
	rm -rf --one-file-system "$1"
}

root=$(pwd)
build=${BUILD:-build}
slow=${SLOW:-1}
[ "$(id -u)" -eq 0 ] || skipall "systemd: needs root (debootstrap, systemd-nspawn)"
for t in systemd-nspawn debootstrap dpkg-buildpackage fakeroot dh; do
	command -v "$t" >/dev/null || skipall "systemd: $t not installed (make deps-systemd)"
done
dpkg-checkbuilddeps >/dev/null 2>&1 || skipall "systemd: the Build-Depends are missing (make deps-systemd)"
mkdir -p "$build" || exit 1
B=$(cd "$build" && pwd)/systemd-test
mkdir -p "$B" || exit 1
begin=$(date +%s)

# 1. The packages, as make deb builds them (its own failures are the product's).
t=$(date +%s)
make -s --no-print-directory -C "$root" deb BUILD="$build" >"$B/make-deb.log" 2>&1
rc=$?
took "package build (make deb)" "$t"
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
gw=$build/deb/sdpp-gateway_${version}_$arch.deb cli=$build/deb/sdpp_${version}_$arch.deb
if [ $rc -ne 0 ] || [ ! -f "$gw" ] || [ ! -f "$cli" ]; then
	notok "make deb (status $rc)"
	tail -30 "$B/make-deb.log" | sed 's/^/# /'
	finish
fi

# 2. Debian 12 minbase with systemd, the broker and what the packages depend on (so that dpkg -i
# needs no network inside), made once per dependency list and kept in BUILD only.
deps=$({ dpkg-deb -f "$gw" Depends && dpkg-deb -f "$cli" Depends; } | tr ',' '\n' |
	sed 's/|.*//; s/(.*//; s/[[:space:]]//g' | grep -vx -e sdpp -e '' | sort -u | tr '\n' ',')
include=systemd,systemd-sysv,dbus,mosquitto,mosquitto-clients,${deps%,}
if [ ! -d "$B/base" ] || [ "$(cat "$B/base.include" 2>/dev/null)" != "$include" ]; then
	remove "$B/base"
	remove "$B/base.new"
	t=$(date +%s)
	timeout -k 30 $((1200 * slow)) debootstrap --variant=minbase --include="$include" bookworm \
		"$B/base.new" "${SDPP_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$B/debootstrap.log" 2>&1
	rc=$?
	took "debootstrap" "$t"
	if [ $rc -ne 0 ]; then
		tail -5 "$B/debootstrap.log" | sed 's/^/# /'
		remove "$B/base.new"
		skipall "systemd: debootstrap of Debian 12 failed (status $rc; network?), $B/debootstrap.log"
	fi
	# minbase has no /etc/hosts, and the sample INI's broker is localhost.
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$B/base.new/etc/hosts"
	mv "$B/base.new" "$B/base" && echo "$include" >"$B/base.include"
else
	echo "# time: debootstrap: 0 s (the base in $B/base is reused)"
fi

mkroot() { # mode: a fresh copy of the base that runs inside.sh MODE at boot
	local r=$B/$1
	remove "$r"
	cp -a "$B/base" "$r" && mkdir -p "$r/opt/sdpp-test" &&
		install -m 0755 "$root/tests/systemd/inside.sh" "$r/opt/sdpp-test/" &&
		install -m 0644 "$root/tests/systemd/sdpp-test.service" "$r/etc/systemd/system/" &&
		ln -sf /etc/systemd/system/sdpp-test.service "$r/etc/systemd/system/multi-user.target.wants/" &&
		printf 'MODE=%s\nSLOW=%s\n' "$1" "$slow" >"$r/opt/sdpp-test/env"
}

boot() { # mode: boots its root (loopback only), then reports what inside.sh wrote there
	local r=$B/$1 rc t line tap
	tap=$r/var/log/sdpp-test.tap
	t=$(date +%s)
	# inside.sh bounds each of its steps; this bounds their sum and the boot.
	timeout -k 30 $((900 * slow)) systemd-nspawn -q -D "$r" -M "sdpp-$1-$$" --boot --register=no \
		--keep-unit --private-network --console=read-only >"$B/$1-boot.log" 2>&1
	rc=$?
	took "boot and test ($1)" "$t"
	cp "$r/var/log/sdpp-test.journal" "$B/$1-journal.log" 2>/dev/null
	if ! grep -q '^# started' "$tap" 2>/dev/null; then
		tail -5 "$B/$1-boot.log" | sed 's/^/# /'
		skip "systemd: the $1 container did not boot to the test (systemd-nspawn status $rc), $B/$1-boot.log"
		return
	fi
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$1: ${line#ok - }" ;;
		"not ok - "*) notok "$1: ${line#not ok - }" ;;
		"ok # SKIP "*) skip "systemd: $1: ${line#ok # SKIP }" ;;
		*) echo "$line" ;;
		esac
	done <"$tap"
	grep -qx '# complete' "$tap" ||
		notok "$1: the test in the container stopped before its end (systemd-nspawn status $rc), $B/$1-journal.log"
}

# 3. The packages: install, start, purchase, reload, watchdog, stop, ledger, purge.
if mkroot deb && cp "$gw" "$cli" "$B/deb/opt/sdpp-test/"; then
	boot deb
else
	skip "systemd: no room for the deb root in $B"
fi

# 4. make install on the same minimal Debian without procps (so without /bin/kill): start,
# purchase, reload, stop.
if mkroot install; then
	if chroot "$B/install" dpkg -s procps >/dev/null 2>&1; then
		chroot "$B/install" dpkg --purge procps >"$B/install-procps.log" 2>&1 ||
			echo "# procps stays in the install root: $(tail -1 "$B/install-procps.log")"
	fi
	make -s --no-print-directory -C "$root" install BUILD="$build" DESTDIR="$B/install" \
		>"$B/make-install.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "make install DESTDIR=the container's root"
		boot install
	else
		notok "make install DESTDIR=the container's root (status $rc)"
		tail -10 "$B/make-install.log" | sed 's/^/# /'
	fi
else
	skip "systemd: no room for the install root in $B"
fi

if [ "${SDPP_KEEP_ROOTS:-0}" != 1 ]; then
	remove "$B/deb"
	remove "$B/install"
fi
took "total" "$begin"
finish
