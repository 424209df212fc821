using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Glassbox.Cli.Tests;

/// <summary>The first 60 sentences of SST-2 dev, explained once without sharding (shared by the tests).</summary>
public sealed class Sst2SubsetFixture : IDisposable
{
    public const int Rows = 60;
    public const string Steps = "16";

    public Sst2SubsetFixture()
    {
        Dir = Directory.CreateTempSubdirectory("glassbox-explain-dataset").FullName;
        Data = Path.Combine(Dir, "dev60.tsv");
        File.WriteAllLines(Data, File.ReadLines(Path.Combine(CliTestSupport.SharedDir, "data", "sst2", "dev.tsv")).Take(Rows + 1));
        Results = Path.Combine(Dir, "full.jsonl");
        Report = Path.Combine(Dir, "full.html");
        (Code, Stdout, Stderr) = CliTestSupport.Run(Args(Results, "--report", Report, "--progress"));
    }

    public string Dir { get; }
    public string Data { get; }
    public string Results { get; }
    public string Report { get; }
    public int Code { get; }
    public string Stdout { get; }
    public string Stderr { get; }

    public static string Model => Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny");

    public string[] Args(string output, params string[] more) =>
        ["explain-dataset", "sequence-classification", "--model", Model, "--data", Data, "--steps", Steps, "--out", output, .. more];

    public void Dispose() => Directory.Delete(Dir, true);
}

