#!/usr/bin/env bash
# Layer integrated gradients (50 Gauss-Legendre steps, DistilBERT-base shape, one 32-token input),
# Glassbox (`Glassbox.Bench lig`) against the equivalent PyTorch autograd loop
# (bench/pytorch/lig_distilbert.py), run as interleaved pairs: Glassbox, PyTorch, Glassbox, ...
# Each side is its own process under /usr/bin/time, so its peak RSS is its own.
#
#   bench/lig-vs-pytorch.sh                   # 4 pairs, 2 threads each side, 3 explanations per run
#   PAIRS=6 THREADS=2 REPEATS=3 bench/lig-vs-pytorch.sh
#   NO_BUILD=1 bench/lig-vs-pytorch.sh        # use the existing Release build
#
# Prints one Markdown row per run and the Glassbox/PyTorch ratios per pair:
#   wall   = median wall time of one explanation (the benchmark's own stopwatch, after a warm-up)
#   CPU    = user+system CPU time per explanation, all threads (measured around the explanations)
#   RSS    = the whole process's peak resident set (`/usr/bin/time` %M), model weights included
#   load   = `uptime` 1-minute load average before the run
# On a shared machine compare the CPU columns; on a quiet one the wall columns are the answer.
# Raw output goes to bench/results/lig-vs-pytorch-<UTC time>.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAIRS="${PAIRS:-4}"
THREADS="${THREADS:-2}"
REPEATS="${REPEATS:-3}"
PYTHON="${PYTHON:-/usr/bin/python3}"
OUT="$ROOT/bench/results"
mkdir -p "$OUT"
LOG="$OUT/lig-vs-pytorch-$(date -u +%Y%m%dT%H%M%SZ).log"
BIN="$ROOT/bench/Glassbox.Bench/bin/Release/net10.0/Glassbox.Bench"
[ -n "${NO_BUILD:-}" ] || dotnet build -c Release "$ROOT/bench/Glassbox.Bench/Glassbox.Bench.csproj" >/dev/null
[ -x "$BIN" ] || { echo "lig-vs-pytorch: $BIN is missing; build bench/Glassbox.Bench in Release first" >&2; exit 2; }
"$PYTHON" -c "import torch" 2>/dev/null || { echo "lig-vs-pytorch: $PYTHON cannot import torch (Debian: apt-get install python3-torch)" >&2; exit 2; }

load() { cut -d' ' -f1 /proc/loadavg; }

# run SIDE CMD... → sets WALL CPU RSS LOAD
run() {
  local side="$1"; shift
  LOAD="$(load)"
  local tf; tf="$(mktemp)"
  local line
  line="$(/usr/bin/time -f "%M" -o "$tf" "$@" | tail -n 1)"
  RSS=$(( $(tail -n 1 "$tf") / 1024 ))
  rm -f "$tf"
  WALL="$(sed -E 's/.*median ([0-9]+) ms.*/\1/' <<< "$line")"
  CPU="$(sed -E 's/.*CPU ([0-9]+) ms per explanation.*/\1/' <<< "$line")"
  printf '%s | %s | load %s | rss %s MiB\n' "$(date -u +%H:%M:%S)" "$line" "$LOAD" "$RSS" >> "$LOG"
}

rows=()
ratios=()
echo "| pair | side | start (UTC) | load before | wall per explanation (median of $REPEATS) | CPU per explanation | peak RSS |"
echo "|---|---|---|---:|---:|---:|---:|"
for p in $(seq 1 "$PAIRS"); do
  t="$(date -u +%H:%M)"
  run glassbox "$BIN" lig --threads "$THREADS" --repeats "$REPEATS"
  gw=$WALL gc=$CPU gr=$RSS gl=$LOAD
  echo "| $p | Glassbox | $t | $gl | $gw ms | $gc ms | $gr MiB |"
  t="$(date -u +%H:%M)"
  run pytorch "$PYTHON" "$ROOT/bench/pytorch/lig_distilbert.py" --threads "$THREADS" --repeats "$REPEATS"
  pw=$WALL pc=$CPU pr=$RSS pl=$LOAD
  echo "| $p | PyTorch | $t | $pl | $pw ms | $pc ms | $pr MiB |"
  ratios+=("$(awk -v p="$p" -v gw="$gw" -v pw="$pw" -v gc="$gc" -v pc="$pc" -v gr="$gr" -v pr="$pr" \
    'BEGIN { printf "| %d | %.2f× | %.2f× | %.2f× |", p, pw / gw, pc / gc, gr / pr }')")
done
echo
echo "| pair | PyTorch / Glassbox wall (speed-up) | PyTorch / Glassbox CPU (speed-up) | Glassbox / PyTorch peak RSS |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${ratios[@]}"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); raw lines in ${LOG#$ROOT/}"
