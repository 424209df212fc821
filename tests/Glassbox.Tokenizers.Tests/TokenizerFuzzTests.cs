// 400 random strings built from edge-case character pools (whitespace variants, combining marks,
// CJK, RTL, emoji sequences, non-BMP letters, control characters, special-token text), every fifth
// with a pair, through the six real tokenizers; expected values from the Rust library
// (ComponentGolden/fuzz.mjs, npm tokenizers 0.23.2).

using System.Text.Json;
using Xunit.Abstractions;

namespace Glassbox.Tokenizers.Tests;

public sealed class TokenizerFuzzTests(ITestOutputHelper output)
{
    private static readonly Lazy<JsonDocument> s_doc = new(() =>
        TokenizerComponentTests.ReadGzipJson(Path.Combine(AppContext.BaseDirectory, "ComponentGolden", "fuzz.json.gz")));

    [Theory]
    [InlineData("bert-base-uncased")]
    [InlineData("gpt2")]
    [InlineData("roberta-style-gpt2")]
    [InlineData("llama-2")]
    [InlineData("mistral-lenml")]
    [InlineData("rut5-large")]
    public void RandomEdgeCaseTextsMatchRustLibrary(string name)
    {
        var tokenizer = Tokenizer.FromFile(Path.Combine(TokenizerGoldenTests.SharedDir(), "tokenizers", name, "tokenizer.json"));
        var root = s_doc.Value.RootElement;
        var texts = root.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).ToList();
        var results = root.GetProperty("tokenizers").GetProperty(name).EnumerateArray().ToList();
        var problems = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            var r = results[i];
            string? pair = r.GetProperty("pair").ValueKind == JsonValueKind.String ? r.GetProperty("pair").GetString() : null;
            var e = tokenizer.Encode(texts[i], pair);
            var ids = r.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var offsets = r.GetProperty("offsets_utf16").EnumerateArray().Select(x => (x[0].GetInt32(), x[1].GetInt32())).ToArray();
            var words = r.GetProperty("word_ids").EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Null ? (int?)null : x.GetInt32()).ToArray();
            var types = r.GetProperty("type_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var p = new List<string>();
            if (!ids.SequenceEqual(e.Ids)) p.Add($"ids {string.Join(",", e.Ids)} != {string.Join(",", ids)}");
            else
            {
                if (!offsets.SequenceEqual(e.Offsets)) p.Add($"offsets {string.Join(",", e.Offsets)} != {string.Join(",", offsets)}");
                if (!words.SequenceEqual(e.WordIds)) p.Add($"word_ids {string.Join(",", e.WordIds)} != {string.Join(",", words)}");
                if (!types.SequenceEqual(e.TypeIds)) p.Add("type_ids differ");
            }
            string decoded = tokenizer.Decode(ids), skip = tokenizer.Decode(ids, true);
            if (decoded != r.GetProperty("decoded").GetString()) p.Add($"decoded {JsonSerializer.Serialize(decoded)} != {JsonSerializer.Serialize(r.GetProperty("decoded").GetString())}");
            if (skip != r.GetProperty("decoded_skip_special").GetString()) p.Add("decoded_skip_special differs");
            if (p.Count > 0) problems.Add($"[{i}] {JsonSerializer.Serialize(texts[i])}: {string.Join("; ", p)}");
        }
        output.WriteLine($"{name}: {problems.Count} mismatching of {texts.Count}");
        foreach (var x in problems.Take(20)) output.WriteLine(x);
        Assert.True(problems.Count == 0, $"{name}: {problems.Count} mismatching of {texts.Count}\n" + string.Join("\n", problems.Take(6)));
    }
}
