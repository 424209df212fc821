#!/usr/bin/env bash
# Tokenizer encoding throughput, Glassbox next to the Rust `tokenizers` library (through Node,
# @anush008/tokenizers), on the same machine in the same run: SST-2 train sentences and Tiny
# Shakespeare lines, bert-base-uncased and gpt2 tokenizer.json.
#
#   bench/tokenizers.sh                 # 3 s per measurement, batch threads = nproc
#   SECONDS_PER=5 THREADS=2 bench/tokenizers.sh
#   SHARED=/path/to/shared bench/tokenizers.sh
#
# Writes bench/results/tokenizers-<UTC time>.jsonl (raw measurements) and prints a Markdown
# table (bench/tokenizers-node/report.mjs). Needs dotnet and node; installs the npm package on
# first use. The two libraries run alternately per tokenizer so that load on a shared machine
# hits both alike.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
SECONDS_PER="${SECONDS_PER:-3}"
THREADS="${THREADS:-$(nproc)}"
TOKENIZERS="${TOKENIZERS:-bert-base-uncased gpt2}"
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
RESULTS="$OUT/tokenizers-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

if [ ! -d "$ROOT/bench/tokenizers-node/node_modules/@anush008/tokenizers" ]; then
  (cd "$ROOT/bench/tokenizers-node" && npm ci --no-audit --no-fund)
fi
[ -n "${BENCH_CMD:-}" ] || dotnet build -c Release "$ROOT/bench/Glassbox.Bench/Glassbox.Bench.csproj" >/dev/null
# BENCH_CMD overrides the Glassbox side (a command that accepts the `tokenizers` verb's options).
if [ -n "${BENCH_CMD:-}" ]; then read -r -a BENCH <<< "$BENCH_CMD"; else BENCH=(dotnet "$ROOT/bench/Glassbox.Bench/bin/Release/net10.0/Glassbox.Bench.dll" tokenizers); fi

{
  echo "# $(date -u +%FT%TZ) $(uname -srm) cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) nproc: $(nproc) threads: $THREADS load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# dotnet $(dotnet --version) node $(node --version) @anush008/tokenizers $(node -p "require('$ROOT/bench/tokenizers-node/node_modules/@anush008/tokenizers/package.json').version")"
} | tee "$RESULTS"

for tok in $TOKENIZERS; do
  "${BENCH[@]}" --shared "$SHARED" --tokenizers "$tok" --modes single --seconds "$SECONDS_PER" | tee -a "$RESULTS"
  (cd "$ROOT/bench/tokenizers-node" && RAYON_NUM_THREADS=1 node bench.mjs --shared "$SHARED" --tokenizers "$tok" --modes single,batch --seconds "$SECONDS_PER") | tee -a "$RESULTS"
  "${BENCH[@]}" --shared "$SHARED" --tokenizers "$tok" --modes batch --threads "$THREADS" --seconds "$SECONDS_PER" | tee -a "$RESULTS"
  (cd "$ROOT/bench/tokenizers-node" && RAYON_NUM_THREADS="$THREADS" node bench.mjs --shared "$SHARED" --tokenizers "$tok" --modes batch --seconds "$SECONDS_PER") | tee -a "$RESULTS"
done

echo
echo "Results: $RESULTS"
node "$ROOT/bench/tokenizers-node/report.mjs" "$RESULTS"
