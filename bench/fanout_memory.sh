#!/bin/sh
# Where a fan-out buyer's gateway memory goes (issue 17): heap by allocation site per buyer kind.
#
# usage: bench/fanout_memory.sh massif BUILD [BUYERS STREAMING RATE]
#        bench/fanout_memory.sh malloc BUILD [BUYERS STREAMING RATE]
#
# Runs `bench_gateway --only fanout10k --runs 1` from BUILD (e.g. build) with
# BENCH_AT_PHASE set, so at each step of the scenario (start: no buyer;
# menu: all BUYERS connected with their menu; ordered: as many more have
# ordered a product nobody publishes as stream, at most the rest; streaming:
# STREAMING buyers at the end of their window) the gateway is looked at:
#   massif  the gateway runs under valgrind --tool=massif and each step
#           takes a detailed snapshot through vgdb; then per-buyer bytes
#           by allocation site for each step's buyers: the allocating
#           function and the first frame of the gateway's own code above it
#           (defaults 500 100 5: valgrind's gateway keeps up with that).
#   malloc  the real gateway; gdb calls glibc's malloc_stats() at each step
#           (its output goes to the gateway's log): heap in use vs obtained
#           from the system vs VmRSS (defaults 10000 1000 10).
# Its files stay in $TMPDIR/fanout_memory.XXXXXX (printed).
set -eu
mode=${1:-}
build=${2:-}
case $mode in massif | malloc) ;; *)
	sed -n '4,5p' "$0" | sed 's/^# //' >&2
	exit 2
	;;
esac
[ -x "$build/bench/bench_gateway" ] || {
	echo "fanout_memory: $build/bench/bench_gateway: not built (make BUILD=$build)" >&2
	exit 1
}
if [ "$mode" = massif ]; then
	n=${3:-500} m=${4:-100} rate=${5:-5}
else
	n=${3:-10000} m=${4:-1000} rate=${5:-10}
fi
q=$m
[ $((n - m)) -lt "$q" ] && q=$((n - m))
build=$(cd "$build" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/fanout_memory.XXXXXX")
echo "fanout_memory: $mode, $n buyers, $m streaming, $rate samples/s; files in $dir"

if [ "$mode" = massif ]; then
	cat >"$dir/gateway.sh" <<EOF
#!/bin/sh
exec valgrind --tool=massif --vgdb=yes --depth=40 --threshold=0.01 \
    --massif-out-file=$dir/massif.end $build/bin/sdpp-gateway "\$@"
EOF
	cat >"$dir/phase.sh" <<EOF
#!/bin/sh
vgdb --pid=\$2 detailed_snapshot $dir/massif.\$1 >/dev/null 2>&1
cp /proc/\$2/status $dir/status.\$1
EOF
else
	cat >"$dir/phase.sh" <<EOF
#!/bin/sh
gdb -p \$2 -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1
cp /proc/\$2/status $dir/status.\$1
cp /proc/\$2/fd/2 $dir/gateway.log
EOF
fi
chmod +x "$dir"/*.sh
[ "$mode" = massif ] && export SDPP_GATEWAY="$dir/gateway.sh"
BENCH_AT_PHASE="$dir/phase.sh" "$build/bench/bench_gateway" "$build/bench" \
    --runs 1 --only fanout10k --fanout10k-buyers "$n" --fanout10k-streaming "$m" \
    --fanout-rate "$rate" --json "$dir/results.json" >"$dir/bench.txt" 2>&1 || {
	echo "fanout_memory: bench_gateway failed, see $dir/bench.txt" >&2
	exit 1
}
grep -E '^fanout10k|run 1:' "$dir/bench.txt"

rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "$dir/status.$1"; }

# Heap bytes by site in a massif snapshot: "bytes<TAB>site" lines, a site
# being the allocating function and the first frame of our sources above
# it (a frame with a file:line that is not in a /usr library).
sites() {
	awk '
	/^ *n[0-9]+: [0-9]+ / {
		match($0, /^ */); d = RLENGTH
		line = $0; sub(/^ *n[0-9]+: [0-9]+ (0x[0-9A-F]+: )?/, "", line)
		sub(/ \(in \/.*\)$/, "", line)
		st[d] = line
		split($1, a, "n"); kids = a[2] + 0
		if (kids == 0 && d > 0) {
			ours = ""
			for (i = 1; i <= d; i++)
				if (st[i] ~ /\([a-z_]+\.c:[0-9]+\)$/ && st[i] !~ /^(strdup|CRYPTO_|\?\?\?)/) {
					ours = st[i]; break
				}
			key = st[1]
			if (ours != "" && ours != st[1]) key = key " <- " ours
			sum[key] += $2
		}
		next
	}
	/^heap_tree=/ { intree = 1 }
	END { for (k in sum) printf "%d\t%s\n", sum[k], k }' "$1"
}