public sealed class ExplainDatasetTests(Sst2SubsetFixture f) : IClassFixture<Sst2SubsetFixture>
{
    private static string[] Ids(string path) =>
        File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!).ToArray();

    private string TempPath(string name) => Path.Combine(f.Dir, $"{Guid.NewGuid():N}-{name}");

    [Fact]
    public void WritesOneLinePerExampleInDataOrderAndKeepsStdoutClean()
    {
        Assert.True(f.Code == 0, f.Stderr);
        Assert.Equal("", f.Stdout);
        Assert.Contains("explaining: 60/60 (100%)", f.Stderr); // --progress on a redirected stderr: plain progress lines
        var data = File.ReadLines(f.Data).Skip(1).Select(l => l.Split('\t')).ToArray();
        var lines = File.ReadAllLines(f.Results);
        Assert.Equal(Sst2SubsetFixture.Rows, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var e = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(i.ToString(), e.GetProperty("id").GetString());
            Assert.Equal(data[i][0], e.GetProperty("text").GetString());
            Assert.Equal(data[i][1], e.GetProperty("label").GetString());
            var prediction = e.GetProperty("prediction");
            int index = prediction.GetProperty("index").GetInt32();
            Assert.Equal(index == 0 ? "NEGATIVE" : "POSITIVE", prediction.GetProperty("label").GetString());
            var probabilities = e.GetProperty("probabilities");
            double pNeg = probabilities.GetProperty("NEGATIVE").GetDouble(), pPos = probabilities.GetProperty("POSITIVE").GetDouble();
            Assert.Equal(1.0, pNeg + pPos, 1e-9);
            Assert.Equal(Math.Max(pNeg, pPos), prediction.GetProperty("probability").GetDouble());
            Assert.Equal(int.Parse(data[i][1]) == index, e.GetProperty("correct").GetBoolean());
            var a = Assert.Single(e.GetProperty("attributions").EnumerateArray().ToArray());
            Assert.Equal(prediction.GetProperty("label").GetString(), a.GetProperty("target").GetString());
            int n = a.GetProperty("tokens").GetArrayLength();
            Assert.Equal(n, a.GetProperty("scores").GetArrayLength());
            Assert.Equal(n, a.GetProperty("rawScores").GetArrayLength());
            Assert.Equal("[CLS]", a.GetProperty("tokens")[0].GetString());
            Assert.Equal(a.GetProperty("words").GetArrayLength(), a.GetProperty("wordScores").GetArrayLength());
            // Normalised scores have unit L2 norm (transformers-interpret's normalisation).
            double norm = Math.Sqrt(a.GetProperty("scores").EnumerateArray().Sum(s => s.GetDouble() * s.GetDouble()));
            Assert.Equal(1.0, norm, 1e-6);
            Assert.Equal("lig", e.GetProperty("provenance").GetProperty("method").GetString());
            Assert.Equal(Sst2SubsetFixture.Steps, e.GetProperty("provenance").GetProperty("parameters").GetProperty("steps").GetString());
        }
    }

    [Fact]
    public void EachLineEqualsTheSingleExampleExplanation()
    {
        // The dataset path and `glassbox explain` run the same explainer: same prediction and token scores.
        var first = JsonDocument.Parse(File.ReadLines(f.Results).ElementAt(3)).RootElement;
        var (code, stdout, stderr) = CliTestSupport.Run("explain", "sequence-classification", "--model", Sst2SubsetFixture.Model,
            "--text", first.GetProperty("text").GetString()!, "--steps", Sst2SubsetFixture.Steps);
        Assert.True(code == 0, stderr);
        var single = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(single.GetProperty("predictedClassName").GetString(), first.GetProperty("prediction").GetProperty("label").GetString());
        Assert.Equal(single.GetProperty("predictedProbability").GetDouble(), first.GetProperty("prediction").GetProperty("probability").GetDouble());
        var expected = single.GetProperty("wordAttributions").EnumerateArray().Select(x => x.GetProperty("score").GetDouble()).ToArray();
        var actual = first.GetProperty("attributions")[0].GetProperty("scores").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void FourShardsConcatenatedEqualTheUnshardedOutput()
    {
        var shards = new List<byte>();
        var sizes = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            string path = TempPath($"shard{i}.jsonl");
            var (code, stdout, stderr) = CliTestSupport.Run(f.Args(path, "--shard", $"{i}/4"));
            Assert.True(code == 0, stderr);
            Assert.Equal("", stdout);
            Assert.Contains($"shard {i}/4", stderr);
            shards.AddRange(File.ReadAllBytes(path));
            sizes.Add(File.ReadAllLines(path).Length);
        }
        Assert.Equal([15, 15, 15, 15], sizes);
        Assert.Equal(File.ReadAllBytes(f.Results), shards.ToArray());
    }

    [Theory]
    [InlineData(0.5, false)]   // killed in the middle of a line
    [InlineData(0.8, true)]    // killed right after a line was written
    [InlineData(0.0, true)]    // killed before anything was written (empty file)
    public void ResumeAfterAKillGivesTheSameFileWithoutDuplicates(double fraction, bool atLineEnd)
    {
        byte[] full = File.ReadAllBytes(f.Results);
        int cut = (int)(full.Length * fraction);
        if (atLineEnd) cut = cut == 0 ? 0 : Array.LastIndexOf(full, (byte)'\n', cut) + 1;
        else Assert.NotEqual((byte)'\n', full[cut - 1]);
        string path = TempPath("resumed.jsonl");
        File.WriteAllBytes(path, full[..cut]);

        var (code, stdout, stderr) = CliTestSupport.Run(f.Args(path, "--resume", "--batch-size", "7"));
        Assert.True(code == 0, stderr);
        Assert.Equal("", stdout);
        if (!atLineEnd) Assert.Contains("torn last line", stderr);
        Assert.Equal(full, File.ReadAllBytes(path));
        var ids = Ids(path);
        Assert.Equal(ids.Length, ids.Distinct().Count());

        // Resuming a finished file explains nothing and changes nothing.
        (code, _, stderr) = CliTestSupport.Run(f.Args(path, "--resume"));
        Assert.True(code == 0, stderr);
        Assert.Contains("0 example(s) to explain", stderr);
        Assert.Equal(full, File.ReadAllBytes(path));
    }

    [Fact]
    public void ResumeRefusesAFileWrittenWithOtherSettings()
    {
        string path = TempPath("other.jsonl");
        byte[] half = File.ReadAllBytes(f.Results)[..(Array.IndexOf(File.ReadAllBytes(f.Results), (byte)'\n') + 1)];
        File.WriteAllBytes(path, half);
        var (code, _, stderr) = CliTestSupport.Run(f.Args(path, "--resume", "--method", "saliency"));
        Assert.Equal(2, code);
        Assert.Contains("other settings", stderr);
        Assert.Equal(half, File.ReadAllBytes(path));
    }

    [Fact]
    public void AnExistingOutNeedsResumeOrOverwrite()
    {
        string path = TempPath("exists.jsonl");
        File.WriteAllText(path, "keep me\n");
        var (code, _, stderr) = CliTestSupport.Run(f.Args(path));
        Assert.Equal(2, code);
        Assert.Contains("--resume", stderr);
        Assert.Equal("keep me\n", File.ReadAllText(path));

        // A file that is not explain-dataset output is not resumed either.
        (code, _, stderr) = CliTestSupport.Run(f.Args(path, "--resume"));
        Assert.Equal(2, code);
        Assert.Contains("not valid JSON", stderr);
        Assert.Equal("keep me\n", File.ReadAllText(path));

        (code, _, stderr) = CliTestSupport.Run(f.Args(path, "--overwrite", "--shard", "0/20"));
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadLines(f.Results).Take(3), File.ReadLines(path));
    }

    [Fact]
    public void ReportShowsAccuracyTopTokensAndLinksToEveryExample()
    {
        Assert.True(f.Code == 0, f.Stderr);
        string html = File.ReadAllText(f.Report);
        var lines = File.ReadAllLines(f.Results).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        int correct = lines.Count(l => l.GetProperty("correct").GetBoolean());
        string accuracy = (correct / (double)lines.Length).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"<span id=\"accuracy-value\">{accuracy}</span> ({correct} of 60 labelled examples correct)", html);
        Assert.Contains("0 (NEGATIVE)", html); // SST-2's numeric labels shown with the class name
        Assert.Contains("data-class=\"NEGATIVE\"", html);
        Assert.Contains("data-class=\"POSITIVE\"", html);
        // Every example has a view, and every link points at one.
        for (int i = 1; i <= 60; i++) Assert.Contains($"id=\"example-{i}\"", html);
        var links = Regex.Matches(html, "href=\"#(example-\\d+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.True(links.Count >= 20, $"{links.Count} links");
        foreach (var target in links) Assert.Contains($"id=\"{target}\"", html);
        // The most confident example is listed first in its table.
        var top = lines.Select((l, i) => (P: l.GetProperty("prediction").GetProperty("probability").GetDouble(), Id: l.GetProperty("id").GetString()))
            .OrderByDescending(x => x.P).First();
        int confident = html.IndexOf("id=\"confident\"", StringComparison.Ordinal);
        Assert.True(confident > 0);
        Assert.Equal($"#{top.Id}</a>", Regex.Match(html[confident..], "#\\d+</a>").Value);
        Assert.Contains("Content-Security-Policy", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
    }

    public static TheoryData<string, string[], string> BadInputs() => new()
    {
        { "missing data file", ["--data", "/no/such/dev.tsv"], "not found" },
        { "wrong text column", ["--text-column", "review"], "column 'review' not found" },
        { "wrong label column", ["--label-column", "gold"], "column 'gold' not found" },
        { "unknown method", ["--method", "magic"], "magic" },
        { "shard out of range", ["--shard", "4/4"], "below 4" },
        { "shard not i/n", ["--shard", "first"], "i/n" },
        { "missing model", ["--model", "/no/such/model"], "/no/such/model" },
        { "batch size zero", ["--batch-size", "0"], "--batch-size" },
        { "pair column for a single-text task", ["--pair-column", "label"], "pairwise" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsExitTwoWithAClearMessageAndNoFiles(string what, string[] change, string message)
    {
        string output = TempPath("bad.jsonl"), report = TempPath("bad.html");
        var args = f.Args(output, "--report", report).ToList();
        for (int i = 0; i < change.Length; i += 2)
        {
            int at = args.IndexOf(change[i]);
            if (at >= 0) args[at + 1] = change[i + 1];
            else args.AddRange(change[i..(i + 2)]);
        }
        var (code, stdout, stderr) = CliTestSupport.Run([.. args]);
        Assert.True(code == 2, $"{what}: exit {code}: {stderr}");
        Assert.Contains(message, stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(output), what);
        Assert.False(File.Exists(report), what);
        Assert.Empty(Directory.GetFiles(f.Dir, "*.tmp"));
    }

    [Fact]
    public void UnknownTaskIsBadInput()
    {
        string output = TempPath("task.jsonl");
        var args = f.Args(output);
        args[1] = "sentiment";
        var (code, _, stderr) = CliTestSupport.Run(args);
        Assert.Equal(2, code);
        Assert.Contains("sentiment", stderr);
        Assert.Contains("sequence-classification", stderr); // the valid tasks are listed
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void EmptyTextsAndDuplicateIdsAreBadInput()
    {
        string empty = TempPath("empty.tsv");
        File.WriteAllText(empty, "sentence\tlabel\ngood film\t1\n \t0\n");
        string output = TempPath("x.jsonl");
        var args = f.Args(output).ToList();
        args[args.IndexOf("--data") + 1] = empty;
        var (code, _, stderr) = CliTestSupport.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Contains("example id 1 has an empty 'sentence'", stderr);
        Assert.False(File.Exists(output));

        string dup = TempPath("dup.csv");
        File.WriteAllText(dup, "key,sentence\na,good film\nb,bad film\na,fine film\n");
        args[args.IndexOf("--data") + 1] = dup;
        (code, _, stderr) = CliTestSupport.Run([.. args, "--id-column", "key"]);
        Assert.Equal(2, code);
        Assert.Contains("id 'a' appears twice", stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void IdColumnAndCsvAndUnlabelledDataWork()
    {
        string csv = TempPath("reviews.csv");
        File.WriteAllText(csv, "key,sentence\nr1,\"a gorgeous, witty movie\"\nr2,dull and lifeless\n");
        string output = TempPath("ids.jsonl"), report = TempPath("ids.html");
        var args = f.Args(output, "--id-column", "key", "--report", report).ToList();
        args[args.IndexOf("--data") + 1] = csv;
        var (code, _, stderr) = CliTestSupport.Run([.. args]);
        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["r1", "r2"], lines.Select(l => l.GetProperty("id").GetString()));
        Assert.Equal("a gorgeous, witty movie", lines[0].GetProperty("text").GetString());
        Assert.False(lines[0].TryGetProperty("label", out _));
        Assert.False(lines[0].TryGetProperty("correct", out _));
        Assert.Contains("No accuracy", File.ReadAllText(report));
    }

    [Theory]
    [InlineData("pairwise", "bert-tiny-random-crossencoder")]
    [InlineData("multilabel", "bert-tiny-random-multilabel")]
    [InlineData("token-classification", "bert-tiny-random-ner")]
    [InlineData("question-answering", "bert-tiny-random-qa")]
    public void OtherTextTasksWriteOneLinePerExample(string task, string model)
    {
        string data = TempPath("data.jsonl");
        bool pair = task is "pairwise" or "question-answering";
        File.WriteAllLines(data,
        [
            "{\"text\": \"Alice lives in Paris\", \"pair\": \"Where does Alice live?\", \"label\": \"x\"}",
            "{\"text\": \"The cat sat on the mat\", \"pair\": \"A cat is sitting\", \"label\": \"y\"}",
            "{\"text\": \"Bob works at Acme in Berlin\", \"pair\": \"Bob has a job\", \"label\": \"z\"}",
        ]);
        string output = TempPath("task.jsonl"), report = TempPath("task.html");
        string[] args = ["explain-dataset", task, "--model", Path.Combine(CliTestSupport.SharedDir, "models", model), "--data", data,
            "--text-column", "text", "--steps", "4", "--out", output, "--report", report, .. pair ? new[] { "--pair-column", "pair" } : []];
        var (code, _, stderr) = CliTestSupport.Run(args);
        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, lines.Length);
        foreach (var line in lines)
        {
            Assert.True(line.GetProperty("attributions").GetArrayLength() >= 1);
            Assert.True(line.TryGetProperty("prediction", out _));
            if (pair) Assert.True(line.TryGetProperty("pair", out _));
            foreach (var a in line.GetProperty("attributions").EnumerateArray())
                Assert.Equal(a.GetProperty("tokens").GetArrayLength(), a.GetProperty("scores").GetArrayLength());
        }
        if (task == "question-answering") Assert.Equal(["start", "end"], lines[0].GetProperty("attributions").EnumerateArray().Select(a => a.GetProperty("target").GetString()));
        if (task == "token-classification")
            Assert.Equal(lines[0].GetProperty("prediction").GetProperty("tags").GetArrayLength(), lines[0].GetProperty("attributions").GetArrayLength());
        Assert.Contains("id=\"example-3\"", File.ReadAllText(report));
    }
}

/// <summary>All of SST-2 dev (872 sentences): the report's accuracy equals the accuracy recorded when the model was trained.</summary>
public sealed class ExplainDatasetFullDevTests
{
    [Fact]
    public void FullDevAccuracyEqualsTheModelsRecordedDevAccuracy()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-dev872").FullName;
        try
        {
            string model = Sst2SubsetFixture.Model;
            string output = Path.Combine(dir, "dev.jsonl"), report = Path.Combine(dir, "dev.html");
            // Saliency (one backward pass) keeps this fast; the predictions do not depend on the method.
            var (code, stdout, stderr) = CliTestSupport.Run("explain-dataset", "sequence-classification", "--model", model,
                "--data", Path.Combine(CliTestSupport.SharedDir, "data", "sst2", "dev.tsv"), "--method", "saliency",
                "--batch-size", "64", "--out", output, "--report", report, "--progress");
            Assert.True(code == 0, stderr);
            Assert.Equal("", stdout);
            Assert.Contains("explaining: 872/872 (100%)", stderr);
            var lines = File.ReadAllLines(output);
            Assert.Equal(872, lines.Length);
            Assert.Equal(872, lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).Distinct().Count());
            // training.json was written by the PyTorch training run that made the model.
            double recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "training.json"))).RootElement.GetProperty("dev_accuracy").GetDouble();
            int correct = lines.Count(l => JsonDocument.Parse(l).RootElement.GetProperty("correct").GetBoolean());
            Assert.Equal((int)Math.Round(recorded * 872), correct);
            Assert.Contains($"({correct} of 872 labelled examples correct)", File.ReadAllText(report));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
