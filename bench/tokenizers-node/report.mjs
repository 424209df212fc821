// Reads the JSON lines written by bench/tokenizers.sh (Glassbox and Rust measurements) and
// prints a Markdown table comparing them.
//   node report.mjs results.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const find = (lib, tok, corpus, mode, threads) => rows.find((r) =>
  r.library.startsWith(lib) && r.tokenizer === tok && r.corpus === corpus && r.mode === mode && r.threads === threads);
const f = (x, d = 2) => (x === undefined ? 'n/a' : x.toFixed(d));

const keys = [...new Set(rows.map((r) => `${r.tokenizer}\t${r.corpus}`))];
const batchThreads = Math.max(...rows.filter((r) => r.mode === 'batch').map((r) => r.threads));
console.log('| tokenizer | corpus | comparison | Glassbox MB/s | Glassbox sentences/s | Rust MB/s | Rust sentences/s | Glassbox / Rust (wall) | Glassbox MB/CPU-s | Rust MB/CPU-s | Glassbox / Rust (CPU) |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const key of keys) {
  const [tok, corpus] = key.split('\t');
  const gSingle = find('glassbox', tok, corpus, 'single', 1);
  const gBatch = find('glassbox', tok, corpus, 'batch', batchThreads);
  const comparisons = [
    ['1 thread (Rust: encodeBatch, 1 rayon thread)', gSingle, find('rust', tok, corpus, 'batch', 1)],
    ['1 thread (Rust: one awaited encode() per sentence)', gSingle, find('rust', tok, corpus, 'single', 1)],
    [`batches of 1,024, ${batchThreads} threads`, gBatch, find('rust', tok, corpus, 'batch', batchThreads)],
  ];
  for (const [label, g, r] of comparisons) {
    if (!g && !r) continue;
    if (g && r && g.tokens !== r.tokens) console.error(`warning: ${tok} ${corpus}: token counts differ (Glassbox ${g.tokens}, Rust ${r.tokens})`);
    const ratio = g && r ? `${f(g.mbPerSec / r.mbPerSec)}×` : 'n/a';
    const cpuRatio = g?.mbPerCpuSec && r?.mbPerCpuSec ? `${f(g.mbPerCpuSec / r.mbPerCpuSec)}×` : 'n/a';
    console.log(`| ${tok} | ${corpus} | ${label} | ${f(g?.mbPerSec)} | ${f(g?.sentencesPerSec, 0)} | ${f(r?.mbPerSec)} | ${f(r?.sentencesPerSec, 0)} | ${ratio} | ${f(g?.mbPerCpuSec)} | ${f(r?.mbPerCpuSec)} | ${cpuRatio} |`);
  }
}