# Per-buyer difference of two snapshots by site, largest first.
perbuyer() { # from to buyers title
	echo
	echo "== $4: (heap at $2 - heap at $1) / $3, bytes per buyer by site"
	{ sites "$dir/massif.$1" | sed 's/^/-/'; sites "$dir/massif.$2"; } |
	    awk -F '\t' -v n="$3" -v tot="$dir/total" '
		{ s[$2] += $1; t += $1 }
		END {
			for (k in s) if (s[k] / n >= 8 || s[k] / n <= -8) printf "%8.0f  %s\n", s[k] / n, k
			printf "%8.0f  total heap (no malloc headers)\n", t / n >tot
		}' | sort -k1,1nr
	cat "$dir/total"
	awk -v a="$(rss "$1")" -v b="$(rss "$2")" -v n="$3" \
	    'BEGIN { printf "%8.0f  VmRSS difference (valgrind'"'"'s own included)\n", (b - a) / n }'
}

if [ "$mode" = massif ]; then
	perbuyer start menu "$n" "connected, menu received"
	[ "$q" -gt 0 ] && perbuyer menu ordered "$q" "ordered a silent product, no samples"
	perbuyer ordered streaming "$m" "streaming (its own order included)"
else
	echo
	echo "== glibc malloc_stats() (all arenas) and VmRSS at each step, bytes"
	awk '/^Total \(incl. mmap\):/ { t = 1; next }
	     t && /^system bytes/ { sys = $4 }
	     t && /^in use bytes/ { print sys, $5; t = 0 }' "$dir/gateway.log" >"$dir/stats"
	for p in start menu ordered streaming; do rss $p; done | paste -d ' ' "$dir/stats" - |
	    awk -v n="$n" -v q="$q" -v m="$m" '
	{
		sys[NR] = $1; use[NR] = $2; rss[NR] = $3; free[NR] = $1 - $2
		printf "%-10s in use %11d  from the system %11d  free in arenas %10d  VmRSS %11d\n",
		    NR == 1 ? "start" : NR == 2 ? "menu" : NR == 3 ? "ordered" : "streaming",
		    $2, $1, $1 - $2, $3
	}
	END {
		print "\n== per buyer, bytes (the step'"'"'s difference over its buyers)"
		printf "%-26s %8s %8s %8s\n", "step", "in use", "free", "VmRSS"
		split("menu (" n " buyers)|ordered (" q ")|streaming (" m ")", name, "|")
		split(n "|" q "|" m, cnt, "|")
		for (k = 2; k <= 4; k++)
			if (cnt[k - 1] > 0)
				printf "%-26s %8.0f %8.0f %8.0f\n", name[k - 1],
				    (use[k] - use[k - 1]) / cnt[k - 1],
				    (free[k] - free[k - 1]) / cnt[k - 1],
				    (rss[k] - rss[k - 1]) / cnt[k - 1]
	}'
fi
