// The tokenizer pipeline of Hugging Face `tokenizers`: added-token extraction, normalisation,
// pre-tokenisation, model, post-processing (special tokens), truncation and padding — with
// offsets into the caller's .NET string (UTF-16 code units).

namespace Glassbox.Tokenizers;

/// <summary>A Hugging Face tokenizer (tokenizer.json or legacy vocabulary files).</summary>
public sealed class Tokenizer
{
    internal Normalizer? Normalizer { get; }
    internal PreTokenizer? PreTokenizer { get; }
    internal Model Model { get; }
    internal PostProcessor? PostProcessor { get; }
    internal Decoder? Decoder { get; }
    internal AddedVocabulary AddedVocabulary { get; } = new();

    public TruncationOptions? Truncation { get; set; }
    public PaddingOptions? Padding { get; set; }

    internal Tokenizer(Normalizer? normalizer, PreTokenizer? preTokenizer, Model model, PostProcessor? postProcessor, Decoder? decoder)
    {
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        Model = model;
        PostProcessor = postProcessor;
        Decoder = decoder;
    }

    internal void AddTokens(IEnumerable<(AddedToken Token, int? Id)> tokens) => AddedVocabulary.Add(tokens, Model, Normalizer);

    /// <summary>Loads a tokenizer.json file.</summary>
    public static Tokenizer FromFile(string tokenizerJsonPath)
    {
        if (!File.Exists(tokenizerJsonPath)) throw new FileNotFoundException($"Tokenizer file not found: {tokenizerJsonPath}", tokenizerJsonPath);
        return TokenizerJson.Load(File.ReadAllText(tokenizerJsonPath));
    }

    /// <summary>Parses the content of a tokenizer.json file.</summary>
    public static Tokenizer FromJson(string json) => TokenizerJson.Load(json);

    /// <summary>
    /// Loads from a model folder: tokenizer.json; else vocab.txt (BERT family); else vocab.json +
    /// merges.txt (GPT-2 / RoBERTa), with special tokens from special_tokens_map.json / tokenizer_config.json.
    /// </summary>
    public static Tokenizer FromPretrained(string directory) => LegacyLoader.Load(directory);

    public int VocabSize => Model.VocabSize + AddedVocabulary.Map.Keys.Count(k => Model.TokenToId(k) == null);

    public int? TokenToId(string token) => AddedVocabulary.TokenToId(token, Model);

    public string? IdToToken(int id) => AddedVocabulary.SimpleIdToToken(id) ?? Model.IdToToken(id);

    /// <summary>All tokens of the model vocabulary plus added tokens.</summary>
    public IReadOnlyDictionary<string, int> GetVocab()
    {
        var d = new Dictionary<string, int>(Model.GetVocab(), StringComparer.Ordinal);
        foreach (var (k, v) in AddedVocabulary.Map) d[k] = v;
        return d;
    }

    /// <summary>Added tokens by id (special tokens and user-added ones).</summary>
    public IReadOnlyDictionary<int, AddedToken> AddedTokens => AddedVocabulary.MapR;

