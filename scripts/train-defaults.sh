#!/usr/bin/env bash
# Reproduces the two models shipped under models/ exactly (same seed, same thread count, same
# data), from the repository root with ../shared beside the clone:
#   models/sst2-distilbert-tiny    DistilBERT (dim 64, 2 layers) trained from random init on SST-2
#   models/shakespeare-gpt2-tiny   GPT-2 (64 wide, 2 layers) trained on Tiny Shakespeare
# Usage: bash scripts/train-defaults.sh [sst2|lm|all]   (default all). Each run replaces its folder
# only when it has finished (the trainer writes to a staging folder and renames it).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
SHARED=../shared
dotnet build src/Glassbox.Cli -c Release >/dev/null
glassbox() { dotnet src/Glassbox.Cli/bin/Release/net10.0/glassbox.dll "$@"; }

if [[ "$which" == all || "$which" == sst2 ]]; then
  glassbox train classifier --data $SHARED/data/sst2/train.tsv --eval-data $SHARED/data/sst2/dev.tsv \
    --text-column sentence --label-column label --label-names NEGATIVE,POSITIVE \
    --config scripts/train-configs/distilbert-sst2-tiny.json --tokenizer $SHARED/tokenizers/bert-base-uncased \
    --epochs 1 --lr 1e-3 --batch-size 128 --max-length 66 --warmup-ratio 0.1 --weight-decay 0.01 --clip 1.0 \
    --seed 0 --threads 2 --log-every 10 --out models/sst2-distilbert-tiny --overwrite
fi

if [[ "$which" == all || "$which" == lm ]]; then
  glassbox train lm --data $SHARED/data/tinyshakespeare/input.txt --tokenizer $SHARED/models/gpt2-shakespeare-tiny \
    --config scripts/train-configs/gpt2-shakespeare-tiny.json --steps 300 --batch-size 16 --block-size 128 \
    --lr 3e-3 --warmup-ratio 0.1 --weight-decay 0.1 --clip 1.0 --eval-every 100 --val-fraction 0.1 \
    --seed 0 --threads 2 --log-every 10 --out models/shakespeare-gpt2-tiny --overwrite
fi
