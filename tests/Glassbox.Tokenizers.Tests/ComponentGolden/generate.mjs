// Generates components.json: small tokenizer.json configurations (one or a few components each,
// tiny inline vocabularies) run through the Rust library (npm `tokenizers` 0.23.2) on edge-case
// texts. TokenizerComponentTests replays every case through Glassbox.
//
//   npm install tokenizers@0.23.2 && node generate.mjs | gzip -9n > components.json.gz
//   FUZZ=1 node generate.mjs | gzip -9n > components-fuzz.json.gz   (random edge-case texts)
//
// Offsets are converted from code points (what the binding reports) to UTF-16 code units.
import { createRequire } from 'module';
const require = createRequire(process.cwd() + '/');
const { Tokenizer } = require('tokenizers');

const FUZZ = process.env.FUZZ === '1';
const FIXED_TEXTS = [
  '', ' ', ' \t\n  \r\n ', 'Hello, world!', 'The QUICK brown Fox.', 'héllo wörld café naïve',
  'e\u0301le\u0300ve cafe\u0301 n\u0303', '𝔘𝔫𝔦 𝒎𝒂 😍 👍🏽 👨\u200d👩\u200d👧 x', '我爱自然语言 NLP 123 4567 ｔｅｘｔ',
  "don't stop 3.14 a_b c-d e/f @x #y", 'ﬁ ½ Ⅻ ① ™ Å Ω', 'İstanbul ΣΑΣ ǅ ß', 'a\u0000b\u0007c\u007fd\u200be',
  '  leading and trailing  ', 'a   b    c\u00a0d\u2003e', 'ab ab abab ba aab', 'low lower lowest newer wider',
  'مرحبا שלום नमस्ते สวัสดี', 'unbelievable unaffable playing played', 'hug hugs bun buns pun',
  'The quick brown fox jumps over the lazy dog and keeps running far away from here.',
];
// FUZZ=1: random strings from edge-case character pools instead of the fixed texts
function randomTexts(count) {
  let seed = 987654;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const pools = ['abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', ' ', '   ', '\t', '\n', '\u00a0', '\u2003',
    ".,;:!?'\"()[]-_/@#$%", 'éèêëàâäôöûüçñÉÀŒœßøåÅǅ', '\u0301\u0300\u0308\u0327\u0323\u0342\u0345', 'ᄀ\u1161\u11a8가각',
    '我爱自然语言日本語のテキスト한국어', 'مرحبا שלום नमस्ते สวัสดี', '😍👍🏽👨‍👩‍👧🇫🇷', '𝔘𝔫𝔦𝒎𝒂𠜎', 'ﬁﬂ½①™Ⅻ℃㎏ｆｕｌｌ', 'ΣΑΣσςİıĲ',
    '\u0000\u0007\u001f\u007f\ufeff\u200b\u200d', "'s're'll", '[MASK]', '[CLS]', '<s>', 'WORLD', 'low', 'ab', '▁', 'Ġ'];
  const out = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = 1 + rnd(10);
    for (let k = 0; k < n; k++) {
      const chars = [...pools[rnd(pools.length)]];
      if (chars.length > 8 && rnd(3) > 0) { const m = 1 + rnd(5); for (let j = 0; j < m; j++) s += chars[rnd(chars.length)]; }
      else s += chars.join('');
    }
    out.push(s);
  }
  return out;
}
const TEXTS = FUZZ ? randomTexts(120) : FIXED_TEXTS;
const PAIRS = FUZZ ? [] : [['Hello, world!', 'ab ab'], ['', 'x y'], ['low lower', '']];

