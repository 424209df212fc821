// Model folders without tokenizer.json: builds the same pipeline transformers' converters build
// (BertTokenizer from vocab.txt, GPT2/RobertaTokenizer from vocab.json + merges.txt, and
// SentencePiece models through SentencePieceConverter), reading the options and special tokens
// from tokenizer_config.json / special_tokens_map.json / config.json.

using System.Text.Json;

namespace Glassbox.Tokenizers;

internal static class LegacyLoader
{
    public static Tokenizer Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {directory}");
        string json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json)) return Tokenizer.FromFile(json);

        var config = ReadJson(Path.Combine(directory, "tokenizer_config.json"));
        var specialMap = ReadJson(Path.Combine(directory, "special_tokens_map.json"));
        var modelConfig = ReadJson(Path.Combine(directory, "config.json"));

        string vocabTxt = Path.Combine(directory, "vocab.txt");
        if (File.Exists(vocabTxt)) return LoadBert(vocabTxt, config, specialMap);

        string vocabJson = Path.Combine(directory, "vocab.json"), merges = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocabJson) && File.Exists(merges))
        {
            string cls = (GetString(config, "tokenizer_class") ?? "").ToLowerInvariant();
            string modelType = (GetString(modelConfig, "model_type") ?? "").ToLowerInvariant();
            bool roberta = cls.Contains("roberta") || modelType is "roberta" or "xlm-roberta" or "camembert" or "bart" or "longformer";
            return LoadByteLevelBpe(vocabJson, merges, config, specialMap, roberta);
        }
        // spiece.model / tokenizer.model: converted the way transformers builds tokenizer.json
        if (SentencePiece.SentencePieceConverter.FolderToTokenizerJson(directory) is { } converted)
            return Tokenizer.FromJson(converted);
        throw new FileNotFoundException(
            $"No tokenizer found in {directory}: expected tokenizer.json, vocab.txt, vocab.json + merges.txt, " +
            "or a SentencePiece spiece.model / tokenizer.model.");
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"{Path.GetFileName(path)}: $", $"invalid JSON: {e.Message}", e);
        }
    }

    private static string? GetString(JsonElement? e, string name)
    {
        if (e is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        // {"content": "<s>", ...} (AddedToken serialisation)
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        return null;
    }

    private static bool? GetBool(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean() : null;

    private static string Special(JsonElement? config, JsonElement? map, string name, string fallback) =>
        GetString(map, name) ?? GetString(config, name) ?? fallback;

    private static Tokenizer LoadBert(string vocabPath, JsonElement? config, JsonElement? map)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0;
        foreach (var rawLine in File.ReadLines(vocabPath))
        {
            string token = rawLine.TrimEnd('\n', '\r');
            vocab.TryAdd(token, index);
            index++;
        }
        string unk = Special(config, map, "unk_token", "[UNK]");
        string sep = Special(config, map, "sep_token", "[SEP]");
        string cls = Special(config, map, "cls_token", "[CLS]");
        string pad = Special(config, map, "pad_token", "[PAD]");
        string mask = Special(config, map, "mask_token", "[MASK]");
        bool lower = GetBool(config, "do_lower_case") ?? true;
        bool chinese = GetBool(config, "tokenize_chinese_chars") ?? true;
        bool? strip = GetBool(config, "strip_accents");

        var model = new WordPieceModel(vocab, unk, "##", 100);
        int Id(string t) => vocab.TryGetValue(t, out var id) ? id
            : throw new TokenizerFormatException($"{Path.GetFileName(vocabPath)}", $"special token '{t}' is not in the vocabulary");
        var template = new TemplatePostProcessor(
            [new TemplatePiece { SpecialId = cls }, new TemplatePiece { IsSequence = true }, new TemplatePiece { SpecialId = sep }],
            [new TemplatePiece { SpecialId = cls }, new TemplatePiece { IsSequence = true }, new TemplatePiece { SpecialId = sep },
             new TemplatePiece { IsSequence = true, SequenceIndex = 1, TypeId = 1 }, new TemplatePiece { SpecialId = sep, TypeId = 1 }],
            new Dictionary<string, (int[], string[])> { [cls] = ([Id(cls)], [cls]), [sep] = ([Id(sep)], [sep]) });
        var tokenizer = new Tokenizer(new BertNormalizer(true, chinese, strip, lower), new BertPreTokenizer(), model, template,
            new WordPieceDecoder("##", true));
        var specials = new[] { pad, unk, cls, sep, mask }.Distinct()
            .Select(t => (new AddedToken(t, Special: true, Normalized: false), (int?)null))
            .OrderBy(t => vocab.TryGetValue(t.Item1.Content, out var id) ? id : int.MaxValue).ToList();
        tokenizer.AddTokens(specials);
        return tokenizer;
    }

    private static Tokenizer LoadByteLevelBpe(string vocabPath, string mergesPath, JsonElement? config, JsonElement? map, bool roberta)
    {
        Dictionary<string, int> vocab;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(vocabPath));
            vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id))
                    throw new TokenizerFormatException($"vocab.json: $[{JsonSerializer.Serialize(p.Name)}]", "expected an integer id");
                vocab[p.Name] = id;
            }
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException("vocab.json: $", $"invalid JSON: {e.Message}", e);
        }
        var merges = new List<(string, string)>();
        int lineNo = 0;
        var lineNumbers = new List<int>();
        foreach (var line in File.ReadLines(mergesPath))
        {
            lineNo++;
            if (line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue; // trailing newline
            var parts = line.Split(' ');
            if (parts.Length != 2) throw new TokenizerFormatException($"merges.txt: line {lineNo}", $"bad merges line '{line}': expected two tokens separated by one space");
            merges.Add((parts[0], parts[1]));
            lineNumbers.Add(lineNo);
        }
        bool addPrefixSpace = GetBool(config, "add_prefix_space") ?? false;
        var model = new BpeModel(vocab, merges, null, "", "", false, false, false,
            (i, msg) => new TokenizerFormatException($"merges.txt: line {lineNumbers[i]}", msg));
        PostProcessor post;
        List<string> specials;
        if (roberta)
        {
            string bos = Special(config, map, "bos_token", "<s>"), eos = Special(config, map, "eos_token", "</s>");
            string sep = Special(config, map, "sep_token", "</s>"), cls = Special(config, map, "cls_token", "<s>");
            string unk = Special(config, map, "unk_token", "<unk>"), pad = Special(config, map, "pad_token", "<pad>");
            string mask = Special(config, map, "mask_token", "<mask>");
            specials = new[] { bos, eos, sep, cls, unk, pad, mask }.Distinct().ToList();
            // ids are assigned when the tokens are added below; the processor needs them, so add first
            var tmp = new Tokenizer(null, null, model, null, null);
            tmp.AddTokens(specials.Select(s => (new AddedToken(s, Special: true, Normalized: false), (int?)null)));
            post = new RobertaPostProcessor((sep, tmp.TokenToId(sep)!.Value), (cls, tmp.TokenToId(cls)!.Value), true, addPrefixSpace);
        }
        else
        {
            post = new TemplatePostProcessor([new TemplatePiece { IsSequence = true }],
                [new TemplatePiece { IsSequence = true }, new TemplatePiece { IsSequence = true, SequenceIndex = 1, TypeId = 1 }], new());
            specials = new[] { Special(config, map, "bos_token", "<|endoftext|>"), Special(config, map, "eos_token", "<|endoftext|>"),
                Special(config, map, "unk_token", "<|endoftext|>") }.Distinct().ToList();
        }
        var tokenizer = new Tokenizer(null, new ByteLevelPreTokenizer(addPrefixSpace, true, true), model, post, new ByteLevelDecoder());
        tokenizer.AddTokens(specials.Select(s => (new AddedToken(s, Special: true, Normalized: false), (int?)null)));
        return tokenizer;
    }
}
