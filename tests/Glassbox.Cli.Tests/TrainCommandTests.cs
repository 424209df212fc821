using System.Text.Json;
using Glassbox.Models;

namespace Glassbox.Cli.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "glassbox-train-" + Guid.NewGuid().ToString("N"));

    private const string TinyDistilBert =
        """{"model_type":"distilbert","dim":16,"n_layers":1,"n_heads":2,"hidden_dim":32,"vocab_size":30522,"max_position_embeddings":64,"pad_token_id":0}""";

    private const string TinyGpt2 =
        """{"model_type":"gpt2","n_embd":16,"n_layer":1,"n_head":2,"n_positions":16,"vocab_size":2048}""";

    public TrainCommandTests()
    {
        Directory.CreateDirectory(_dir);
        var rng = new Random(3);
        var lines = new List<string> { "sentence\tlabel" };
        for (int i = 0; i < 48; i++)
        {
            bool pos = rng.Next(2) == 0;
            lines.Add($"the film was {(pos ? "great" : "awful")} and long\t{(pos ? 1 : 0)}");
        }
        File.WriteAllLines(Path.Combine(_dir, "train.tsv"), lines);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyDistilBert);
        File.WriteAllText(Path.Combine(_dir, "gpt2.json"), TinyGpt2);
        File.WriteAllText(Path.Combine(_dir, "text.txt"), File.ReadAllText(Path.Combine(CliTestSupport.SharedDir, "data", "tinyshakespeare", "input.txt"))[..8000]);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Classifier(string outName, params string[] extra) =>
    [
        "train", "classifier", "--data", P("train.tsv"), "--eval-data", P("train.tsv"), "--text-column", "sentence", "--label-column", "label",
        "--label-names", "NEGATIVE,POSITIVE", "--config", P("config.json"), "--tokenizer", CliTestSupport.TokenizerDir("bert-base-uncased"),
        "--epochs", "2", "--lr", "5e-3", "--batch-size", "8", "--max-length", "16", "--threads", "1", "--log-every", "3", "--out", P(outName), .. extra,
    ];

    [Fact]
    public void ClassifierHappyPathWritesALoadableFolderAndReportsJson()
    {
        var (code, stdout, stderr) = CliTestSupport.Run(Classifier("model", "--save-every-epoch"));
        Assert.True(code == 0, stderr);
        Assert.Contains("epoch 1/2 step 3/12 loss", stderr);
        Assert.Contains("evaluate epoch 2 step 12: loss", stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(P("model"), json.RootElement.GetProperty("output").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("history").GetArrayLength());
        Assert.Equal("NEGATIVE", json.RootElement.GetProperty("labels")[0].GetString());
        var model = AutoModel.FromPretrained(P("model"));
        Assert.Equal("DistilBertForSequenceClassification", model.ArchitectureName);
        Assert.True(Directory.Exists(P("model/checkpoints/epoch-2")));
        using var card = JsonDocument.Parse(File.ReadAllText(P("model/training.json")));
        string command = card.RootElement.GetProperty("command").GetString()!;
        Assert.StartsWith("glassbox train classifier --data ", command);
        Assert.Contains("--save-every-epoch", command);

        // The trained folder works with the other verbs.
        var (pcode, pout, perr) = CliTestSupport.Run("predict", "--model", P("model"), "--text", "the film was great");
        Assert.True(pcode == 0, perr);
        Assert.Contains("\"POSITIVE\"", pout);
    }

    [Fact]
    public void LanguageModelHappyPath()
    {
        var (code, stdout, stderr) = CliTestSupport.Run("train", "lm", "--data", P("text.txt"), "--tokenizer", Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny"),
            "--config", P("gpt2.json"), "--steps", "6", "--batch-size", "4", "--block-size", "16", "--eval-every", "3", "--threads", "1", "--log-every", "2", "--out", P("lm"));
        Assert.True(code == 0, stderr);
        Assert.Contains("step 6/6 loss", stderr);
        using var json = JsonDocument.Parse(stdout);
        double val = json.RootElement.GetProperty("valLossNatsPerToken").GetDouble();
        Assert.InRange(val, 1, 9);
        Assert.Equal("GPT2LMHeadModel", AutoModel.FromPretrained(P("lm")).ArchitectureName);
        var (gcode, gout, gerr) = CliTestSupport.Run("predict", "--model", P("lm"), "--text", "ROMEO:", "--max-new-tokens", "3");
        Assert.True(gcode == 0, gerr);
        Assert.Contains("generatedText", gout);
    }

    [Theory]
    [InlineData("missing-file", "file not found")]
    [InlineData("wrong-column", "column 'text' not found")]
    [InlineData("unknown-init", "--init")]
    [InlineData("bad-config", "not valid JSON")]
    [InlineData("one-class", "only one class")]
    [InlineData("init-and-config", "exactly one of --init")]
    [InlineData("bad-epochs", "--epochs must be at least 1")]
    public void BadInputExitsWith2AndLeavesNothingBehind(string problem, string message)
    {
        var args = Classifier("out").ToList();
        void Set(string option, string value) => args[args.IndexOf(option) + 1] = value;
        switch (problem)
        {
            case "missing-file": Set("--data", P("nope.tsv")); break;
            case "wrong-column": Set("--text-column", "text"); break;
            case "unknown-init": args.RemoveRange(args.IndexOf("--config"), 2); args.AddRange(["--init", P("no-such-model")]); break;
            case "bad-config": File.WriteAllText(P("config.json"), "{\"model_type\": \"distilbert\",, }"); break;
            case "one-class":
                File.WriteAllLines(P("one.tsv"), ["sentence\tlabel", "fine\t1", "good\t1"]);
                Set("--data", P("one.tsv"));
                break;
            case "init-and-config": args.AddRange(["--init", P("no-such-model")]); break;
            case "bad-epochs": Set("--epochs", "0"); break;
        }
        var (code, _, stderr) = CliTestSupport.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.False(Directory.Exists(P("out")));
        Assert.DoesNotContain(Directory.EnumerateDirectories(_dir), d => Path.GetFileName(d).StartsWith(".out", StringComparison.Ordinal));
    }

    [Fact]
    public void LanguageModelBadInputExitsWith2()
    {
        var (code, _, stderr) = CliTestSupport.Run("train", "lm", "--data", P("missing.txt"), "--tokenizer", Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny"),
            "--config", P("gpt2.json"), "--steps", "2", "--out", P("lm-bad"));
        Assert.Equal(2, code);
        Assert.Contains("file not found", stderr);
        Assert.False(Directory.Exists(P("lm-bad")));
        (code, _, stderr) = CliTestSupport.Run("train", "lm", "--data", P("text.txt"), "--tokenizer", Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny"),
            "--config", P("config.json"), "--steps", "2", "--out", P("lm-bad"));
        Assert.Equal(2, code);
        Assert.Contains("trains GPT-2", stderr);
    }

    [Fact]
    public void HelpListsTheOptions()
    {
        var (code, stdout, _) = CliTestSupport.Run("train", "classifier", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--data", "--text-column", "--label-column", "--pair-column", "--init", "--config", "--tokenizer", "--epochs", "--lr",
                     "--batch-size", "--max-length", "--eval-data", "--warmup-ratio", "--weight-decay", "--clip", "--seed", "--threads", "--save-every-epoch", "--out" })
            Assert.Contains(option, stdout);
        (code, stdout, _) = CliTestSupport.Run("train", "lm", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--data", "--tokenizer", "--config", "--steps", "--batch-size", "--block-size", "--lr", "--eval-every", "--val-fraction", "--seed", "--out" })
            Assert.Contains(option, stdout);
    }
}
