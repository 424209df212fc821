// Builds a tokenizer.json (Hugging Face `tokenizers` format) from a SentencePiece model, the way
// transformers does for folders that hold only spiece.model / tokenizer.model:
//
//  * Llama family (BPE models; tokenizer_class LlamaTokenizer, CodeLlama, Mistral, ...): as
//    transformers 5's LlamaTokenizer: BPE over the pieces with merges recovered from the piece
//    vocabulary (generate_merges), byte fallback, fuse_unk, no normaliser, Metaspace
//    (prepend_scheme "first", or "always" with legacy=true), decoder Replace/ByteFallback/Fuse/
//    Strip, template "<s> $A" (add_bos_token / add_eos_token).
//  * T5 (Unigram; tokenizer_class T5Tokenizer or unspecified with extra_ids): as
//    convert_slow_tokenizer's T5Converter built the published T5 tokenizer.json files: Unigram
//    with the pieces' scores plus <extra_id_N> sentinels, Precompiled charsmap + Replace(" {2,}",
//    " "), Metaspace, template "$A </s>".
//  * Other Unigram / BPE models: SpmConverter's generic pipeline without a post-processor.
//
// The result is JSON text for Tokenizer.FromJson, so the Rust-compatible pipeline does the
// encoding; control and user-defined pieces become added tokens as in SpmConverter.

using System.Text.Encodings.Web;
using System.Text.Json;

namespace Glassbox.Tokenizers.SentencePiece;

/// <summary>Converts SentencePiece models into tokenizer.json text.</summary>
public static class SentencePieceConverter
{
    private const string Replacement = "\u2581";

