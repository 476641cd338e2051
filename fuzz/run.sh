#!/bin/sh
# Runs each libFuzzer target for SECONDS over its corpus in fuzz/corpus/NAME
# (new inputs go to a scratch directory, so the committed corpus stays small).
# Logs and crash artifacts go beside the target (BUILD/fuzz).
set -eu
secs=${1:?usage: run.sh SECONDS TARGET...}
shift
for bin in "$@"; do
	name=$(basename "$bin")
	out=$(dirname "$bin")
	corpus=fuzz/corpus/${name#fuzz_}
	scratch=$(mktemp -d)
	# One log per run: two runs of a target must not write one file.
	log=$out/$name.$$.log
	mkdir -p "$corpus"
	echo "fuzz $name for ${secs}s (corpus $corpus)"
	"$bin" -max_total_time="$secs" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$name"- \
		"$scratch" "$corpus" 2>"$log" || {
		tail -40 "$log"
		rm -rf "$scratch"
		exit 1
	}
	grep -aE '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' '
	echo
	rm -rf "$scratch" "$log"
done