// every character that may appear after normalisation, plus byte-level and metaspace alphabets
function charVocab(extra = []) {
  const chars = new Set();
  const add = (s) => { for (const c of s) chars.add(c); };
  for (const t of TEXTS.concat(PAIRS.flat())) {
    for (const f of ['NFC', 'NFD', 'NFKC', 'NFKD']) { add(t.normalize(f)); add(t.normalize(f).toLowerCase()); }
  }
  add('▁Ġ ');
  const vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, '[PAD]': 3, '<s>': 4, '</s>': 5 };
  let id = Object.keys(vocab).length;
  for (const c of [...chars].sort()) if (!(c in vocab)) vocab[c] = id++;
  for (const w of extra) if (!(w in vocab)) vocab[w] = id++;
  return vocab;
}
function byteLevelVocab(extra = []) {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const vocab = { '<s>': 0, '</s>': 1, '<pad>': 2 };
  let id = 3;
  for (const c of cs) vocab[String.fromCodePoint(c)] = id++;
  for (const w of extra) if (!(w in vocab)) vocab[w] = id++;
  return vocab;
}
const bertTemplate = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
         { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
  special_tokens: { '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] } },
};
const charBpe = (extraMerges = [], opts = {}) => {
  const merged = extraMerges.map(([a, b]) => a + b);
  return { type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: charVocab(merged), merges: extraMerges, ...opts };
};
const specials = [
  { id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 1, content: '[CLS]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 2, content: '[SEP]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
];
const cfg = (name, parts) => ({ name, tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: specials,
  normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: charBpe(), ...parts } });

const configs = [];
// normalizers (char-level BPE shows exactly which normalized character maps where)
for (const n of [
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: true, lowercase: false },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true },
  { type: 'Lowercase' }, { type: 'NFC' }, { type: 'NFD' }, { type: 'NFKC' }, { type: 'NFKD' },
  { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }] },
  { type: 'Strip', strip_left: true, strip_right: true }, { type: 'Strip', strip_left: true, strip_right: false },
  { type: 'Strip', strip_left: false, strip_right: true },
  { type: 'Replace', pattern: { String: ' ' }, content: '▁' }, { type: 'Replace', pattern: { String: 'ab' }, content: 'X' },
  { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Replace', pattern: { Regex: '[aeiou]' }, content: '' },
  { type: 'Prepend', prepend: '▁' },
  { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
  { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true }] },
]) configs.push(cfg('normalizer ' + JSON.stringify(n), { normalizer: n }));

// pre-tokenizers
const behaviors = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
const pres = [
  { type: 'BertPreTokenizer' }, { type: 'Whitespace' }, { type: 'WhitespaceSplit' },
  { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
  { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true },
  { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
  { type: 'Punctuation', behavior: 'Isolated' }, { type: 'Punctuation', behavior: 'Contiguous' },
  { type: 'Digits', individual_digits: false }, { type: 'Digits', individual_digits: true },
  { type: 'CharDelimiterSplit', delimiter: 'b' }, { type: 'UnicodeScripts' },
  { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }] },
];
for (const b of behaviors) {
  pres.push({ type: 'Split', pattern: { String: ' ' }, behavior: b, invert: false });
  pres.push({ type: 'Split', pattern: { Regex: '[ab]+' }, behavior: b, invert: false });
  pres.push({ type: 'Split', pattern: { Regex: '\\w+' }, behavior: b, invert: true });
}
for (const p of pres) configs.push(cfg('pre_tokenizer ' + JSON.stringify(p), { pre_tokenizer: p }));

// byte-level BPE with and without the regex, prefix space; ByteLevel and Roberta processing
const blMerges = [['l', 'o'], ['lo', 'w'], ['Ġ', 'l'], ['Ġl', 'o'], ['Ġlo', 'w'], ['e', 'r'], ['Ġ', 'a'], ['a', 'b'], ['Ġa', 'b']];
const blVocab = byteLevelVocab(blMerges.map(([a, b]) => a + b));
const blModel = (o = {}) => ({ type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
  fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: blVocab, merges: blMerges.map(([a, b]) => a + ' ' + b), ...o });
