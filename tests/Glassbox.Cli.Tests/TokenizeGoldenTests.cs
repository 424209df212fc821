using System.Text.Json;
using Xunit.Abstractions;

namespace Glassbox.Cli.Tests;

// `glassbox tokenize` against ../shared/golden/tokenizers/<name>.json (the Rust library's output
// for tokenizer.json): every case without padding, through --input (grouped by
// add_special_tokens) and, for truncation cases, through --text/--pair/--max-length. Padding
// has no command-line option, so those 8 cases per tokenizer are left to the library tests.
public sealed class TokenizeGoldenTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names => new()
    {
        "bert-base-uncased", "gpt2", "roberta-style-gpt2", "llama-2", "rut5-large", "mistral-lenml",
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesGoldens(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(CliTestSupport.SharedDir, "golden", "tokenizers", name + ".json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        string tokenizer = CliTestSupport.TokenizerDir(name);
        var failures = new List<string>();
        int checkedCases = 0;

        foreach (bool special in new[] { true, false })
        {
            var group = cases.Where(c => !c.TryGetProperty("truncation", out _) && !c.TryGetProperty("padding", out _)
                                         && !c.TryGetProperty("error", out _)
                                         && AddSpecial(c) == special).ToList();
            var jsonl = string.Join("\n", group.Select(c => JsonSerializer.Serialize(new
            {
                text = c.GetProperty("text").GetString(),
                pair = Pair(c),
            })));
            string input = CliTestSupport.TempFile(jsonl + "\n");
            try
            {
                var args = new List<string> { "tokenize", "--tokenizer", tokenizer, "--input", input, "--format", "json" };
                if (!special) args.Add("--no-special-tokens");
                var (code, stdout, stderr) = CliTestSupport.Run(args.ToArray());
                Assert.True(code == 0, $"exit {code}: {stderr}");
                var lines = CliTestSupport.Lines(stdout);
                Assert.Equal(group.Count, lines.Length);
                for (int i = 0; i < group.Count; i++)
                {
                    checkedCases++;
                    Compare(group[i], lines[i], failures);
                }
            }
            finally
            {
                File.Delete(input);
            }
        }

        foreach (var c in cases.Where(c => c.TryGetProperty("truncation", out var t)
                                           && t.GetProperty("direction").GetString() == "right"))
        {
            var t = c.GetProperty("truncation");
            var args = new List<string>
            {
                "tokenize", "--tokenizer", tokenizer, "--text", c.GetProperty("text").GetString()!,
                "--max-length", t.GetProperty("max_length").GetInt32().ToString(),
                "--truncation", t.GetProperty("strategy").GetString()!,
                "--stride", t.GetProperty("stride").GetInt32().ToString(),
            };
            if (Pair(c) is string pair) args.AddRange(["--pair", pair]);
            if (!AddSpecial(c)) args.Add("--no-special-tokens");
            var (code, stdout, stderr) = CliTestSupport.Run(args.ToArray());
            checkedCases++;
            if (c.TryGetProperty("error", out _))
            {
                // The Rust library rejects these; the command must too, as bad input with a message.
                if (code != 2 || !stderr.Contains("runcation")) failures.Add($"{c.GetProperty("name")}: expected exit 2 with a truncation error, got {code}: {stderr}");
                continue;
            }
            if (code != 0)
            {
                failures.Add($"{c.GetProperty("name")}: exit {code}: {stderr}");
                continue;
            }
            Compare(c, CliTestSupport.Lines(stdout).Single(), failures);
        }

        output.WriteLine($"{name}: {checkedCases} cases through the CLI, {failures.Count} mismatches");
        foreach (var f in failures.Take(20)) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} mismatches of {checkedCases}\n" + string.Join("\n", failures.Take(10)));
    }

    private static bool AddSpecial(JsonElement c) =>
        !c.TryGetProperty("add_special_tokens", out var a) || a.ValueKind != JsonValueKind.False;

    private static string? Pair(JsonElement c) =>
        c.TryGetProperty("pair", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static void Compare(JsonElement golden, JsonElement actual, List<string> failures)
    {
        string label = golden.TryGetProperty("name", out var n) ? n.GetString()! : golden.GetProperty("text").GetString()!;
        void Check(string goldenField, string cliField)
        {
            string expected = golden.GetProperty(goldenField).GetRawText();
            string got = actual.GetProperty(cliField).GetRawText();
            if (Normalize(expected) != Normalize(got))
                failures.Add($"{label}: {cliField} expected {expected} got {got}");
        }
        Check("ids", "ids");
        Check("tokens", "tokens");
        Check("offsets_utf16", "offsets");
        Check("type_ids", "typeIds");
        Check("special_tokens_mask", "specialTokensMask");
        Check("word_ids", "wordIds");
        // The 200 SST-2 cases and the truncation cases carry only decoded_skip_special.
        if (golden.TryGetProperty("decoded", out var decoded) && decoded.GetString() != actual.GetProperty("decoded").GetString())
            failures.Add($"{label}: decoded expected {golden.GetProperty("decoded").GetRawText()} got {actual.GetProperty("decoded").GetRawText()}");
    }

    // Compare JSON values, not their spelling (escapes, spacing).
    private static string Normalize(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}
