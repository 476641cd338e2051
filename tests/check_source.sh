#!/bin/sh
# Source rules as tests (TAP): sdpp/ does no I/O, keeps no globals and does
# not log; no banned libc calls anywhere; every C file opens with a purpose
# comment. Run from the repository root.
set -u
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # name, grep output (empty = pass)
	if [ -z "$2" ]; then ok "$1"; else notok "$1"; printf '%s\n' "$2" | sed 's/^/# /'; fi
}

# Layers (docs/ARCHITECTURE.md): each folder includes only these folders.
layers() {
	case $1 in
	util) echo "util" ;;
	sdpp) echo "sdpp util" ;;
	iota) echo "iota sdpp util" ;;
	ledger) echo "ledger sdpp util" ;;
	mqtt) echo "mqtt util" ;;
	tangle) echo "tangle iota sdpp util" ;;
	cli) echo "cli tangle ledger mqtt iota sdpp util" ;;
	gateway) echo "gateway tangle ledger mqtt iota sdpp util" ;;
	esac
}
bad_include=$(for d in util sdpp iota ledger mqtt tangle cli gateway; do
	allowed=" $(layers "$d") "
	grep -Ho '^#include "[a-z_]*/' "$d"/*.[ch] | sed 's|#include "||; s|/$||' |
	    while IFS=: read -r f inc; do
		case $allowed in *" $inc "*) ;; *) echo "$f includes $inc/" ;; esac
	done
done)
check "each folder includes only the layers below it (docs/ARCHITECTURE.md)" "$bad_include"

src=$(ls sdpp/*.c sdpp/*.h iota/*.c iota/*.h)
# Strip comments and string literals crudely enough for call detection.
strip() {
	sed -e 's://.*$::' -e 's:/\*.*\*/::g' -e 's:"[^"]*"::g' -e '/^[[:space:]]*\*/d' \
	    -e '/^[[:space:]]*\/\*/d' "$@"
}

io=$(for f in $src; do strip "$f" | grep -nE '\b(socket|connect|accept|bind|listen|send|recv|sendto|recvfrom|open|openat|close|read|write|pread|pwrite|fopen|fdopen|fclose|fread|fwrite|fgets|fputs|fprintf|printf|puts|perror|syslog|vsyslog|err|errx|warn|warnx|getenv|time|clock_gettime|gettimeofday|sleep|usleep|select|poll|epoll_wait|ioctl|fcntl|exit|abort)[[:space:]]*\(' | sed "s|^|$f:|"; done)
check "sdpp/ and iota/ make no socket, file, clock or logging calls" "$io"

# File-scope mutable state: 'static' or plain declarations at column 0 that
# are not functions, consts or types.
globals=$(for f in $(ls sdpp/*.c iota/*.c); do strip "$f" | grep -nE '^(static[[:space:]]+)?[a-z_]+[[:space:]*]+[a-z_][a-z0-9_]*(\[[^]]*\])*[[:space:]]*(=|;)' | grep -vE '\bconst\b' | sed "s|^|$f:|"; done)
check "sdpp/ and iota/ have no mutable globals" "$globals"

banned=$(grep -nE '\b(atoi|atol|sprintf|vsprintf|strcat|strcpy|strtok|gets)[[:space:]]*\(' $(find sdpp util cli gateway mqtt ledger iota tangle tests fuzz bench -name '*.[ch]' -not -path '*/node_modules/*' 2>/dev/null) | grep -v 'check_source')
check "no banned libc calls (atoi sprintf strcat strcpy strtok gets)" "$banned"

# A TAP check whose message runs $(...) and whose status is $? reads the
# substitution's status, never the test's: it cannot fail. Take rc=$? first.
# (Statements continued with a backslash are joined; $((...)) is fine.)
stale=$(for f in tests/*.sh tests/lib/*.sh; do
	awk -v f="$f" '
	{ line = $0; start = NR
	  while (line ~ /\\$/ && (getline more) > 0) { sub(/\\$/, "", line); line = line " " more }
	  if (line !~ /^[[:space:]]*check "/) next
	  i = index(line, " $?"); if (i == 0) next
	  pre = substr(line, 1, i); gsub(/\$\(\(/, "", pre)
	  if (index(pre, "$(") > 0) print f ":" start }' "$f"
done)
check "no TAP check reads \$? after a \$(...) in its own message" "$stale"

nohead=$(for f in $(find sdpp util cli gateway mqtt ledger iota tangle tests fuzz bench -name '*.[ch]' -not -path '*/node_modules/*' 2>/dev/null); do head -1 "$f" | grep -q '^/\* .*\*/$' || echo "$f"; done)
check "every C file opens with a one-line purpose comment" "$nohead"

# The daemon's rooms call each other without a cycle (gateway/gateway.h
# draws them): an edge A -> B for each symbol A uses that B defines.
gwobj=${SDPP_BIN:-build/bin}
gwobj=${gwobj%/bin}/gateway
if ls "$gwobj"/*.o >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	for o in "$gwobj"/*.o; do
		f=$(basename "$o" .o)
		nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 { print $3, f }' >>"$tmp/defs"
		nm -u "$o" | awk -v f="$f" '{ print $2, f }' >>"$tmp/uses"
	done
	awk 'NR == FNR { def[$1] = $2; next } ($1 in def) && def[$1] != $2 { print $2, def[$1] }' \
	    "$tmp/defs" "$tmp/uses" | sort -u >"$tmp/edges"
	cycle=$(tsort "$tmp/edges" 2>&1 >/dev/null)
	check "gateway/: no call cycle between its files ($(wc -l <"$tmp/edges") edges)" "$cycle"
	rm -rf "$tmp"
else
	ok "gateway/: no call cycle between its files # SKIP no objects in $gwobj"
fi

# Every symbol a library exports carries one of its prefixes
# (docs/ARCHITECTURE.md): module_verb, never a bare name.
prefixes() {
	case $1 in
	util) echo "util_ keyfile_" ;;
	sdpp) echo "sdpp_" ;;
	iota) echo "iota_ bcs_ base58_" ;;
	ledger) echo "ledger_ merkle_" ;;
	mqtt) echo "mqtt_" ;;
	tangle) echo "tangle_" ;;
	gateway) echo "server_ access_ book_ cut_ discover_ records_ anchor_ pay_iota_ payment_ pool_ gw_ config_ log_ tls_ main" ;;
	esac
}
objroot=${SDPP_BIN:-build/bin}
objroot=${objroot%/bin}
if ls "$objroot"/sdpp/*.o >/dev/null 2>&1; then
	unprefixed=$(for d in util sdpp iota ledger mqtt tangle gateway; do
		pre=$(prefixes "$d")
		for o in "$objroot/$d"/*.o; do
			[ -e "$o" ] || continue
			nm -g --defined-only "$o" | awk 'NF == 3 { print $3 }' | while read -r sym; do
				good=0
				for p in $pre; do
					case $sym in "$p"*) good=1 ;; esac
				done
				[ $good -eq 1 ] || echo "$d/$(basename "$o" .o).c exports $sym"
			done
		done
	done)
	check "every exported symbol has its layer's prefix" "$unprefixed"
else
	ok "every exported symbol has its layer's prefix # SKIP no objects in $objroot"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
