using System.Text.Json;
using Glassbox.Tokenizers.SentencePiece;
using Xunit.Abstractions;

namespace Glassbox.Tokenizers.Tests;

// SentencePieceConverter builds tokenizer.json from a .model file the way transformers does when
// a folder has no tokenizer.json. Checked two ways: structurally against the tokenizer.json
// files in ../shared/tokenizers (llama-2's was built by transformers 5.17 from the same
// tokenizer.model; rut5-large's is the published one), and end to end by loading the result
// with Tokenizer.FromJson and running the Rust goldens of that folder through it.
public sealed class SentencePieceConverterTests(ITestOutputHelper output)
{
    private static string Dir(string name) => Path.Combine(SentencePiecePrecompiledCharsMapTests.SharedDir, "tokenizers", name);

    private static string Canonical(JsonElement e) => JsonSerializer.Serialize(e);

    [Fact]
    public void LlamaMatchesTransformersTokenizerJson()
    {
        string json = SentencePieceConverter.ToTokenizerJson(Path.Combine(Dir("llama-2"), "tokenizer.model"),
            File.ReadAllText(Path.Combine(Dir("llama-2"), "tokenizer_config.json")));
        using var ours = JsonDocument.Parse(json);
        using var theirs = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir("llama-2"), "tokenizer.json")));
        var o = ours.RootElement;
        var t = theirs.RootElement;
        var oMerges = o.GetProperty("model").GetProperty("merges").EnumerateArray().Select(Canonical).ToList();
        var tMerges = t.GetProperty("model").GetProperty("merges").EnumerateArray().Select(Canonical).ToList();
        int firstDiff = Enumerable.Range(0, Math.Min(oMerges.Count, tMerges.Count)).FirstOrDefault(i => oMerges[i] != tMerges[i], -1);
        output.WriteLine($"merges: ours {oMerges.Count}, transformers {tMerges.Count}, first difference at {firstDiff}");
        for (int i = Math.Max(0, firstDiff); i < Math.Max(0, firstDiff) + 12 && i < oMerges.Count; i++) output.WriteLine($"  {i}: ours {oMerges[i]} transformers {tMerges[i]}");
        Assert.True(firstDiff < 0, firstDiff < 0 ? "" : $"merge {firstDiff}: ours {oMerges[firstDiff]} transformers {tMerges[firstDiff]}");
        Assert.Equal(tMerges.Count, oMerges.Count);
        foreach (var prop in new[] { "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder" })
            Assert.Equal(Canonical(t.GetProperty(prop)), Canonical(o.GetProperty(prop)));
        foreach (var prop in t.GetProperty("model").EnumerateObject())
            Assert.Equal(Canonical(prop.Value), Canonical(o.GetProperty("model").GetProperty(prop.Name)));
    }

    [Fact]
    public void T5MatchesPublishedTokenizerJson()
    {
        // rut5-large's tokenizer.json is the one published with the model (T5Converter of its day).
        string json = SentencePieceConverter.ToTokenizerJson(Path.Combine(Dir("rut5-large"), "spiece.model"),
            File.ReadAllText(Path.Combine(Dir("rut5-large"), "tokenizer_config.json")));
        using var ours = JsonDocument.Parse(json);
        using var theirs = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir("rut5-large"), "tokenizer.json")));
        var o = ours.RootElement;
        var t = theirs.RootElement;
        foreach (var prop in new[] { "normalizer", "post_processor" })
            Assert.Equal(Canonical(t.GetProperty(prop)), Canonical(o.GetProperty(prop)));
        static List<(string, double)> Vocab(JsonElement e) => e.GetProperty("model").GetProperty("vocab").EnumerateArray()
            .Select(v => (v[0].GetString()!, v[1].GetDouble())).ToList();
        Assert.Equal(Vocab(t), Vocab(o));
        Assert.Equal(t.GetProperty("model").GetProperty("unk_id").GetInt32(), o.GetProperty("model").GetProperty("unk_id").GetInt32());
        static string Added(JsonElement e) => string.Join("|", e.GetProperty("added_tokens").EnumerateArray()
            .Select(a => $"{a.GetProperty("id")}:{a.GetProperty("content")}:{a.GetProperty("special")}:{a.GetProperty("normalized")}"));
        Assert.Equal(Added(t), Added(o));
        // The published file spells Metaspace in the older form (add_prefix_space: true), which is
        // prepend_scheme "always" with split on.
        Assert.Equal("always", o.GetProperty("pre_tokenizer").GetProperty("prepend_scheme").GetString());
        Assert.True(t.GetProperty("pre_tokenizer").GetProperty("add_prefix_space").GetBoolean());
    }

    [Fact]
    public void FolderWithoutModelFileGivesNull()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-spm-none-").FullName;
        try
        {
            Assert.Null(SentencePieceConverter.FolderToTokenizerJson(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("llama-2", "tokenizer.model")]
    [InlineData("rut5-large", "spiece.model")]
    public void ConvertedTokenizerMatchesRustGoldens(string name, string modelFile)
    {
        // A folder with only the .model file and the configs, as a Hub snapshot without tokenizer.json.
        string dir = Directory.CreateTempSubdirectory("glassbox-spm-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(Dir(name)))
                if (Path.GetFileName(f) != "tokenizer.json") File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            Assert.True(File.Exists(Path.Combine(dir, modelFile)));
            string json = SentencePieceConverter.FolderToTokenizerJson(dir)!;
            var tokenizer = Tokenizer.FromJson(json);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(SentencePiecePrecompiledCharsMapTests.SharedDir, "golden", "tokenizers", name + ".json")));
            int count = 0;
            var failures = new List<string>();
            foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            {
                if (c.TryGetProperty("truncation", out _) || c.TryGetProperty("padding", out _) || c.TryGetProperty("error", out _)) continue;
                count++;
                string? pair = c.GetProperty("pair").ValueKind == JsonValueKind.String ? c.GetProperty("pair").GetString() : null;
                bool special = !c.TryGetProperty("add_special_tokens", out var a) || a.ValueKind != JsonValueKind.False;
                var enc = tokenizer.Encode(c.GetProperty("text").GetString()!, pair, special);
                void Check(string field, object actual)
                {
                    string expected = Canonical(c.GetProperty(field));
                    string got = JsonSerializer.Serialize(actual);
                    if (expected != got) failures.Add($"{c.GetProperty("name")}: {field} expected {expected} got {got}");
                }
                Check("ids", enc.Ids);
                Check("tokens", enc.Tokens);
                Check("offsets_utf16", enc.Offsets.Select(x => new[] { x.Start, x.End }));
                Check("type_ids", enc.TypeIds);
                Check("special_tokens_mask", enc.SpecialTokensMask);
                Check("word_ids", enc.WordIds);
                if (c.TryGetProperty("decoded", out var d) && d.GetString() != tokenizer.Decode(enc.Ids))
                    failures.Add($"{c.GetProperty("name")}: decoded expected {Canonical(d)} got {JsonSerializer.Serialize(tokenizer.Decode(enc.Ids))}");
            }
            output.WriteLine($"{name}: {count} cases through the converted tokenizer, {failures.Count} mismatches");
            foreach (var f in failures.Take(40)) output.WriteLine(f);
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
