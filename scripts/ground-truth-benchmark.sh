#!/usr/bin/env bash
# Ground-truth benchmark for attribution methods: a generated task whose true rationale is known.
# Each sentence is 6-12 words of a fixed neutral vocabulary with one or two planted sentiment words
# at random positions; the label is decided by the planted set (positive or negative) and nothing
# else, so the planted words ARE the rationale. The script
#   1. writes train.tsv (600 rows), dev.tsv (100, picks the best epoch) and test.tsv (100, scored)
#      with columns sentence, label, rationale (0-based word indices of the planted words, "2 7"),
#   2. trains a tiny DistilBERT (dim 32, 2 layers) from random init with `glassbox train classifier`,
#   3. scores every attribution method's recovery of the planted words with
#      `glassbox evaluate-explanations` (token F1, IOU F1, AUPRC, plus faithfulness), as JSON + HTML.
# Results and the reading of them: docs/EXPLANATION-QUALITY.md, section "Ground-truth benchmark".
#
# Usage (from anywhere, with ../shared beside the clone for the tokenizer):
#   bash scripts/ground-truth-benchmark.sh [OUT_DIR] [--generate-only]
# OUT_DIR defaults to /tmp/glassbox-ground-truth. --generate-only writes the three TSV files and stops.
# The generator is deterministic: its own Park-Miller random generator (seeds 20261201, 19700101, 31415926) in awk, so
# mawk, gawk and busybox awk write byte-identical files (awk's srand/rand differ between them).
# Environment: GLASSBOX=path/to/glassbox to skip the build; THREADS (default 2); LIMIT (default 50);
# STEPS (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

out=/tmp/glassbox-ground-truth
generate_only=0
for arg in "$@"; do
  case "$arg" in
    --generate-only) generate_only=1 ;;
    -*) echo "ground-truth-benchmark.sh: unknown option '$arg' (valid: --generate-only)" >&2; exit 2 ;;
    *) out="$arg" ;;
  esac
done
mkdir -p "$out"

# generate SEED ROWS: prints "sentence<TAB>label<TAB>rationale" rows (header included).
generate() {
  awk -v seed="$1" -v rows="$2" 'BEGIN {
    OFS = "\t"
    split("the a table window street morning report paper chair door garden river city train " \
          "letter book house road wall lamp floor office kitchen yard bridge station cup shelf " \
          "market corner bus clock box desk page field", neutral, " ")
    nn = 0; for (k in neutral) nn++
    split("splendid delightful wonderful superb", pos, " ")
    split("dreadful horrid awful terrible", neg, " ")
    state = seed
    print "sentence", "label", "rationale"
    for (r = 0; r < rows; r++) {
      len = 6 + rnd(7)                    # 6..12 words in all
      planted = 1 + rnd(2)                # one or two planted words
      label = rnd(2)                      # 1 = positive, 0 = negative
      for (i = 0; i < len; i++) { word[i] = neutral[1 + rnd(nn)]; mark[i] = 0 }
      for (p = 0; p < planted; p++) {
        do { i = rnd(len) } while (mark[i])
        mark[i] = 1
        word[i] = label ? pos[1 + rnd(4)] : neg[1 + rnd(4)]
      }
      sentence = ""; rationale = ""
      for (i = 0; i < len; i++) {
        sentence = sentence (i ? " " : "") word[i]
        if (mark[i]) rationale = rationale (rationale == "" ? "" : " ") i
      }
      print sentence, label, rationale
    }
  }
  # Park-Miller minimal standard generator: exact in double precision (16807 * 2^31 < 2^53).
  function rnd(n) { state = (state * 16807) % 2147483647; return int(state / 2147483647 * n) }'
}

generate 20261201 600 > "$out/train.tsv"
generate 19700101 100 > "$out/dev.tsv"
generate 31415926 100 > "$out/test.tsv"
echo "wrote $out/train.tsv, dev.tsv and test.tsv ($(($(wc -l < "$out/train.tsv") - 1)), $(($(wc -l < "$out/dev.tsv") - 1)) and $(($(wc -l < "$out/test.tsv") - 1)) rows)"
[[ $generate_only == 1 ]] && exit 0

threads="${THREADS:-2}"
limit="${LIMIT:-50}"
steps="${STEPS:-20}"
tokenizer=../shared/tokenizers/bert-base-uncased
[[ -f $tokenizer/tokenizer.json || -f $tokenizer/vocab.txt ]] || tokenizer=models/sst2-distilbert-tiny
if [[ -z "${GLASSBOX:-}" ]]; then
  dotnet build src/Glassbox.Cli -c Release >/dev/null
  GLASSBOX=src/Glassbox.Cli/bin/Release/net10.0/glassbox
fi
run() { echo "+ glassbox $*"; "$GLASSBOX" "$@"; }

config='{"model_type":"distilbert","activation":"gelu","dim":32,"n_layers":2,"n_heads":2,"hidden_dim":128,"vocab_size":30522,"max_position_embeddings":64,"sinusoidal_pos_embds":false,"pad_token_id":0,"initializer_range":0.02,"dropout":0.1,"attention_dropout":0.1,"qa_dropout":0.1,"seq_classif_dropout":0.1,"tie_word_embeddings":true}'

run train classifier --data "$out/train.tsv" --eval-data "$out/dev.tsv" \
  --text-column sentence --label-column label --label-names NEGATIVE,POSITIVE \
  --config "$config" --tokenizer "$tokenizer" \
  --epochs 6 --lr 3e-3 --batch-size 32 --max-length 32 --seed 0 --threads "$threads" --log-every 50 \
  --out "$out/model" --overwrite

methods=lig,saliency,input-x-gradient,smoothgrad,lime,kernel-shap,occlusion,attention,rollout
for format in json html; do
  run evaluate-explanations --model "$out/model" --data "$out/test.tsv" \
    --text-column sentence --label-column label --rationale-column rationale --rationale-format indices \
    --methods "$methods" --limit "$limit" --steps "$steps" --seed 0 --threads "$threads" \
    --format "$format" --out "$out/ground-truth.$format"
done
