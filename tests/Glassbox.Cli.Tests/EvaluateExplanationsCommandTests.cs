using System.Text.Json;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Quality;

namespace Glassbox.Cli.Tests;

public class EvaluateExplanationsCommandTests
{
    private static string Model(string name) => Path.Combine(CliTestSupport.SharedDir, "models", name);
    private static string Sst2Dev => Path.Combine(CliTestSupport.SharedDir, "data", "sst2", "dev.tsv");

    /// <summary>The first n sentences of SST-2 dev (header kept) in a temporary .tsv.</summary>
    private static string Subset(int n) => CliTestSupport.TempFile(string.Join("\n", File.ReadLines(Sst2Dev).Take(n + 1)) + "\n", ".tsv");

    private static string TempDir() => Directory.CreateTempSubdirectory("glassbox-quality-").FullName;

    [Fact]
    public void JsonReportOnTenSentencesWithTwoMethods()
    {
        string data = Subset(10), dir = TempDir();
        try
        {
            string path = Path.Combine(dir, "quality.json");
            var (code, output, err) = CliTestSupport.Run("evaluate-explanations", "--model", Model("distilbert-sst2-tiny"), "--data", data,
                "--methods", "lig,saliency", "--steps", "8", "--format", "json", "--out", path);
            Assert.True(code == 0, err);
            // The comparison table is printed: one row per method plus the random baseline, a column per metric.
            Assert.Contains("comprehensiveness ↑", output);
            Assert.Contains("Kendall τ vs LOO ↑", output);
            Assert.Contains("random (baseline)", output);
            Assert.Matches(@"(?m)^lig\s+-?\d\.\d{3} ± \d\.\d{3}", output);
            Assert.Matches(@"(?m)^saliency\s+-?\d\.\d{3} ± \d\.\d{3}", output);

            var json = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            Assert.Equal(10, json.GetProperty("examples").GetInt32());
            Assert.Equal("delete", json.GetProperty("options").GetProperty("removal").GetString());
            var methods = json.GetProperty("methods").EnumerateArray().ToArray();
            Assert.Equal(["lig", "saliency", "random"], methods.Select(m => m.GetProperty("method").GetString()));
            foreach (var m in methods)
            {
                var metrics = m.GetProperty("metrics");
                foreach (var k in QualityMetrics.Faithfulness)
                    Assert.True(metrics.TryGetProperty(k, out var s) && s.TryGetProperty("mean", out _) && s.TryGetProperty("std", out _), $"{k} missing");
                Assert.Equal(10, metrics.GetProperty("comprehensiveness").GetProperty("count").GetInt32());
                // No rationale column: plausibility is null with count 0.
                Assert.Equal(JsonValueKind.Null, metrics.GetProperty("auprc").GetProperty("mean").ValueKind);
                Assert.Equal(21, m.GetProperty("deletionCurve").GetProperty("fractions").GetArrayLength());
                Assert.Equal(5, m.GetProperty("comprehensivenessPerBin").GetArrayLength());
                Assert.Equal(10, m.GetProperty("aopcPerFraction").GetArrayLength());
            }
            var examples = json.GetProperty("perExample").EnumerateArray().ToArray();
            Assert.Equal(10, examples.Length);
            Assert.Equal("[CLS]", examples[0].GetProperty("tokens")[0].GetString());
            Assert.Equal(examples[0].GetProperty("tokens").GetArrayLength(), examples[0].GetProperty("methods").GetProperty("lig").GetProperty("attributions").GetArrayLength());

            // The same numbers as the library on the same examples.
            var explainer = SequenceClassificationExplainer.FromPretrained(Model("distilbert-sst2-tiny"), new ExplainerOptions { Steps = 8 });
            var texts = File.ReadLines(Sst2Dev).Skip(1).Take(10).Select(l => l.Split('\t')[0]).ToList();
            var report = new ExplanationEvaluator(explainer).Evaluate(texts.Select(t => new EvaluationExample(t)).ToList(), [AttributionMethod.Lig, AttributionMethod.Saliency]);
            for (int i = 0; i < 3; i++)
                foreach (var k in QualityMetrics.Faithfulness)
                    Assert.Equal(report.Methods[i].Metrics[k].Mean, methods[i].GetProperty("metrics").GetProperty(k).GetProperty("mean").GetDouble(), 9);
        }
        finally { File.Delete(data); Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void HtmlReportHasTheTableAndSvgCurves()
    {
        string data = Subset(10), dir = TempDir();
        try
        {
            string path = Path.Combine(dir, "quality.html");
            var (code, _, err) = CliTestSupport.Run("evaluate-explanations", "--model", Model("distilbert-sst2-tiny"), "--data", data,
                "--methods", "saliency,occlusion", "--format", "html", "--out", path, "--removal", "pad");
            Assert.True(code == 0, err);
            string html = File.ReadAllText(path);
            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.Contains("<svg class=\"chart\" id=\"chart-deletion\"", html);
            Assert.Contains("<path class=\"curve\" data-method=\"occlusion\"", html);
            Assert.Contains("<rect class=\"bar\" data-method=\"saliency\"", html);
            Assert.Contains("replaced by the pad token", html);
            Assert.DoesNotContain("glassbox-figure-", html);
        }
        finally { File.Delete(data); Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void RationaleColumnAddsPlausibilityAndSanityChecksRun()
    {
        // Word indices and a 0/1 mask; one row without a rationale.
        string data = CliTestSupport.TempFile(
            "sentence\tlabel\tevidence\n" +
            "a gripping , beautifully acted film .\tpositive\t1 3\n" +
            "a dull and lifeless movie\t0\t0 1 0 1 0\n" +
            "the plot goes nowhere\tNEGATIVE\t\n", ".tsv");
        try
        {
            var (code, output, err) = CliTestSupport.Run("evaluate-explanations", "--model", Model("distilbert-sst2-tiny"), "--data", data,
                "--methods", "occlusion", "--rationale-column", "evidence", "--format", "json", "--target", "label",
                "--parameter-randomization", "--random-label-model", Model("distilbert-tiny-random-sst2"), "--randomization-examples", "2");
            Assert.True(code == 0, err);
            var json = JsonDocument.Parse(output).RootElement;
            Assert.Equal(2, json.GetProperty("examplesWithRationale").GetInt32());
            Assert.Equal(2, json.GetProperty("rationaleTopK").GetInt32());
            var metrics = json.GetProperty("methods")[0].GetProperty("metrics");
            Assert.Equal(2, metrics.GetProperty("tokenF1").GetProperty("count").GetInt32());
            Assert.InRange(metrics.GetProperty("auprc").GetProperty("mean").GetDouble(), 0, 1);
            Assert.Equal([1, 0, 0], json.GetProperty("perExample").EnumerateArray().Select(e => e.GetProperty("target").GetInt32()));
            var steps = json.GetProperty("parameterRandomization")[0].GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("layer").GetString());
            Assert.Equal(["head", "block 1", "block 0", "embeddings"], steps);
            Assert.Equal("occlusion", json.GetProperty("labelRandomization").GetProperty("methods")[0].GetProperty("method").GetString());
            // The table went to standard error because the report went to standard output.
            Assert.Contains("token F1 ↑", err);
            Assert.Contains("Parameter randomisation", err);
        }
        finally { File.Delete(data); }
    }

    [Fact]
    public void BadInputExitsWithTwoAndWritesNothing()
    {
        string data = Subset(3), dir = TempDir();
        string m = Model("distilbert-sst2-tiny");
        string outPath = Path.Combine(dir, "report.json");
        try
        {
            File.WriteAllText(outPath, "previous");
            (int Code, string Out, string Err) Run(params string[] extra) =>
                CliTestSupport.Run(["evaluate-explanations", "--model", m, "--data", data, "--format", "json", "--out", outPath, .. extra]);

            var r = Run("--methods", "lig,magic");
            Assert.Equal(2, r.Code);
            Assert.Contains("magic", r.Err);
            Assert.Contains("lig, ig, saliency, input-x-gradient", r.Err);

            r = CliTestSupport.Run("evaluate-explanations", "--model", m, "--data", "/no/such/data.tsv", "--format", "json", "--out", outPath);
            Assert.Equal(2, r.Code);
            Assert.Contains("/no/such/data.tsv", r.Err);

            r = Run("--text-column", "review");
            Assert.Equal(2, r.Code);
            Assert.Contains("review", r.Err);
            Assert.Contains("sentence, label", r.Err);

            r = Run("--rationale-column", "evidence");
            Assert.Equal(2, r.Code);
            Assert.Contains("evidence", r.Err);

            string badRationale = CliTestSupport.TempFile("sentence\tlabel\tr\ngood film\t1\t7\n", ".tsv");
            r = CliTestSupport.Run("evaluate-explanations", "--model", m, "--data", badRationale, "--rationale-column", "r", "--format", "json", "--out", outPath);
            File.Delete(badRationale);
            Assert.Equal(2, r.Code);
            Assert.Contains("word 7", r.Err);

            string badLabel = CliTestSupport.TempFile("sentence\tlabel\ngood film\tmaybe\n", ".tsv");
            r = CliTestSupport.Run("evaluate-explanations", "--model", m, "--data", badLabel, "--format", "json", "--out", outPath);
            File.Delete(badLabel);
            Assert.Equal(2, r.Code);
            Assert.Contains("NEGATIVE, POSITIVE", r.Err);

            r = CliTestSupport.Run("evaluate-explanations", "--model", Model("bert-tiny-random-mlm"), "--data", data, "--format", "json", "--out", outPath);
            Assert.Equal(2, r.Code);
            Assert.Contains("sequence-classification model", r.Err);

            r = CliTestSupport.Run("evaluate-explanations", "--model", m, "--data", data, "--format", "json", "--out", "/no/such/folder/report.json");
            Assert.Equal(2, r.Code);
            Assert.Contains("/no/such/folder", r.Err);

            r = CliTestSupport.Run("evaluate-explanations", "--model", m, "--data", data, "--out", outPath);
            Assert.Equal(2, r.Code);
            Assert.Contains("--format json", r.Err);

            r = Run("--limit", "0");
            Assert.Equal(2, r.Code);

            r = Run("--random-label-model", Model("roberta-tiny-random-nli"));
            Assert.Equal(2, r.Code);
            Assert.Contains("3 classes", r.Err);

            // Nothing above touched the existing report, and no temporary file was left behind.
            Assert.Equal("previous", File.ReadAllText(outPath));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally { File.Delete(data); Directory.Delete(dir, recursive: true); }
    }
}
