// Every case of every ../shared/golden/tokenizers/<name>.json (computed by the Rust tokenizers
// library) through Tokenizer.FromFile(../shared/tokenizers/<name>/tokenizer.json): ids, tokens,
// UTF-16 offsets, type ids, masks, word and sequence ids, overflowing pieces and decoding must
// all be identical. The mismatch count per tokenizer is reported in the output and the assertion.

using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Glassbox.Tokenizers.Tests;

public sealed class TokenizerGoldenTests(ITestOutputHelper output)
{
    public static string SharedDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "shared", "golden"))) return Path.Combine(dir.FullName, "shared");
            dir = dir.Parent;
        }
        throw new DirectoryNotFoundException("Could not find a parent directory containing shared/golden from " + AppContext.BaseDirectory);
    }

    public static IEnumerable<object[]> Names() =>
        Directory.GetFiles(Path.Combine(SharedDir(), "golden", "tokenizers"), "*.json")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => n != null && !n.EndsWith("-spm", StringComparison.Ordinal) && n != "summary")
            .Where(n => File.Exists(Path.Combine(SharedDir(), "tokenizers", n!, "tokenizer.json")))
            .OrderBy(n => n, StringComparer.Ordinal)
            .Select(n => new object[] { n! });

    [Theory]
    [MemberData(nameof(Names))]
    public void GoldenCasesMatchExactly(string name)
    {
        var tokenizer = Tokenizer.FromFile(Path.Combine(SharedDir(), "tokenizers", name, "tokenizer.json"));
        var (mismatches, total, report) = RunGolden(tokenizer, Path.Combine(SharedDir(), "golden", "tokenizers", name + ".json"));
        output.WriteLine($"{name}: {mismatches} mismatching cases of {total}");
        foreach (var line in report.Take(40)) output.WriteLine(line);
        Assert.True(mismatches == 0, $"{name}: {mismatches} mismatching cases of {total}\n" + string.Join("\n", report.Take(15)));
    }

    internal static (int Mismatches, int Total, List<string> Report) RunGolden(Tokenizer tokenizer, string goldenPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(goldenPath));
        var report = new List<string>();
        int mismatches = 0, total = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            total++;
            string caseName = c.GetProperty("name").GetString()!;
            var problems = new List<string>();
            try
            {
                RunCase(tokenizer, c, problems);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                problems.Add($"exception {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                tokenizer.Truncation = null;
                tokenizer.Padding = null;
            }
            if (problems.Count > 0)
            {
                mismatches++;
                report.Add($"[{caseName}] text={JsonSerializer.Serialize(c.GetProperty("text").GetString())}: {string.Join("; ", problems)}");
            }
        }
        return (mismatches, total, report);
    }

    private static void RunCase(Tokenizer tokenizer, JsonElement c, List<string> problems)
    {
        string text = c.GetProperty("text").GetString()!;
        string? pair = c.TryGetProperty("pair", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        bool addSpecial = !c.TryGetProperty("add_special_tokens", out var a) || a.GetBoolean();
        if (c.TryGetProperty("truncation", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            tokenizer.Truncation = new TruncationOptions
            {
                MaxLength = t.GetProperty("max_length").GetInt32(),
                Stride = t.TryGetProperty("stride", out var s) ? s.GetInt32() : 0,
                Strategy = t.GetProperty("strategy").GetString() switch
                {
                    "only_first" => TruncationStrategy.OnlyFirst,
                    "only_second" => TruncationStrategy.OnlySecond,
                    _ => TruncationStrategy.LongestFirst,
                },
                Direction = t.TryGetProperty("direction", out var d) && d.GetString() == "left" ? TruncationDirection.Left : TruncationDirection.Right,
            };
        }
        int batchIndex = -1;
        List<string>? batch = null;
        if (c.TryGetProperty("padding", out var pd) && pd.ValueKind == JsonValueKind.Object)
        {
            tokenizer.Padding = new PaddingOptions
            {
                Direction = pd.GetProperty("direction").GetString() == "left" ? PaddingDirection.Left : PaddingDirection.Right,
                PadId = pd.GetProperty("pad_id").GetInt32(),
                PadToken = pd.GetProperty("pad_token").GetString()!,
                Length = pd.TryGetProperty("length", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : null,
                PadToMultipleOf = pd.TryGetProperty("pad_to_multiple_of", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : null,
            };
            if (pd.TryGetProperty("batch", out var b) && b.ValueKind == JsonValueKind.Array)
            {
                batch = b.EnumerateArray().Select(x => x.GetString()!).ToList();
                string caseName = c.GetProperty("name").GetString()!;
                batchIndex = int.Parse(caseName[(caseName.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        if (c.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.String)
        {
            try
            {
                tokenizer.Encode(text, pair, addSpecial);
                problems.Add($"expected an error ({err.GetString()}) but encoding succeeded");
            }
            catch (TokenizationException e)
            {
                if (string.IsNullOrWhiteSpace(e.Message)) problems.Add("error without a message");
            }
            return;
        }

        var enc = batch != null
            ? tokenizer.EncodeBatch(batch.Select(x => (x, (string?)null)).ToList(), addSpecial)[batchIndex]
            : tokenizer.Encode(text, pair, addSpecial);
        Compare(enc, c, "", problems);
        if (c.TryGetProperty("overflowing", out var ov) && ov.ValueKind == JsonValueKind.Array)
        {
            var expected = ov.EnumerateArray().ToList();
            if (expected.Count != enc.Overflowing.Count)
                problems.Add($"overflowing count {enc.Overflowing.Count} != {expected.Count}");
            else
                for (int i = 0; i < expected.Count; i++) Compare(enc.Overflowing[i], expected[i], $"overflowing[{i}].", problems);
        }
        else if (enc.Overflowing.Count != 0) problems.Add($"unexpected overflowing ({enc.Overflowing.Count})");

        if (c.TryGetProperty("decoded", out var dec) && dec.ValueKind == JsonValueKind.String)
        {
            string got = tokenizer.Decode(enc.Ids, false);
            if (got != dec.GetString()) problems.Add($"decoded {JsonSerializer.Serialize(got)} != {JsonSerializer.Serialize(dec.GetString())}");
        }
        if (c.TryGetProperty("decoded_skip_special", out var dss) && dss.ValueKind == JsonValueKind.String)
        {
            string got = tokenizer.Decode(enc.Ids, true);
            if (got != dss.GetString()) problems.Add($"decoded_skip_special {JsonSerializer.Serialize(got)} != {JsonSerializer.Serialize(dss.GetString())}");
        }
    }

    private static void Compare(Glassbox.Tokenizers.Encoding enc, JsonElement c, string prefix, List<string> problems)
    {
        void Check<T>(string field, IReadOnlyList<T> actual, Func<JsonElement, T> read)
        {
            if (!c.TryGetProperty(field, out var e) || e.ValueKind != JsonValueKind.Array) return;
            var expected = e.EnumerateArray().Select(read).ToList();
            if (expected.Count != actual.Count || !expected.SequenceEqual(actual))
                problems.Add($"{prefix}{field}: got [{Fmt(actual)}] expected [{Fmt(expected)}]");
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

    private static string Fmt<T>(IEnumerable<T> xs)
    {
        var sb = new StringBuilder();
        foreach (var x in xs)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(x is string s ? JsonSerializer.Serialize(s) : x?.ToString() ?? "null");
            if (sb.Length > 600) { sb.Append(" …"); break; }
        }
        return sb.ToString();
    }
}
