// Differential unit tests: ComponentGolden/components*.json.gz hold small tokenizer.json
// configurations (each exercising one or a few components with a tiny inline vocabulary) and the
// Rust library's output on edge-case texts — empty, whitespace-only, longer than max length,
// unknown characters, non-BMP characters, combining marks — made by ComponentGolden/generate.mjs.
// Every configuration is one test case; every field must match.

using System.Text.Json;
using Xunit.Abstractions;

namespace Glassbox.Tokenizers.Tests;

public sealed class TokenizerComponentTests(ITestOutputHelper output)
{
    // components.json.gz: fixed edge-case texts; components-fuzz.json.gz: random edge-case texts (FUZZ=1).
    private static readonly Dictionary<string, JsonDocument> s_docs = new();

    private static JsonDocument Doc(string file)
    {
        lock (s_docs)
        {
            if (!s_docs.TryGetValue(file, out var d))
                s_docs[file] = d = ReadGzipJson(Path.Combine(AppContext.BaseDirectory, "ComponentGolden", file));
            return d;
        }
    }

    internal static JsonDocument ReadGzipJson(string path)
    {
        using var stream = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        return JsonDocument.Parse(stream);
    }

    public static IEnumerable<object[]> Configs()
    {
        foreach (var path in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "ComponentGolden"), "components*.json.gz").Order())
        {
            string file = Path.GetFileName(path);
            var configs = Doc(file).RootElement.GetProperty("configs");
            for (int i = 0; i < configs.GetArrayLength(); i++) yield return [file, i, configs[i].GetProperty("name").GetString()!];
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void MatchesRustLibrary(string file, int index, string name)
    {
        var config = Doc(file).RootElement.GetProperty("configs")[index];
        string json = config.GetProperty("tokenizer").GetRawText();
        if (config.TryGetProperty("load_error", out var loadError))
        {
            var ex = Assert.ThrowsAny<Exception>(() => Tokenizer.FromJson(json));
            output.WriteLine($"{name}: rejected as Rust does ({loadError.GetString()}): {ex.Message}");
            return;
        }
        var tokenizer = Tokenizer.FromJson(json);
        var truncation = tokenizer.Truncation;
        var padding = tokenizer.Padding;
        List<string>? batch = config.TryGetProperty("texts_batch", out var tb) && tb.ValueKind == JsonValueKind.Array
            ? tb.EnumerateArray().Select(x => x.GetString()!).ToList() : null;
        IReadOnlyList<Glassbox.Tokenizers.Encoding>? batchEncodings = null;
        var problems = new List<string>();
        foreach (var c in config.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            string? pair = c.GetProperty("pair").ValueKind == JsonValueKind.String ? c.GetProperty("pair").GetString() : null;
            bool add = c.GetProperty("add_special_tokens").GetBoolean();
            var caseProblems = new List<string>();
            try
            {
                if (c.TryGetProperty("error", out var err))
                {
                    try
                    {
                        tokenizer.Encode(text, pair, add);
                        caseProblems.Add($"expected an error ({err.GetString()}) but encoding succeeded");
                    }
                    catch (TokenizationException) { }
                    continue;
                }
                Glassbox.Tokenizers.Encoding enc;
                if (c.TryGetProperty("batch", out var isBatch) && isBatch.GetBoolean() && batch != null)
                {
                    batchEncodings ??= tokenizer.EncodeBatch(batch.Select(t => (t, (string?)null)).ToList(), true);
                    enc = batchEncodings[batch.IndexOf(text)];
                }
                else enc = tokenizer.Encode(text, pair, add);
                Compare(enc, c, "", caseProblems);
                var expectedOverflow = c.GetProperty("overflowing").EnumerateArray().ToList();
                if (expectedOverflow.Count != enc.Overflowing.Count)
                    caseProblems.Add($"overflowing count {enc.Overflowing.Count} != {expectedOverflow.Count}");
                else
                    for (int i = 0; i < expectedOverflow.Count; i++) Compare(enc.Overflowing[i], expectedOverflow[i], $"overflowing[{i}].", caseProblems);
                string decoded = tokenizer.Decode(enc.Ids, false), decodedSkip = tokenizer.Decode(enc.Ids, true);
                if (decoded != c.GetProperty("decoded").GetString())
                    caseProblems.Add($"decoded {JsonSerializer.Serialize(decoded)} != {JsonSerializer.Serialize(c.GetProperty("decoded").GetString())}");
                if (decodedSkip != c.GetProperty("decoded_skip_special").GetString())
                    caseProblems.Add($"decoded_skip_special {JsonSerializer.Serialize(decodedSkip)} != {JsonSerializer.Serialize(c.GetProperty("decoded_skip_special").GetString())}");
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                caseProblems.Add($"exception {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                tokenizer.Truncation = truncation;
                tokenizer.Padding = padding;
                if (caseProblems.Count > 0)
                    problems.Add($"[{JsonSerializer.Serialize(text)} | {JsonSerializer.Serialize(pair)} | special={add}] {string.Join("; ", caseProblems)}");
            }
        }
        foreach (var p in problems.Take(30)) output.WriteLine(p);
        Assert.True(problems.Count == 0, $"{name}: {problems.Count} mismatching cases\n" + string.Join("\n", problems.Take(8)));
    }

    private static void Compare(Glassbox.Tokenizers.Encoding enc, JsonElement c, string prefix, List<string> problems)
    {
        void Check<T>(string field, IReadOnlyList<T> actual, Func<JsonElement, T> read)
        {
            var expected = c.GetProperty(field).EnumerateArray().Select(read).ToList();
            if (!expected.SequenceEqual(actual))
                problems.Add($"{prefix}{field}: got [{string.Join(", ", actual)}] expected [{string.Join(", ", expected)}]");
        }
        Check("ids", enc.Ids, x => x.GetInt32());
        Check("tokens", enc.Tokens, x => x.GetString()!);
        Check("offsets_utf16", enc.Offsets.Select(o => (o.Start, o.End)).ToList(), x => (x[0].GetInt32(), x[1].GetInt32()));
        Check("type_ids", enc.TypeIds, x => x.GetInt32());
        Check("attention_mask", enc.AttentionMask, x => x.GetInt32());
        Check("special_tokens_mask", enc.SpecialTokensMask, x => x.GetInt32());
        Check("word_ids", enc.WordIds, x => x.ValueKind == JsonValueKind.Null ? (int?)null : x.GetInt32());
        Check("sequence_ids", enc.SequenceIds, x => x.ValueKind == JsonValueKind.Null ? (int?)null : x.GetInt32());
    }
}