const blAdded = [{ id: 0, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
                 { id: 1, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
for (const [aps, regex] of [[false, true], [true, true], [false, false], [true, false]]) {
  for (const post of [null, { type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: regex },
    { type: 'ByteLevel', add_prefix_space: aps, trim_offsets: false, use_regex: regex },
    { type: 'RobertaProcessing', sep: ['</s>', 1], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: aps },
    { type: 'RobertaProcessing', sep: ['</s>', 1], cls: ['<s>', 0], trim_offsets: false, add_prefix_space: aps }]) {
    configs.push({ name: `byte-level aps=${aps} regex=${regex} post=${JSON.stringify(post)}`, tokenizer: { version: '1.0', truncation: null, padding: null,
      added_tokens: blAdded, normalizer: null, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: regex },
      post_processor: post, decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, model: blModel() } });
  }
}
configs.push({ name: 'byte-level ignore_merges', tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: blAdded, normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, model: blModel({ ignore_merges: true, vocab: { ...blVocab, 'Ġlower': 9999 } }) } });

// models
const wpVocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, '[PAD]': 3, '[MASK]': 4, 'un': 5, '##aff': 6, '##able': 7, 'play': 8, '##ing': 9,
  '##ed': 10, 'hello': 11, ',': 12, 'world': 13, '!': 14, 'the': 15, 'low': 16, '##er': 17, '##est': 18, 'a': 19, 'b': 20, '##b': 21,
  'ab': 22, '.': 23, 'caf': 24, '##e': 25, '##é': 26, 'h': 27, '##u': 28, '##g': 29, '##s': 30, '𝔘': 31, '##𝔫': 32 };
for (const [prefix, max] of [['##', 100], ['##', 5]]) {
  configs.push(cfg(`wordpiece prefix=${prefix} max=${max}`, { normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: bertTemplate, decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: prefix, max_input_chars_per_word: max, vocab: wpVocab } }));
}
configs.push(cfg('wordpiece no cleanup, BertProcessing', { normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' },
  post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] }, decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: wpVocab } }));
configs.push(cfg('wordlevel', { normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' }, post_processor: bertTemplate,
  model: { type: 'WordLevel', unk_token: '[UNK]', vocab: wpVocab } }));

const bpeMerges = [['l', 'o'], ['lo', 'w'], ['e', 'r'], ['h', 'u'], ['hu', 'g'], ['a', 'b'], ['ab', 'ab'], ['u', 'n'], ['b', 'u']];
for (const opts of [{}, { fuse_unk: true }, { continuing_subword_prefix: '##' }, { end_of_word_suffix: '</w>' }, { ignore_merges: true }]) {
  let merges = bpeMerges;
  let extra = [];
  if (opts.continuing_subword_prefix) {
    merges = [['l', '##o'], ['lo', '##w'], ['##e', '##r'], ['h', '##u'], ['hu', '##g'], ['a', '##b'], ['ab', '##a'], ['u', '##n']];
    const base = charVocab();
    extra = Object.keys(base).filter(k => [...k].length === 1).map(c => '##' + c).concat(['lo', 'low', '##er', 'hu', 'hug', 'ab', 'aba', 'un']);
  }
  if (opts.end_of_word_suffix) {
    merges = [['l', 'o'], ['lo', 'w</w>'], ['e', 'r</w>'], ['a', 'b</w>'], ['h', 'u'], ['hu', 'g</w>']];
    const base = charVocab();
    extra = Object.keys(base).filter(k => [...k].length === 1).map(c => c + '</w>').concat(['lo', 'low</w>', 'er</w>', 'ab</w>', 'hu', 'hug</w>']);
  }
  const model = charBpe(merges, opts);
  for (const w of extra) if (!(w in model.vocab)) model.vocab[w] = Object.keys(model.vocab).length;
  if (opts.ignore_merges) model.vocab['lower'] = Object.keys(model.vocab).length;
  configs.push(cfg('bpe ' + JSON.stringify(opts), { pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: bertTemplate, model,
    decoder: opts.end_of_word_suffix ? { type: 'BPEDecoder', suffix: '</w>' } : null }));
}
// byte fallback BPE and Unigram (llama-like), Metaspace decoder and the Replace/ByteFallback/Fuse/Strip chain
const bfVocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
for (let b = 0; b < 256; b++) bfVocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = 3 + b;
for (const w of ['▁', 'a', 'b', 'l', 'o', 'w', 'e', 'r', '▁l', '▁lo', '▁low', 'er', 'h', 'u', 'g', 'n', 'c', 't', 'x', '.', ',', '!'])
  bfVocab[w] = Object.keys(bfVocab).length;
const llamaDecoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
  { type: 'Strip', content: ' ', start: 1, stop: 0 }] };
