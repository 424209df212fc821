using System.Diagnostics;

namespace Glassbox.Cli.Tests;

/// <summary>The data generator of scripts/ground-truth-benchmark.sh (run with --generate-only, no model work):
/// byte-identical output on every run, and every row's rationale is exactly the planted words that decide its
/// label, so the benchmark's "ground truth" is true by construction.</summary>
public sealed class GroundTruthBenchmarkScriptTests
{
    private static readonly HashSet<string> Positive = ["splendid", "delightful", "wonderful", "superb"];
    private static readonly HashSet<string> Negative = ["dreadful", "horrid", "awful", "terrible"];

    private static (int Code, string Out, string Err) RunScript(params string[] args)
    {
        var start = new ProcessStartInfo("bash", ["scripts/ground-truth-benchmark.sh", .. args])
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("ground-truth-benchmark.sh --generate-only did not finish in 2 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void GeneratorIsDeterministicAndRationalesAreThePlantedWords()
    {
        string temp = Directory.CreateTempSubdirectory("glassbox-ground-truth").FullName;
        try
        {
            string a = Path.Combine(temp, "a"), b = Path.Combine(temp, "b");
            foreach (string dir in new[] { a, b })
            {
                var run = RunScript(dir, "--generate-only");
                Assert.True(run.Code == 0, run.Out + run.Err);
            }

            var expectedRows = new Dictionary<string, int> { ["train.tsv"] = 600, ["dev.tsv"] = 100, ["test.tsv"] = 100 };
            var seenSentences = new List<string>();
            foreach (var (file, rows) in expectedRows)
            {
                byte[] first = File.ReadAllBytes(Path.Combine(a, file));
                Assert.Equal(first, File.ReadAllBytes(Path.Combine(b, file)));

                string[] lines = File.ReadAllLines(Path.Combine(a, file));
                Assert.Equal("sentence\tlabel\trationale", lines[0]);
                Assert.Equal(rows, lines.Length - 1);
                int positives = 0, twoPlanted = 0;
                foreach (string line in lines.Skip(1))
                {
                    string[] f = line.Split('\t');
                    Assert.Equal(3, f.Length);
                    string[] words = f[0].Split(' ');
                    Assert.InRange(words.Length, 6, 12);
                    int label = int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.InRange(label, 0, 1);
                    positives += label;
                    var marked = f[2].Split(' ').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
                    Assert.InRange(marked.Count, 1, 2);
                    if (marked.Count == 2) twoPlanted++;
                    var cue = label == 1 ? Positive : Negative;
                    for (int i = 0; i < words.Length; i++)
                    {
                        bool planted = Positive.Contains(words[i]) || Negative.Contains(words[i]);
                        Assert.True(marked.Contains(i) == planted, $"{file}: word {i} '{words[i]}' of '{f[0]}' vs rationale '{f[2]}'");
                        if (planted) Assert.Contains(words[i], cue);
                    }
                    seenSentences.Add(f[0]);
                }
                // Both classes and both planted counts occur in reasonable proportion (not a degenerate split).
                Assert.InRange(positives, rows * 3 / 10, rows * 7 / 10);
                Assert.InRange(twoPlanted, rows * 3 / 10, rows * 7 / 10);
            }
            // The three splits come from different seeds: far from identical text.
            Assert.True(seenSentences.Distinct().Count() > 780, $"only {seenSentences.Distinct().Count()} distinct sentences of 800");
        }
        finally { Directory.Delete(temp, recursive: true); }
    }

    [Fact]
    public void UnknownOptionIsRejectedNamingTheValidOne()
    {
        var run = RunScript("--generate", "/tmp/never-written");
        Assert.Equal(2, run.Code);
        Assert.Contains("unknown option '--generate'", run.Err);
        Assert.Contains("--generate-only", run.Err);
        Assert.False(Directory.Exists("/tmp/never-written"));
    }
}