    private static string Sanitize(string text)
    {
        // .NET strings may hold unpaired surrogates, which Rust strings cannot; each becomes U+FFFD
        // (same length, so offsets stay valid).
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c))
            {
                var chars = text.ToCharArray();
                for (int j = i; j < chars.Length; j++)
                {
                    if (char.IsHighSurrogate(chars[j]) && j + 1 < chars.Length && char.IsLowSurrogate(chars[j + 1])) { j++; continue; }
                    if (char.IsSurrogate(chars[j])) chars[j] = '\uFFFD';
                }
                return new string(chars);
            }
        }
        return text;
    }

    internal Encoding EncodeSingle(string text, int typeId)
    {
        var pts = AddedVocabulary.ExtractAndNormalize(Normalizer, Sanitize(text));
        PreTokenizer?.PreTokenize(pts);
        if (Truncation is { } t && (t.Strategy != TruncationStrategy.OnlySecond || typeId != 0))
            pts.TokenizeWithLimit(Model, t.MaxLength, t.Direction);
        else
            pts.Tokenize(Model);
        var enc = pts.IntoEncoding(null, typeId);
        enc.SourceText = text;
        return enc;
    }

    /// <summary>Encodes a text (and optionally a pair), applying post-processing, truncation and padding.</summary>
    public Encoding Encode(string text, string? pair = null, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var encoding = EncodeSingle(text, 0);
        var pairEncoding = pair != null ? EncodeSingle(pair, 1) : null;
        return PostProcess(encoding, pairEncoding, addSpecialTokens);
    }

    /// <summary>Encodes a batch; with batch-longest padding all encodings get the same length.</summary>
    public IReadOnlyList<Encoding> EncodeBatch(IReadOnlyList<(string Text, string? Pair)> inputs, bool addSpecialTokens = true)
    {
        var result = new Encoding[inputs.Count];
        if (inputs.Count > 8)
            Parallel.For(0, inputs.Count, i => result[i] = Encode(inputs[i].Text, inputs[i].Pair, addSpecialTokens));
        else
            for (int i = 0; i < inputs.Count; i++) result[i] = Encode(inputs[i].Text, inputs[i].Pair, addSpecialTokens);
        if (Padding != null) PadEncodings(result, Padding);
        return result;
    }

    public IReadOnlyList<Encoding> EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true) =>
        EncodeBatch(texts.Select(t => (t, (string?)null)).ToList(), addSpecialTokens);

    internal Encoding PostProcess(Encoding encoding, Encoding? pair, bool addSpecialTokens)
    {
        if (Truncation is { } trunc)
        {
            int nAdded = PostProcessor?.AddedTokens(pair != null) ?? 0;
            if (addSpecialTokens && nAdded > 0)
            {
                // Rust computes max_length - added with a wrapping usize subtraction: a max_length
                // below the number of special tokens means no truncation at this step.
                if (trunc.MaxLength >= nAdded) Truncate(encoding, pair, trunc.MaxLength - nAdded, trunc);
            }
            else Truncate(encoding, pair, trunc.MaxLength, trunc);
        }
        var final = PostProcessor != null ? PostProcessor.Process(encoding, pair, addSpecialTokens) : PostProcessor.DefaultProcess(encoding, pair);
        if (Padding != null) PadEncodings([final], Padding);
        return final;
    }

    private static void Truncate(Encoding encoding, Encoding? pair, int maxLength, TruncationOptions p)
    {
        if (maxLength == 0)
        {
            encoding.Truncate(0, p.Stride, p.Direction);
            pair?.Truncate(0, p.Stride, p.Direction);
            return;
        }
        int total = encoding.Length + (pair?.Length ?? 0);
        if (total <= maxLength) return;
        int toRemove = total - maxLength;
        switch (p.Strategy)
        {
            case TruncationStrategy.LongestFirst:
                if (pair != null)
                {
                    int n1 = encoding.Length, n2 = pair.Length;
                    bool swap = false;
                    if (n1 > n2) { swap = true; (n1, n2) = (n2, n1); }
                    n2 = n1 > maxLength ? n1 : Math.Max(n1, maxLength - n1);
                    if (n1 + n2 > maxLength)
                    {
                        n1 = maxLength / 2;
                        n2 = n1 + maxLength % 2;
                    }
                    if (swap) (n1, n2) = (n2, n1);
                    encoding.Truncate(n1, p.Stride, p.Direction);
                    pair.Truncate(n2, p.Stride, p.Direction);
                }
                else encoding.Truncate(total - toRemove, p.Stride, p.Direction);
                break;
            default:
                Encoding target;
                if (p.Strategy == TruncationStrategy.OnlyFirst) target = encoding;
                else target = pair ?? throw new TokenizationException("Truncation error: Second sequence not provided");
                if (target.Length > toRemove) target.Truncate(target.Length - toRemove, p.Stride, p.Direction);
                else throw new TokenizationException("Truncation error: Sequence to truncate too short to respect the provided max_length");
                break;
        }
    }

    private static void PadEncodings(IReadOnlyList<Encoding> encodings, PaddingOptions p)
    {
        if (encodings.Count == 0) return;
        int padLength = p.Length ?? encodings.Max(e => e.Length);
        if (p.PadToMultipleOf is { } m && m > 0 && padLength % m > 0) padLength += m - padLength % m;
        foreach (var e in encodings) e.Pad(padLength, p.PadId, p.PadTypeId, p.PadToken, p.Direction);
    }

    /// <summary>Turns ids back into text through the decoder (tokens joined by spaces without one).</summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            var t = AddedVocabulary.SimpleIdToToken(id) ?? Model.IdToToken(id);
            if (t == null) continue;
            if (skipSpecialTokens && AddedVocabulary.IsSpecial(t)) continue;
            tokens.Add(t);
        }
        return Decoder != null ? Decoder.Decode(tokens) : string.Join(" ", tokens);
    }
}
