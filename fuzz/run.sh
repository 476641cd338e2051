#!/bin/sh
# Runs each libFuzzer target for SECONDS over its corpus in fuzz/corpus/NAME
# (new inputs go to a scratch directory, so the committed corpus stays small).
set -eu
secs=${1:?usage: run.sh SECONDS TARGET...}
shift
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=fuzz/corpus/${name#fuzz_}
	scratch=$(mktemp -d)
	mkdir -p "$corpus"
	echo "fuzz $name for ${secs}s (corpus $corpus)"
	"$bin" -max_total_time="$secs" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/"$name"- \
		"$scratch" "$corpus" 2>build/fuzz/"$name".log || {
		tail -40 build/fuzz/"$name".log
		rm -rf "$scratch"
		exit 1
	}
	grep -aE '^stat::number_of_executed_units|^stat::peak_rss_mb' build/fuzz/"$name".log | tr '\n' ' '
	echo
	rm -rf "$scratch"
done
