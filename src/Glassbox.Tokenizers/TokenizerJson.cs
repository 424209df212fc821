// tokenizer.json reader. Every problem is reported as a TokenizerFormatException naming the JSON
// path of the offending value (for example `$.model.merges[17]`) and what is wrong with it.

using System.Text.Json;
using System.Text.RegularExpressions;
using Glassbox.Tokenizers.SentencePiece;

namespace Glassbox.Tokenizers;

internal readonly struct JNode(JsonElement element, string path)
{
    public JsonElement E { get; } = element;
    public string Path { get; } = path;

    public TokenizerFormatException Error(string message) => new(Path, message);

    public bool IsNull => E.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public JNode? Opt(string name)
    {
        if (E.ValueKind != JsonValueKind.Object) throw Error($"expected an object, found {Kind(E)}");
        return E.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? new JNode(v, $"{Path}.{name}") : null;
    }

    public JNode Req(string name) => Opt(name) ?? throw new TokenizerFormatException($"{Path}.{name}", "required field is missing");

    public JNode this[int i] => new(E[i], $"{Path}[{i}]");

    public IEnumerable<JNode> Items()
    {
        if (E.ValueKind != JsonValueKind.Array) throw Error($"expected an array, found {Kind(E)}");
        int i = 0;
        foreach (var x in E.EnumerateArray()) yield return new JNode(x, $"{Path}[{i++}]");
    }

    public int Count => E.ValueKind == JsonValueKind.Array ? E.GetArrayLength() : throw Error($"expected an array, found {Kind(E)}");

    public string Str() => E.ValueKind == JsonValueKind.String ? E.GetString()! : throw Error($"expected a string, found {Kind(E)}");
    public bool Bool() => E.ValueKind is JsonValueKind.True or JsonValueKind.False ? E.GetBoolean() : throw Error($"expected true or false, found {Kind(E)}");
    public int Int() => E.ValueKind == JsonValueKind.Number && E.TryGetInt32(out var v) ? v : throw Error($"expected an integer, found {Kind(E)}");
    public double Num() => E.ValueKind == JsonValueKind.Number ? E.GetDouble() : throw Error($"expected a number, found {Kind(E)}");

    public string? OptStr(string name) => Opt(name)?.Str();
    public bool OptBool(string name, bool def) => Opt(name)?.Bool() ?? def;
    public int OptInt(string name, int def) => Opt(name)?.Int() ?? def;

    public string Type() => Req("type").Str();

    public static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

internal static class TokenizerJson
{
    public static Tokenizer Load(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"$ (line {e.LineNumber + 1}, byte {e.BytePositionInLine})", $"invalid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = new JNode(doc.RootElement, "$");
            if (root.E.ValueKind != JsonValueKind.Object) throw root.Error($"expected an object, found {JNode.Kind(root.E)}");
            if (root.OptStr("version") is { } v && v != "1.0") throw root.Req("version").Error($"unknown tokenizer version '{v}' (expected \"1.0\")");
            var normalizer = root.Opt("normalizer") is { } n ? ParseNormalizer(n) : null;
            var pre = root.Opt("pre_tokenizer") is { } p ? ParsePreTokenizer(p) : null;
            var model = ParseModel(root.Req("model"));
            var post = root.Opt("post_processor") is { } pp ? ParsePostProcessor(pp) : null;
            var decoder = root.Opt("decoder") is { } d ? ParseDecoder(d) : null;
            var tokenizer = new Tokenizer(normalizer, pre, model, post, decoder);
            if (root.Opt("added_tokens") is { } added)
            {
                var list = new List<(AddedToken, int?)>();
                foreach (var t in added.Items())
                {
                    var token = new AddedToken(t.Req("content").Str(), t.OptBool("special", false), t.OptBool("single_word", false),
                        t.OptBool("lstrip", false), t.OptBool("rstrip", false), t.OptBool("normalized", !t.OptBool("special", false)));
                    list.Add((token, t.Opt("id")?.Int()));
                }
                tokenizer.AddTokens(list);
            }
            if (root.Opt("truncation") is { } tr) tokenizer.Truncation = ParseTruncation(tr);
            if (root.Opt("padding") is { } pd) tokenizer.Padding = ParsePadding(pd);
            return tokenizer;
        }
    }

    private static TruncationOptions ParseTruncation(JNode n) => new()
    {
        MaxLength = n.OptInt("max_length", 512),
        Stride = n.OptInt("stride", 0),
        Strategy = (n.OptStr("strategy") ?? "LongestFirst") switch
        {
            "LongestFirst" or "longest_first" => TruncationStrategy.LongestFirst,
            "OnlyFirst" or "only_first" => TruncationStrategy.OnlyFirst,
            "OnlySecond" or "only_second" => TruncationStrategy.OnlySecond,
            var s => throw n.Req("strategy").Error($"unknown truncation strategy '{s}'"),
        },
        Direction = (n.OptStr("direction") ?? "Right") is "Left" or "left" ? TruncationDirection.Left : TruncationDirection.Right,
    };

    private static PaddingOptions ParsePadding(JNode n)
    {
        var p = new PaddingOptions
        {
            PadId = n.OptInt("pad_id", 0),
            PadTypeId = n.OptInt("pad_type_id", 0),
            PadToken = n.OptStr("pad_token") ?? "[PAD]",
            Direction = (n.OptStr("direction") ?? "Right") is "Left" or "left" ? PaddingDirection.Left : PaddingDirection.Right,
            PadToMultipleOf = n.Opt("pad_to_multiple_of")?.Int(),
        };
        if (n.Opt("strategy") is { } s)
        {
            if (s.E.ValueKind == JsonValueKind.Object) p.Length = s.Req("Fixed").Int();
            else if (s.Str() != "BatchLongest") throw s.Error($"unknown padding strategy '{s.Str()}'");
        }
        return p;
    }

    private static Regex CompileRegex(JNode n, string pattern)
    {
        try { return RegexFactory.Create(pattern); }
        catch (ArgumentException e) { throw n.Error($"invalid regex '{pattern}': {e.Message}"); }
    }

    private static IPattern ParsePattern(JNode n)
    {
        if (n.E.ValueKind != JsonValueKind.Object) throw n.Error("expected a pattern object {\"String\": ...} or {\"Regex\": ...}");
        if (n.Opt("String") is { } s) return new StringPattern(s.Str());
        if (n.Opt("Regex") is { } r) return new RegexPattern(CompileRegex(r, r.Str()));
        throw n.Error("a pattern must have a \"String\" or \"Regex\" field");
    }

    private static int SingleChar(JNode n)
    {
        string s = n.Str();
        var runes = s.EnumerateRunes().ToList();
        if (runes.Count != 1) throw n.Error($"expected a single character, found '{s}'");
        return runes[0].Value;
    }

    private static SplitDelimiterBehavior ParseBehavior(JNode n) => n.Str() switch
    {
        "Removed" => SplitDelimiterBehavior.Removed,
        "Isolated" => SplitDelimiterBehavior.Isolated,
        "MergedWithPrevious" => SplitDelimiterBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitDelimiterBehavior.MergedWithNext,
        "Contiguous" => SplitDelimiterBehavior.Contiguous,
        var s => throw n.Error($"unknown split behavior '{s}' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)"),
    };

    internal static Normalizer ParseNormalizer(JNode n)
    {
        string type = n.Type();
        switch (type)
        {
            case "BertNormalizer":
                return new BertNormalizer(n.OptBool("clean_text", true), n.OptBool("handle_chinese_chars", true),
                    n.Opt("strip_accents")?.Bool(), n.OptBool("lowercase", true));
            case "Lowercase": return new LowercaseNormalizer();
            case "NFC": case "NFD": case "NFKC": case "NFKD": return new UnicodeNormalizer(type);
            case "StripAccents": return new StripAccentsNormalizer();
            case "Strip": return new StripNormalizer(n.OptBool("strip_left", true), n.OptBool("strip_right", true));
            case "Replace": return new ReplaceNormalizer(ParsePattern(n.Req("pattern")), n.Req("content").Str());
            case "Prepend": return new PrependNormalizer(n.Req("prepend").Str());
            case "Nmt": return new NmtNormalizer();
            case "Sequence": return new SequenceNormalizer(n.Req("normalizers").Items().Select(ParseNormalizer).ToList());
            case "Precompiled":
            {
                var field = n.Opt("precompiled_charsmap");
                if (field == null) return new SequenceNormalizer([]);
                byte[] bytes;
                try { bytes = Convert.FromBase64String(field.Value.Str()); }
                catch (FormatException) { throw field.Value.Error("precompiled_charsmap is not valid base64"); }
                if (bytes.Length == 0) return new SequenceNormalizer([]);
                try { return new PrecompiledNormalizer(PrecompiledCharsMap.FromBytes(bytes)); }
                catch (FormatException e) { throw field.Value.Error(e.Message); }
            }
            default:
                throw n.Req("type").Error($"unknown normalizer type '{type}'");
        }
    }

    internal static PreTokenizer ParsePreTokenizer(JNode n)
    {
        string type = n.Type();
        switch (type)
        {
            case "BertPreTokenizer": return new BertPreTokenizer();
            case "ByteLevel": return new ByteLevelPreTokenizer(n.OptBool("add_prefix_space", true), n.OptBool("trim_offsets", true), n.OptBool("use_regex", true));
            case "Whitespace": return new WhitespacePreTokenizer();
            case "WhitespaceSplit": return new WhitespaceSplitPreTokenizer();
            case "Metaspace":
            {
                var (rep, scheme) = ParseMetaspace(n);
                return new MetaspacePreTokenizer(rep, scheme, n.OptBool("split", true));
            }
            case "Split":
                return new SplitPreTokenizer(ParsePattern(n.Req("pattern")), ParseBehavior(n.Req("behavior")), n.OptBool("invert", false));
            case "Punctuation":
                return new PunctuationPreTokenizer(n.Opt("behavior") is { } b ? ParseBehavior(b) : SplitDelimiterBehavior.Isolated);
            case "Digits": return new DigitsPreTokenizer(n.OptBool("individual_digits", false));
            case "CharDelimiterSplit": return new CharDelimiterSplitPreTokenizer(SingleChar(n.Req("delimiter")));
            case "UnicodeScripts": return new UnicodeScriptsPreTokenizer();
            case "Sequence": return new SequencePreTokenizer(n.Req("pretokenizers").Items().Select(ParsePreTokenizer).ToList());
            default: throw n.Req("type").Error($"unknown pre-tokenizer type '{type}'");
        }
    }

    private static (int Replacement, PrependScheme Scheme) ParseMetaspace(JNode n)
    {
        int rep = n.Opt("replacement") is { } r ? SingleChar(r) : 0x2581;
        var scheme = PrependScheme.Always;
        if (n.Opt("prepend_scheme") is { } ps)
        {
            scheme = ps.Str() switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                var s => throw ps.Error($"unknown prepend_scheme '{s}' (expected always, first or never)"),
            };
        }
        if (n.Opt("add_prefix_space") is { } aps && !aps.Bool())
        {
            if (n.Opt("prepend_scheme") != null && scheme != PrependScheme.Never)
                throw aps.Error("add_prefix_space does not match declared prepend_scheme");
            scheme = PrependScheme.Never;
        }
        return (rep, scheme);
    }

    private static Dictionary<string, int> ParseVocabMap(JNode v)
    {
        if (v.E.ValueKind != JsonValueKind.Object) throw v.Error($"expected an object mapping tokens to ids, found {JNode.Kind(v.E)}");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in v.E.EnumerateObject())
        {
            var node = new JNode(p.Value, $"{v.Path}[{JsonSerializer.Serialize(p.Name)}]");
            int id = node.Int();
            if (id < 0) throw node.Error($"negative token id {id}");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    internal static Model ParseModel(JNode n)
    {
        string? type = n.OptStr("type");
        if (type == null)
        {
            // untagged (older files): infer from the fields
            if (n.Opt("merges") != null) type = "BPE";
            else if (n.Opt("vocab") is { } v && v.E.ValueKind == JsonValueKind.Array) type = "Unigram";
            else if (n.Opt("continuing_subword_prefix") != null || n.Opt("max_input_chars_per_word") != null) type = "WordPiece";
            else if (n.Opt("vocab") != null) type = "WordLevel";
            else throw n.Error("model has no \"type\" and no \"vocab\"");
        }
        switch (type)
        {
            case "WordPiece":
                return new WordPieceModel(ParseVocabMap(n.Req("vocab")), n.OptStr("unk_token") ?? "[UNK]",
                    n.OptStr("continuing_subword_prefix") ?? "##", n.OptInt("max_input_chars_per_word", 100));
            case "WordLevel":
                return new WordLevelModel(ParseVocabMap(n.Req("vocab")), n.Req("unk_token").Str());
            case "BPE":
            {
                var vocab = ParseVocabMap(n.Req("vocab"));
                var mergesNode = n.Req("merges");
                var merges = new List<(string, string)>(mergesNode.Count);
                foreach (var m in mergesNode.Items())
                {
                    if (m.E.ValueKind == JsonValueKind.String)
                    {
                        string line = m.Str();
                        if (line.StartsWith("#version", StringComparison.Ordinal)) continue;
                        var parts = line.Split(' ');
                        if (parts.Length != 2) throw m.Error($"bad merges line '{line}': expected two tokens separated by one space");
                        merges.Add((parts[0], parts[1]));
                    }
                    else if (m.E.ValueKind == JsonValueKind.Array)
                    {
                        if (m.Count != 2) throw m.Error($"a merge must be a pair of two tokens, found {m.Count} elements");
                        merges.Add((m[0].Str(), m[1].Str()));
                    }
                    else throw m.Error($"a merge must be a string \"a b\" or a pair [\"a\", \"b\"], found {JNode.Kind(m.E)}");
                }
                if (n.Opt("dropout") is { } dn)
                {
                    double d = dn.Num();
                    if (d < 0 || d > 1) throw dn.Error($"dropout must be between 0 and 1, found {d}");
                }
                var mergeItems = mergesNode.Items().Where(m => !(m.E.ValueKind == JsonValueKind.String && m.Str().StartsWith("#version", StringComparison.Ordinal))).ToList();
                return new BpeModel(vocab, merges, n.OptStr("unk_token"), n.OptStr("continuing_subword_prefix"), n.OptStr("end_of_word_suffix"),
                    n.OptBool("fuse_unk", false), n.OptBool("byte_fallback", false), n.OptBool("ignore_merges", false),
                    (i, msg) => mergeItems[i].Error(msg));
            }
            case "Unigram":
            {
                var vocabNode = n.Req("vocab");
                var vocab = new List<(string, double)>(vocabNode.Count);
                foreach (var item in vocabNode.Items())
                {
                    if (item.E.ValueKind != JsonValueKind.Array || item.Count != 2)
                        throw item.Error("a Unigram vocabulary entry must be a pair [piece, score]");
                    vocab.Add((item[0].Str(), item[1].Num()));
                }
                int? unkId = n.Opt("unk_id")?.Int();
                if (unkId is { } u && (u < 0 || u >= vocab.Count))
                    throw n.Req("unk_id").Error($"unk_id {u} is outside the vocabulary (size {vocab.Count})");
                if (unkId != null && vocab.Count == 0) throw vocabNode.Error("the vocabulary is empty");
                return new UnigramModel(vocab, unkId, n.OptBool("byte_fallback", false));
            }
            default:
                throw n.Req("type").Error($"unknown model type '{type}' (expected BPE, WordPiece, WordLevel or Unigram)");
        }
    }

    internal static PostProcessor ParsePostProcessor(JNode n)
    {
        string type = n.Type();
        switch (type)
        {
            case "TemplateProcessing":
            {
                var special = new Dictionary<string, (int[], string[])>(StringComparer.Ordinal);
                if (n.Opt("special_tokens") is { } st)
                {
                    if (st.E.ValueKind != JsonValueKind.Object) throw st.Error("expected an object of special tokens");
                    foreach (var p in st.E.EnumerateObject())
                    {
                        var t = new JNode(p.Value, $"{st.Path}[{JsonSerializer.Serialize(p.Name)}]");
                        var ids = t.Req("ids").Items().Select(x => x.Int()).ToArray();
                        var toks = t.Req("tokens").Items().Select(x => x.Str()).ToArray();
                        if (ids.Length != toks.Length) throw t.Error("special token ids and tokens have different lengths");
                        special[t.OptStr("id") ?? p.Name] = (ids, toks);
                    }
                }
                var single = ParseTemplate(n.Req("single"), special);
                var pair = n.Opt("pair") is { } pn ? ParseTemplate(pn, special) : single;
                return new TemplatePostProcessor(single, pair, special);
            }
            case "BertProcessing":
                return new BertPostProcessor(ParseTokenPair(n.Req("sep")), ParseTokenPair(n.Req("cls")));
            case "RobertaProcessing":
                return new RobertaPostProcessor(ParseTokenPair(n.Req("sep")), ParseTokenPair(n.Req("cls")), n.OptBool("trim_offsets", true), n.OptBool("add_prefix_space", true));
            case "ByteLevel":
                return new ByteLevelPostProcessor(n.OptBool("add_prefix_space", true), n.OptBool("trim_offsets", true));
            case "Sequence":
                return new SequencePostProcessor(n.Req("processors").Items().Select(ParsePostProcessor).ToList());
            default:
                throw n.Req("type").Error($"unknown post-processor type '{type}'");
        }
    }

    private static (string, int) ParseTokenPair(JNode n)
    {
        if (n.E.ValueKind != JsonValueKind.Array || n.Count != 2) throw n.Error("expected a pair [token, id]");
        return (n[0].Str(), n[1].Int());
    }

    private static List<TemplatePiece> ParseTemplate(JNode n, Dictionary<string, (int[], string[])> special)
    {
        var pieces = new List<TemplatePiece>();
        IEnumerable<JNode> items = n.E.ValueKind == JsonValueKind.String
            ? n.Str().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => new JNode(JsonDocument.Parse(JsonSerializer.Serialize(s)).RootElement, n.Path))
            : n.Items();
        foreach (var item in items)
        {
            if (item.E.ValueKind == JsonValueKind.String)
            {
                pieces.Add(ParsePieceString(item, item.Str()));
            }
            else if (item.Opt("Sequence") is { } seq)
            {
                string id = seq.Req("id").Str();
                pieces.Add(new TemplatePiece
                {
                    IsSequence = true,
                    SequenceIndex = id switch { "A" => 0, "B" => 1, _ => throw seq.Req("id").Error($"unknown sequence id '{id}' (expected A or B)") },
                    TypeId = seq.OptInt("type_id", 0),
                });
            }
            else if (item.Opt("SpecialToken") is { } sp)
            {
                string id = sp.Req("id").Str();
                if (!special.ContainsKey(id)) throw sp.Req("id").Error($"special token '{id}' is used in the template but missing from special_tokens");
                pieces.Add(new TemplatePiece { SpecialId = id, TypeId = sp.OptInt("type_id", 0) });
            }
            else throw item.Error("a template piece must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
        return pieces;
    }

    private static TemplatePiece ParsePieceString(JNode at, string s)
    {
        string name = s;
        int typeId = 0;
        int colon = s.LastIndexOf(':');
        if (colon > 0 && int.TryParse(s[(colon + 1)..], out var t)) { name = s[..colon]; typeId = t; }
        if (name.StartsWith('$'))
        {
            string rest = name[1..];
            int idx = rest switch { "" or "A" or "a" => 0, "B" or "b" => 1, _ when int.TryParse(rest, out var k) => -1 - k, _ => throw at.Error($"unknown template sequence '{name}'") };
            if (idx < 0) { typeId = -1 - idx; idx = 0; }
            return new TemplatePiece { IsSequence = true, SequenceIndex = idx, TypeId = typeId };
        }
        return new TemplatePiece { SpecialId = name, TypeId = typeId };
    }

    internal static Decoder ParseDecoder(JNode n)
    {
        string type = n.Type();
        switch (type)
        {
            case "WordPiece": return new WordPieceDecoder(n.OptStr("prefix") ?? "##", n.OptBool("cleanup", true));
            case "ByteLevel": return new ByteLevelDecoder();
            case "Metaspace":
            {
                var (rep, scheme) = ParseMetaspace(n);
                return new MetaspaceDecoder(rep, scheme);
            }
            case "BPEDecoder": return new BpeDecoder(n.OptStr("suffix") ?? "</w>");
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip": return new StripDecoder(SingleChar(n.Req("content")), n.OptInt("start", 0), n.OptInt("stop", 0));
            case "Replace": return new ReplaceDecoder(ParsePattern(n.Req("pattern")), n.Req("content").Str());
            case "CTC": return new CtcDecoder(n.OptStr("pad_token") ?? "<pad>", n.OptStr("word_delimiter_token") ?? "|", n.OptBool("cleanup", true));
            case "Sequence": return new SequenceDecoder(n.Req("decoders").Items().Select(ParseDecoder).ToList());
            default: throw n.Req("type").Error($"unknown decoder type '{type}'");
        }
    }
}