const llamaPost = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } };
const llamaAdded = [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
for (const fuse of [true, false]) for (const fallback of [true, false]) {
  configs.push({ name: `bpe byte_fallback=${fallback} fuse_unk=${fuse}`, tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: llamaAdded,
    normalizer: null, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false }, post_processor: llamaPost, decoder: llamaDecoder,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: fuse, byte_fallback: fallback,
      ignore_merges: false, vocab: bfVocab, merges: [['▁', 'l'], ['▁l', 'o'], ['▁lo', 'w'], ['e', 'r']] } } });
}
const uniVocab = Object.entries(bfVocab).map(([k, v], i) => [k, k.startsWith('<') ? 0.0 : -1.0 - (k.length === 1 ? 3 : 0) - i * 0.01]);
for (const fallback of [true, false]) {
  configs.push({ name: `unigram byte_fallback=${fallback}`, tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: llamaAdded,
    normalizer: { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, post_processor: llamaPost,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 0, byte_fallback: fallback, vocab: uniVocab } } });
}
// decoders on the char-BPE
for (const d of [{ type: 'CTC', pad_token: '[PAD]', word_delimiter_token: '|', cleanup: true }, { type: 'Fuse' },
  { type: 'Strip', content: 'H', start: 1, stop: 0 }, { type: 'Replace', pattern: { Regex: '[lo]+' }, content: '_' },
  { type: 'Sequence', decoders: [{ type: 'Fuse' }, { type: 'Strip', content: 'l', start: 2, stop: 0 }] }])
  configs.push(cfg('decoder ' + JSON.stringify(d), { pre_tokenizer: { type: 'WhitespaceSplit' }, decoder: d }));

// added tokens: special / non-special, lstrip, rstrip, single_word, normalized
const addedCases = [
  { id: 100, content: '[MASK]', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
  { id: 101, content: 'ab', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
  { id: 102, content: 'WORLD', single_word: false, lstrip: false, rstrip: true, normalized: true, special: false },
  { id: 103, content: 'low', single_word: false, lstrip: true, rstrip: true, normalized: true, special: true },
  { id: 104, content: 'lowest', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
];
configs.push({ name: 'added tokens', texts: ['Hello [MASK] world!', 'x  [MASK]  y', 'ab abab cab ab.', 'hello WORLD world   end', 'lowest low lower   low  ',
    'ablow lowest', '[MASK][MASK]ab'], tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: specials.concat(addedCases),
  normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: bertTemplate, decoder: { type: 'WordPiece', prefix: '##', cleanup: true }, model: charBpe() } });

// truncation and padding
for (const strategy of ['LongestFirst', 'OnlyFirst', 'OnlySecond']) for (const direction of ['Right', 'Left']) for (const [max, stride] of [[8, 0], [9, 2], [3, 0], [0, 0]]) {
  configs.push({ name: `truncation ${strategy} ${direction} ${max}/${stride}`, tokenizer: { version: '1.0',
    truncation: { direction, max_length: max, strategy, stride }, padding: null, added_tokens: specials,
    normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: bertTemplate, decoder: null, model: charBpe() } });
}
for (const direction of ['Right', 'Left']) for (const [strategy, multiple] of [['BatchLongest', null], ['BatchLongest', 8], [{ Fixed: 20 }, null], [{ Fixed: 20 }, 16]]) {
  configs.push({ name: `padding ${direction} ${JSON.stringify(strategy)} ${multiple}`, tokenizer: { version: '1.0', truncation: null,
    padding: { strategy, direction, pad_to_multiple_of: multiple, pad_id: 3, pad_type_id: 1, pad_token: '[PAD]' }, added_tokens: specials,
    normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: bertTemplate, decoder: null, model: charBpe() } });
}
configs.push({ name: 'no post-processor pairs', tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: specials,
  normalizer: null, pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null, model: charBpe() } });
configs.push({ name: 'post-processor sequence', tokenizer: { version: '1.0', truncation: null, padding: null, added_tokens: blAdded,
  normalizer: null, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  post_processor: { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } } }] },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, model: blModel() } });