    /// <summary>
    /// The tokenizer.json for a model folder that has spiece.model or tokenizer.model (and maybe
    /// tokenizer_config.json / special_tokens_map.json), or null when it has neither model file.
    /// </summary>
    public static string? FolderToTokenizerJson(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        foreach (string name in new[] { "tokenizer.model", "spiece.model" })
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                string? config = ReadIfExists(Path.Combine(directory, "tokenizer_config.json"));
                string? specialMap = ReadIfExists(Path.Combine(directory, "special_tokens_map.json"));
                return ToTokenizerJson(SentencePieceModel.FromFile(path), config, specialMap);
            }
        }
        return null;
    }

    /// <summary>tokenizer.json for a .model file (special tokens and options from the optional config texts).</summary>
    public static string ToTokenizerJson(string modelPath, string? tokenizerConfigJson = null, string? specialTokensMapJson = null) =>
        ToTokenizerJson(SentencePieceModel.FromFile(modelPath), tokenizerConfigJson, specialTokensMapJson);

    /// <summary>tokenizer.json for a parsed model (special tokens and options from the optional config texts).</summary>
    /// <exception cref="FormatException">A config text is not valid JSON.</exception>
    public static string ToTokenizerJson(SentencePieceModel model, string? tokenizerConfigJson, string? specialTokensMapJson)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = new Config(Parse(tokenizerConfigJson, "tokenizer_config.json"), Parse(specialTokensMapJson, "special_tokens_map.json"));
        string cls = config.String("tokenizer_class") ?? "";
        bool bpe = model.TrainerSpec.ModelType == SentencePieceModelType.Bpe;
        if (cls.StartsWith("T5", StringComparison.Ordinal) || (cls.Length == 0 && !bpe && config.Has("extra_ids")))
            return T5(model, config);
        if (bpe) return Llama(model, config);
        return GenericUnigram(model, config);
    }

    private static string? ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    private static JsonElement? Parse(string? json, string name)
    {
        if (json == null) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : null;
        }
        catch (JsonException e)
        {
            throw new FormatException($"{name}: invalid JSON: {e.Message}", e);
        }
    }

    private sealed class Config(JsonElement? tokenizerConfig, JsonElement? specialMap)
    {
        public bool Has(string name) => Get(name) != null;

        private JsonElement? Get(string name)
        {
            foreach (var source in new[] { specialMap, tokenizerConfig })
                if (source is { } o && o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null) return v;
            return null;
        }

        public string? String(string name) => Content(Get(name));

        public bool Bool(string name, bool fallback) =>
            Get(name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

        public int Int(string name, int fallback) =>
            Get(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out int n) ? n : fallback;

        public List<string> Strings(string name)
        {
            var list = new List<string>();
            if (Get(name) is { ValueKind: JsonValueKind.Array } a)
                foreach (var e in a.EnumerateArray())
                    if (Content(e) is string s) list.Add(s);
            return list;
        }

        // A token is a string or an AddedToken object {"content": ...}.
        private static string? Content(JsonElement? e) => e switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Object } o when o.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }

    private readonly record struct Added(int Id, string Content, bool Special);

    // ---- Llama (transformers 5 LlamaTokenizer) ----

    private static string Llama(SentencePieceModel model, Config config)
    {
        var pieces = model.Pieces;
        string unk = config.String("unk_token") ?? "<unk>";
        string bos = config.String("bos_token") ?? "<s>";
        string eos = config.String("eos_token") ?? "</s>";
        bool addBos = config.Bool("add_bos_token", true);
        bool addEos = config.Bool("add_eos_token", false);
        bool legacy = config.Bool("legacy", false);
        bool addPrefixSpace = config.Bool("add_prefix_space", true);
        string prepend = !addPrefixSpace ? "never" : legacy ? "always" : "first";

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++) vocab.TryAdd(pieces[i].Piece, i);
        var merges = GenerateMerges(vocab);

        var added = SpecialAdded(model, vocab, [unk, bos, eos, config.String("pad_token")], config.Strings("additional_special_tokens"));
        return Write(w =>
        {
            WriteHeader(w, added);
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Metaspace");
            w.WriteString("replacement", Replacement);
            w.WriteString("prepend_scheme", prepend);
            w.WriteBoolean("split", false);
            w.WriteEndObject();

            var single = new List<(string Token, bool Special, int TypeId)>();
            if (addBos) single.Add((bos, true, 0));
            single.Add(("A", false, 0));
            if (addEos) single.Add((eos, true, 0));
            var pair = new List<(string Token, bool Special, int TypeId)>(single);
            if (addBos) pair.Add((bos, true, 1));
            pair.Add(("B", false, 1));
            if (addEos) pair.Add((eos, true, 1));
            var specials = new List<string>();
            if (addBos) specials.Add(bos);
            if (addEos) specials.Add(eos);
            WriteTemplate(w, single, pair, specials.Distinct().Select(s => (s, vocab.TryGetValue(s, out int id) ? id : -1)).ToList());

            w.WriteStartObject("decoder");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("decoders");
            w.WriteStartObject();
            w.WriteString("type", "Replace");
            w.WriteStartObject("pattern");
            w.WriteString("String", Replacement);
            w.WriteEndObject();
            w.WriteString("content", " ");
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "ByteFallback");
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "Fuse");
            w.WriteEndObject();
            if (addPrefixSpace)
            {
                w.WriteStartObject();
                w.WriteString("type", "Strip");
                w.WriteString("content", " ");
                w.WriteNumber("start", 1);
                w.WriteNumber("stop", 0);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", true);
            w.WriteBoolean("byte_fallback", true);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            foreach (var (piece, id) in vocab.OrderBy(kv => kv.Value)) w.WriteNumber(piece, id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (l, r) in merges)
            {
                w.WriteStartArray();
                w.WriteStringValue(l);
                w.WriteStringValue(r);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// transformers 5's merges for a SentencePiece BPE vocabulary (generate_merges without
    /// scores): every split of every piece into two pieces of the vocabulary, ordered by the id of
    /// the merged piece, then by the code-point lengths of the left and right parts (ascending).
    /// </summary>
    internal static List<(string Left, string Right)> GenerateMerges(Dictionary<string, int> vocab)
    {
        var merges = new List<(string L, string R, int Id, int LenL, int LenR)>();
        foreach (var (piece, id) in vocab)
        {
            // Split points between code points (Python slices strings by code point).
            for (int i = 1; i < piece.Length; i++)
            {
                if (char.IsLowSurrogate(piece[i]) && char.IsHighSurrogate(piece[i - 1])) continue;
                string l = piece[..i], r = piece[i..];
                if (vocab.ContainsKey(l) && vocab.ContainsKey(r)) merges.Add((l, r, id, CodePoints(l), CodePoints(r)));
            }
        }
        return merges
            .OrderBy(m => m.Id)
            .ThenBy(m => m.LenL)
            .ThenBy(m => m.LenR)
            .Select(m => (m.L, m.R))
            .ToList();
    }

    private static int CodePoints(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            n++;
        }
        return n;
    }

    // ---- T5 ----

    private static string T5(SentencePieceModel model, Config config)
    {
        var pieces = model.Pieces;
        int extraIds = config.Int("extra_ids", 100);
        var vocabScores = new List<(string Piece, double Score)>(pieces.Count + extraIds);
        foreach (var p in pieces) vocabScores.Add((p.Piece, p.Score));
        for (int i = extraIds - 1; i >= 0; i--) vocabScores.Add(($"<extra_id_{i}>", 0.0));
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabScores.Count; i++) vocab.TryAdd(vocabScores[i].Piece, i);

        string eos = config.String("eos_token") ?? "</s>";
        var extra = config.Strings("additional_special_tokens");
        for (int i = 0; i < extraIds; i++)
            if (!extra.Contains($"<extra_id_{i}>")) extra.Add($"<extra_id_{i}>");
        var added = SpecialAdded(model, vocab,
            [config.String("pad_token") ?? "<pad>", config.String("unk_token") ?? "<unk>", eos], extra);

        return Write(w =>
        {
            WriteHeader(w, added);
            WriteSpmNormalizer(w, model);
            WriteMetaspace(w, "pre_tokenizer");
            WriteTemplate(w,
                [("A", false, 0), (eos, true, 0)],
                [("A", false, 0), (eos, true, 0), ("B", false, 0), (eos, true, 0)],
                [(eos, vocab.TryGetValue(eos, out int eosId) ? eosId : -1)]);
            WriteMetaspace(w, "decoder");
            WriteUnigram(w, model, vocabScores);
        });
    }

    // ---- generic Unigram (SpmConverter) ----

    private static string GenericUnigram(SentencePieceModel model, Config config)
    {
        var vocabScores = model.Pieces.Select(p => (p.Piece, (double)p.Score)).ToList();
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabScores.Count; i++) vocab.TryAdd(vocabScores[i].Piece, i);
        var added = SpecialAdded(model, vocab,
            [config.String("unk_token"), config.String("bos_token"), config.String("eos_token"), config.String("pad_token")],
            config.Strings("additional_special_tokens"));
        return Write(w =>
        {
            WriteHeader(w, added);
            WriteSpmNormalizer(w, model);
            WriteMetaspace(w, "pre_tokenizer");
            w.WriteNull("post_processor");
            WriteMetaspace(w, "decoder");
            WriteUnigram(w, model, vocabScores);
        });
    }

    // ---- pieces of JSON ----

    // Control and user-defined pieces (SpmConverter) plus the configured special tokens.
    private static List<Added> SpecialAdded(SentencePieceModel model, Dictionary<string, int> vocab,
        IEnumerable<string?> specialTokens, IEnumerable<string> additional)
    {
        var specials = new HashSet<string>(specialTokens.Where(s => s != null)!, StringComparer.Ordinal);
        specials.UnionWith(additional);
        var byId = new SortedDictionary<int, Added>();
        for (int i = 0; i < model.Pieces.Count; i++)
        {
            var p = model.Pieces[i];
            if (p.Type is SentencePieceType.Control or SentencePieceType.UserDefined && vocab[p.Piece] == i)
                byId[i] = new Added(i, p.Piece, p.Type == SentencePieceType.Control || specials.Contains(p.Piece));
        }
        foreach (string s in specials)
            if (vocab.TryGetValue(s, out int id) && !byId.ContainsKey(id))
                byId[id] = new Added(id, s, true);
        return byId.Values.ToList();
    }

    private static void WriteHeader(Utf8JsonWriter w, List<Added> added)
    {
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var a in added)
        {
            w.WriteStartObject();
            w.WriteNumber("id", a.Id);
            w.WriteString("content", a.Content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", a.Special);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteSpmNormalizer(Utf8JsonWriter w, SentencePieceModel model)
    {
        w.WriteStartObject("normalizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("normalizers");
        if (model.NormalizerSpec.PrecompiledCharsMap.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("type", "Precompiled");
            w.WriteString("precompiled_charsmap", Convert.ToBase64String(model.NormalizerSpec.PrecompiledCharsMap));
            w.WriteEndObject();
        }
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", " {2,}");
        w.WriteEndObject();
        w.WriteString("content", " ");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMetaspace(Utf8JsonWriter w, string property)
    {
        w.WriteStartObject(property);
        w.WriteString("type", "Metaspace");
        w.WriteString("replacement", Replacement);
        w.WriteString("prepend_scheme", "always");
        w.WriteBoolean("split", true);
        w.WriteEndObject();
    }

    private static void WriteUnigram(Utf8JsonWriter w, SentencePieceModel model, List<(string Piece, double Score)> vocabScores)
    {
        w.WriteStartObject("model");
        w.WriteString("type", "Unigram");
        w.WriteNumber("unk_id", model.TrainerSpec.UnkId);
        w.WriteStartArray("vocab");
        foreach (var (piece, score) in vocabScores)
        {
            w.WriteStartArray();
            w.WriteStringValue(piece);
            w.WriteNumberValue(score);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteBoolean("byte_fallback", model.TrainerSpec.ByteFallback);
        w.WriteEndObject();
    }

    private static void WriteTemplate(Utf8JsonWriter w,
        List<(string Token, bool Special, int TypeId)> single,
        List<(string Token, bool Special, int TypeId)> pair,
        List<(string Token, int Id)> specials)
    {
        w.WriteStartObject("post_processor");
        w.WriteString("type", "TemplateProcessing");
        foreach (var (name, items) in new[] { ("single", single), ("pair", pair) })
        {
            w.WriteStartArray(name);
            foreach (var (token, special, typeId) in items)
            {
                w.WriteStartObject();
                w.WriteStartObject(special ? "SpecialToken" : "Sequence");
                w.WriteString("id", token);
                w.WriteNumber("type_id", typeId);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteStartObject("special_tokens");
        foreach (var (token, id) in specials)
        {
            if (id < 0) throw new FormatException($"special token {token} of the post-processor is not in the SentencePiece vocabulary.");
            w.WriteStartObject(token);
            w.WriteString("id", token);
            w.WriteStartArray("ids");
            w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(token);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
