// Rust tokenizers (tokenizers 0.22 inside @anush008/tokenizers' napi build) encoding throughput:
// the reference side of Glassbox's tokenizer benchmark. bench/tokenizers.sh runs it next to
// `Glassbox.Bench tokenizers` on the same corpora; both print one JSON object per measurement.
//
//   node bench.mjs --shared ../../../shared [--tokenizers bert-base-uncased,gpt2] [--seconds 3]
//
// Modes: "single" awaits encode() one sentence at a time (includes the Node<->Rust call cost);
// "batch" passes batches of 1,024 sentences to encodeBatch(), which Rust runs on its rayon pool
// (RAYON_NUM_THREADS sets the thread count; the script reports what it was given).
// Besides wall-clock throughput each line has cpuSeconds (user + system time of the whole
// process, all threads) and mbPerCpuSec, which stays meaningful on a machine shared with other
// work.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Tokenizer } from '@anush008/tokenizers';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
  return acc;
}, []));
const shared = args.shared ?? '../../../shared';
const tokenizers = (args.tokenizers ?? 'bert-base-uncased,gpt2').split(',');
const minSeconds = Number(args.seconds ?? 3);
const modes = (args.modes ?? 'single,batch').split(',');
const threads = Number(process.env.RAYON_NUM_THREADS || availableParallelism());
const batchSize = 1024;

function loadCorpora() {
  const sst2 = readFileSync(join(shared, 'data/sst2/train.tsv'), 'utf8').split('\n').slice(1)
    .filter((l) => l.length > 0).map((l) => l.split('\t')[0]);
  const shakespeare = readFileSync(join(shared, 'data/tinyshakespeare/input.txt'), 'utf8').split('\n')
    .filter((l) => l.length > 0);
  return { 'sst2-train': sst2, 'tinyshakespeare-lines': shakespeare };
}

async function encodeAllSingle(tok, texts) {
  let tokens = 0;
  for (const t of texts) tokens += (await tok.encode(t)).getIds().length;
  return tokens;
}

async function encodeAllBatch(tok, texts) {
  let tokens = 0;
  for (let i = 0; i < texts.length; i += batchSize) {
    const encs = await tok.encodeBatch(texts.slice(i, i + batchSize));
    for (const e of encs) tokens += e.getIds().length;
  }
  return tokens;
}

const corpora = loadCorpora();
for (const name of tokenizers) {
  const tok = Tokenizer.fromFile(join(shared, 'tokenizers', name, 'tokenizer.json'));
  for (const [corpus, texts] of Object.entries(corpora)) {
    const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t, 'utf8'), 0);
    for (const mode of modes) {
      const run = mode === 'single' ? encodeAllSingle : encodeAllBatch;
      await run(tok, texts.slice(0, 2000)); // warm-up
      let passes = 0, tokens = 0;
      const cpu0 = process.cpuUsage();
      const start = process.hrtime.bigint();
      let elapsed = 0;
      do {
        tokens = await run(tok, texts);
        passes++;
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      } while (elapsed < minSeconds);
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      console.log(JSON.stringify({
        library: 'rust-tokenizers (node)', tokenizer: name, corpus, mode,
        threads: mode === 'single' ? 1 : threads, sentences: texts.length, bytes, tokens, passes,
        seconds: elapsed, mbPerSec: (bytes * passes) / 1e6 / elapsed, sentencesPerSec: (texts.length * passes) / elapsed,
        cpuSeconds, mbPerCpuSec: (bytes * passes) / 1e6 / cpuSeconds,
      }));
    }
  }
}