function utf16Offsets(text, offsets) {
  const cps = [...text];
  const map = [0];
  for (const c of cps) map.push(map[map.length - 1] + c.length);
  return offsets.map(([s, e]) => [map[s] ?? s, map[e] ?? e]);
}
function dump(e, text, pair) {
  const seq = e.getSequenceIds();
  const offs = e.getOffsets();
  const conv = offs.map((o, i) => utf16Offsets(seq[i] === 1 ? pair : text, [o])[0]);
  return { ids: e.getIds(), tokens: e.getTokens(), offsets_utf16: conv, type_ids: e.getTypeIds(), attention_mask: e.getAttentionMask(),
    special_tokens_mask: e.getSpecialTokensMask(), word_ids: e.getWordIds().map(x => x ?? null), sequence_ids: seq.map(x => x ?? null) };
}
// Rust panics abort the process, so each configuration runs in a child process; when one
// aborts, its cases run one per child and the aborting ones are recorded as errors.
import { spawnSync } from 'child_process';
import { fileURLToPath } from 'url';
const self = fileURLToPath(import.meta.url);
async function runConfig(c, only) {
  const json = JSON.stringify(c.tokenizer);
  const tok = Tokenizer.fromString(json);
  const cases = [];
  const inputs = (c.texts ?? TEXTS).map(t => [t, null]).concat(PAIRS);
  const batch = c.tokenizer.padding ? inputs.filter(([, p]) => p === null).map(([t]) => t) : null;
  let batchEncodings = null;
  if (batch && (only === undefined || only < batch.length * 2)) batchEncodings = await tok.encodeBatch(batch);
  let k = -1;
  for (const [text, pair] of inputs) for (const add of [true, false]) {
    k++;
    if (only !== undefined && k !== only) continue;
    const item = { text, pair, add_special_tokens: add };
    try {
      const e = batch && pair === null && add ? batchEncodings[batch.indexOf(text)] : await tok.encode(text, pair, { addSpecialTokens: add });
      Object.assign(item, dump(e, text, pair));
      item.batch = !!(batch && pair === null && add);
      item.overflowing = e.getOverflowing().map(o => dump(o, text, pair));
      item.decoded = await tok.decode(e.getIds(), false);
      item.decoded_skip_special = await tok.decode(e.getIds(), true);
    } catch (err) { item.error = String(err); }
    cases.push(item);
  }
  return { cases, batch, count: inputs.length * 2 };
}
const args = process.argv.slice(2);
if (args[0] === '--config') {
  const c = configs[Number(args[1])];
  const r = await runConfig(c, args[2] === undefined ? undefined : Number(args[2]));
  process.stdout.write(JSON.stringify(r));
} else {
  const out = [];
  for (let i = 0; i < configs.length; i++) {
    const c = configs[i];
    if (FUZZ && (c.name.startsWith('truncation') || c.name.startsWith('padding'))) continue;
    if (FUZZ) delete c.texts;
    try { Tokenizer.fromString(JSON.stringify(c.tokenizer)); } catch (err) { out.push({ name: c.name, tokenizer: c.tokenizer, load_error: String(err) }); continue; }
    let r = spawnSync(process.execPath, [self, '--config', String(i)], { maxBuffer: 1 << 28, encoding: 'utf8' });
    if (r.status === 0) {
      const res = JSON.parse(r.stdout);
      out.push({ name: c.name, tokenizer: c.tokenizer, texts_batch: res.batch, cases: res.cases });
      continue;
    }
    const inputs = (c.texts ?? TEXTS).length + PAIRS.length;
    const cases = [];
    let batch = null;
    for (let k = 0; k < inputs * 2; k++) {
      const rc = spawnSync(process.execPath, [self, '--config', String(i), String(k)], { maxBuffer: 1 << 28, encoding: 'utf8' });
      if (rc.status === 0) { const res = JSON.parse(rc.stdout); cases.push(res.cases[0]); batch = res.batch; }
      else {
        const all = (c.texts ?? TEXTS).map(t => [t, null]).concat(PAIRS);
        const [text, pair] = all[k >> 1];
        const m = /panicked at [^\n]*\n([^\n]*)/.exec(rc.stderr);
        cases.push({ text, pair, add_special_tokens: k % 2 === 0, error: 'panic: ' + (m ? m[1] : 'aborted') });
      }
    }
    out.push({ name: c.name, tokenizer: c.tokenizer, texts_batch: batch, cases });
  }
  process.stdout.write(JSON.stringify({ library: 'tokenizers (npm) 0.23.2', configs: out }));
}
