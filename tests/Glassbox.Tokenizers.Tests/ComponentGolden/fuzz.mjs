// Random edge-case strings through the six real tokenizers (Rust library, npm tokenizers 0.23.2):
//   npm install tokenizers@0.23.2 && node fuzz.mjs ../../../../shared | gzip -9n > fuzz.json.gz
import { createRequire } from 'module';
const require = createRequire(process.cwd() + '/');
const { Tokenizer } = require('tokenizers');
const shared = process.argv[2];
const names = ['bert-base-uncased', 'gpt2', 'roberta-style-gpt2', 'llama-2', 'mistral-lenml', 'rut5-large'];
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pools = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2003', '\u200b', '\u3000',
  ".,;:!?'\"()[]{}<>-_/\\@#$%^&*+=~`|",
  'éèêëàâäôöûüçñÉÀŒœßøåÅ', '\u0301\u0300\u0308\u0327\u0323\u0342',
  '我爱自然语言处理日本語のテキスト한국어문장', 'مرحبا بالعالم שלום עולם', 'नमस्ते สวัสดี',
  '😍🎬🍿👍🏽👨‍👩‍👧🇫🇷', '𝔘𝔫𝔦𝒎𝒂𝒕𝒉𠜎𠜱', 'ﬁﬂ½①™Ⅻ℃㎏', 'ΣΑΣσςİıĲ', '\u0000\u0007\u001f\u007f\ufeff\ufffd',
  "'s't're've'm'll'd", '[MASK]', '<s>', '</s>', '<unk>', '<pad>', '<|endoftext|>', '<extra_id_0>', '▁', 'Ġ',
];
const texts = [];
for (let i = 0; i < 400; i++) {
  let s = '';
  const n = 1 + rnd(12);
  for (let k = 0; k < n; k++) {
    const pool = pools[rnd(pools.length)];
    const chars = [...pool];
    if (pool.length > 12 && rnd(3) > 0) { const m = 1 + rnd(6); for (let j = 0; j < m; j++) s += chars[rnd(chars.length)]; }
    else s += pool;
  }
  texts.push(s);
}
const out = { library: 'tokenizers (npm) 0.23.2', texts, tokenizers: {} };
for (const name of names) {
  const tok = Tokenizer.fromFile(`${shared}/tokenizers/${name}/tokenizer.json`);
  const res = [];
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    const pair = i % 5 === 0 ? texts[(i + 1) % texts.length] : null;
    const e = await tok.encode(text, pair);
    const seq = e.getSequenceIds();
    const offs = e.getOffsets().map((o, j) => {
      const src = seq[j] === 1 ? pair : text;
      const cps = [...src]; const map = [0];
      for (const c of cps) map.push(map[map.length - 1] + c.length);
      return [map[o[0]] ?? o[0], map[o[1]] ?? o[1]];
    });
    res.push({ pair, ids: e.getIds(), offsets_utf16: offs, word_ids: e.getWordIds().map(x => x ?? null), type_ids: e.getTypeIds(),
      decoded: await tok.decode(e.getIds(), false), decoded_skip_special: await tok.decode(e.getIds(), true) });
  }
  out.tokenizers[name] = res;
}
process.stdout.write(JSON.stringify(out));
