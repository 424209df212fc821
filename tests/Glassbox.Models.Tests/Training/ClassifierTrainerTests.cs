using System.Text.Json;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Models.Data;
using Glassbox.Models.Training;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Models.Tests.Training;

public sealed class ClassifierTrainerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ClassifierTrainingOptions Options(string outName, string? config = TrainingFixtures.DistilBertConfig, int epochs = 4) => new()
    {
        DataPath = TrainingFixtures.SentimentTsv(_dir.File("train.tsv"), 320, seed: 1),
        EvalDataPath = TrainingFixtures.SentimentTsv(_dir.File("dev.tsv"), 100, seed: 2),
        Columns = new DataColumns("sentence", "label"),
        Config = config,
        Tokenizer = TrainingFixtures.BertTokenizer,
        LabelNames = ["NEGATIVE", "POSITIVE"],
        Epochs = epochs,
        LearningRate = 5e-3f,
        BatchSize = 16,
        MaxLength = 32,
        Threads = 1,
        OutputDir = _dir.File(outName),
        CommandLine = "glassbox train classifier (test)",
    };

    [Fact]
    public void LearnsASeparableTaskAndTheFolderLoadsBackWithTheSameAccuracy()
    {
        var progress = new List<TrainProgress>();
        var o = Options("out") with { SaveEveryEpoch = true };
        var r = ClassifierTrainer.Train(o, new SyncProgress(progress));

        Assert.True(r.EvalAccuracy >= 0.95, $"eval accuracy {r.EvalAccuracy}");
        Assert.True(r.History[^1].TrainLoss < r.History[0].TrainLoss * 0.5, "the training loss should fall");
        Assert.Equal(r.History.MaxBy(h => h.EvalAccuracy)!.Epoch, r.BestEpoch);
        Assert.Equal(4 * 20, progress.Count(p => p.Phase == "train"));
        Assert.Equal(4, progress.Count(p => p.Phase == "evaluate"));

        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "training.json" })
            Assert.True(File.Exists(Path.Combine(o.OutputDir, f)), f);
        var model = Assert.IsType<DistilBert>(AutoModel.FromPretrained(o.OutputDir));
        Assert.Equal(["NEGATIVE", "POSITIVE"], model.Config.Id2Label);
        Assert.Equal(["DistilBertForSequenceClassification"], model.Config.Architectures);
        using (var cfg = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.OutputDir, "config.json"))))
        {
            Assert.Equal(1, cfg.RootElement.GetProperty("label2id").GetProperty("POSITIVE").GetInt32());
            Assert.Equal("single_label_classification", cfg.RootElement.GetProperty("problem_type").GetString());
        }
        // The saved (best) model scores exactly what the card says.
        var tok = Tokenizer.FromPretrained(o.OutputDir);
        double acc = ClassifierTrainer.Accuracy(model, tok, o.EvalDataPath!, o.Columns, o.MaxLength, model.Config.Id2Label);
        using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.OutputDir, "training.json")));
        Assert.Equal(card.RootElement.GetProperty("metrics").GetProperty("evalAccuracy").GetDouble(), acc);
        Assert.Equal(r.EvalAccuracy, acc);
        Assert.Equal("glassbox train classifier (test)", card.RootElement.GetProperty("command").GetString());
        Assert.Equal(4, card.RootElement.GetProperty("history").GetArrayLength());
        Assert.Equal(320, card.RootElement.GetProperty("data").GetProperty("train").GetProperty("rows").GetInt32());
        Assert.True(card.RootElement.GetProperty("trainSeconds").GetDouble() > 0);

        // Per-epoch checkpoints are complete model folders; the best one equals the top-level model.
        for (int e = 1; e <= 4; e++)
            Assert.IsType<DistilBert>(AutoModel.FromPretrained(Path.Combine(o.OutputDir, "checkpoints", $"epoch-{e}")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(o.OutputDir, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(o.OutputDir, "checkpoints", $"epoch-{r.BestEpoch}", "model.safetensors")));
        // Nothing but the output folder appears next to it (the staging folder was renamed).
        Assert.Equal(["dev.tsv", "out", "train.tsv"], Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SavedModelGivesIdenticalLogits()
    {
        foreach (var config in new[] { TrainingFixtures.DistilBertConfig, TrainingFixtures.BertConfig, TrainingFixtures.RobertaConfig })
        {
            var (arch, start, _, raw) = TrainingFixtures.Build(config, labels: 3);
            string folder = _dir.File("rt-" + raw["model_type"]);
            raw["architectures"] = new System.Text.Json.Nodes.JsonArray(arch.ArchitectureName);
            ModelSetup.WriteModelFolder(folder, raw, start.Parameters, TrainingFixtures.BertTokenizer);
            var loaded = AutoModel.FromPretrained(folder);
            Assert.Equal(arch.ArchitectureName, loaded.ArchitectureName);
            int pad = raw["model_type"]!.ToString() == "roberta" ? 1 : 0;
            var input = ModelInput.Pad([[101, 2204, 3185, 102], [101, 6659, 102]], pad);
            Assert.Equal(start.Model.Forward(input).Logits!.ToArray(), loaded.Forward(input).Logits!.ToArray());
        }
    }

    [Fact]
    public void SameSeedAndThreadsGiveTheSameWeights()
    {
        var a = Options("a", epochs: 1);
        var b = a with { OutputDir = _dir.File("b") };
        ClassifierTrainer.Train(a);
        ClassifierTrainer.Train(b);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.OutputDir, "model.safetensors")), File.ReadAllBytes(Path.Combine(b.OutputDir, "model.safetensors")));
        var c = a with { OutputDir = _dir.File("c"), Seed = 1 };
        ClassifierTrainer.Train(c);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.OutputDir, "model.safetensors")), File.ReadAllBytes(Path.Combine(c.OutputDir, "model.safetensors")));
    }

    [Fact]
    public void InitKeepsACompatibleHeadAndReplacesAnIncompatibleOne()
    {
        var first = Options("first", epochs: 1);
        ClassifierTrainer.Train(first);

        // Same labels: the body and the head come from the checkpoint.
        var same = Options("same", config: null, epochs: 1) with { Init = first.OutputDir, Tokenizer = null };
        ClassifierTrainer.Train(same);
        using (var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(same.OutputDir, "training.json"))))
            Assert.False(card.RootElement.GetProperty("recipe").TryGetProperty("newlyInitialised", out _));

        // Three string labels: a new classifier (and pre-classifier) head, listed in the card.
        string three = _dir.File("three.csv");
        File.WriteAllLines(three, ["text,label", "good film,pos", "bad film,neg", "a film,neutral", "great,pos", "awful,neg", "the plot,neutral"]);
        var other = same with { DataPath = three, EvalDataPath = null, LabelNames = null, OutputDir = _dir.File("three"), Columns = new DataColumns("text", "label") };
        var r = ClassifierTrainer.Train(other);
        Assert.Equal(["neg", "neutral", "pos"], r.Labels);                 // sorted string labels
        var model = Assert.IsType<DistilBert>(AutoModel.FromPretrained(other.OutputDir));
        Assert.Equal(3, model.Config.NumLabels);
        using var card3 = JsonDocument.Parse(File.ReadAllText(Path.Combine(other.OutputDir, "training.json")));
        var fresh = card3.RootElement.GetProperty("recipe").GetProperty("newlyInitialised").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["classifier.bias", "classifier.weight"], fresh.Order(StringComparer.Ordinal));
        Assert.Equal("last epoch (no --eval-data)", card3.RootElement.GetProperty("recipe").GetProperty("selection").GetString());
        // The body was carried over: the word embeddings start from the checkpoint, not from a fresh init.
        var init = AutoModel.FromPretrained(first.OutputDir);
        var e0 = init.Parameters["distilbert.embeddings.word_embeddings.weight"].ToArray();
        var e1 = model.Parameters["distilbert.embeddings.word_embeddings.weight"].ToArray();
        Assert.Equal(e0[100 * 16 + 3], e1[100 * 16 + 3], 3);               // an unused row only decays by lr·wd
    }

    [Fact]
    public void BertClassifierTrainsWithTokenTypesAndPairs()
    {
        string path = _dir.File("pairs.jsonl");
        var rng = new Random(4);
        using (var w = new StreamWriter(path))
            for (int i = 0; i < 160; i++)
            {
                // The label is the polarity of the second text; the first is neutral filler.
                bool pos = rng.Next(2) == 0;
                string[] filler = ["plot", "cast", "music", "story", "ending"];
                w.WriteLine(JsonSerializer.Serialize(new { premise = $"the {filler[rng.Next(5)]} was long", hypothesis = $"it was {(pos ? "great" : "awful")}", label = pos ? "entailed" : "refuted" }));
            }
        var o = Options("bert", TrainingFixtures.BertConfig, epochs: 8) with
        {
            DataPath = path, EvalDataPath = path, LabelNames = null, BatchSize = 16, LearningRate = 1e-2f,
            Columns = new DataColumns("premise", "label", Pair: "hypothesis"),
        };
        var r = ClassifierTrainer.Train(o);
        Assert.Equal(["entailed", "refuted"], r.Labels);
        Assert.True(r.EvalAccuracy >= 0.9, $"pair accuracy {r.EvalAccuracy}");
        Assert.IsType<Bert>(AutoModel.FromPretrained(o.OutputDir));
    }

    [Fact]
    public void BadInputIsATrainingInputExceptionAndWritesNothing()
    {
        var good = Options("bad-out", epochs: 1);
        void Fails(ClassifierTrainingOptions o, string expected)
        {
            var e = Assert.Throws<TrainingInputException>(() => ClassifierTrainer.Train(o));
            Assert.Contains(expected, e.Message);
            Assert.False(Directory.Exists(o.OutputDir), "nothing may be written to --out");
            Assert.DoesNotContain(Directory.EnumerateDirectories(_dir.Path), d => Path.GetFileName(d).Contains(".training-", StringComparison.Ordinal));
        }
        Fails(good with { DataPath = _dir.File("missing.tsv") }, "file not found");
        Fails(good with { Columns = new DataColumns("txt", "label") }, "column 'txt' not found");
        Fails(good with { Columns = new DataColumns("sentence", "y") }, "Use --label-column");
        Fails(good with { Config = null, Init = _dir.File("no-such-model") }, "--init");
        Fails(good with { Config = "{\"model_type\": \"distilbert\", \"dim\": }" }, "not valid JSON");
        Fails(good with { Config = "{\"model_type\": \"t5\"}" }, "not supported");
        Fails(good with { Config = TrainingFixtures.DistilBertConfig.Replace("\"n_heads\":2", "\"n_heads\":3", StringComparison.Ordinal) }, "not a multiple");
        Fails(good with { MaxLength = 500 }, "--max-length 500");
        Fails(good with { Tokenizer = null }, "--tokenizer");
        Fails(good with { Config = TrainingFixtures.DistilBertConfig.Replace("30522", "100", StringComparison.Ordinal) }, "vocab_size is 100");
        string one = _dir.File("one.tsv");
        File.WriteAllLines(one, ["sentence\tlabel", "fine\t1", "also fine\t1"]);
        Fails(good with { DataPath = one }, "has only one class ('1')");
        string unknownEval = _dir.File("unknown.tsv");
        File.WriteAllLines(unknownEval, ["sentence\tlabel", "fine\t7"]);
        Fails(good with { EvalDataPath = unknownEval, LabelNames = null }, "label '7'");
        Fails(good with { LabelNames = ["ONLY"] }, "--label-names gives 1 names");
        Fails(good with { Epochs = 0 }, "--epochs");

        // A non-empty --out is refused unless overwriting is asked for.
        Directory.CreateDirectory(good.OutputDir);
        File.WriteAllText(Path.Combine(good.OutputDir, "keep.txt"), "x");
        var e = Assert.Throws<TrainingInputException>(() => ClassifierTrainer.Train(good));
        Assert.Contains("not empty", e.Message);
        Assert.True(File.Exists(Path.Combine(good.OutputDir, "keep.txt")));
        ClassifierTrainer.Train(good with { Overwrite = true });
        Assert.False(File.Exists(Path.Combine(good.OutputDir, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(good.OutputDir, "model.safetensors")));
    }

    [Fact]
    public void LabelsAreSortedStringsOrKeptNumbers()
    {
        string s = _dir.File("s.tsv");
        TrainingFixtures.SentimentTsv(s, 40, seed: 3, stringLabels: true);
        var r = ClassifierTrainer.Train(Options("s", epochs: 1) with { DataPath = s, EvalDataPath = null, LabelNames = null });
        Assert.Equal(["neg", "pos"], r.Labels);
        string n = _dir.File("n.csv");
        File.WriteAllLines(n, ["text,label", "a,0", "b,2", "c,2", "d,0"]);
        var r2 = ClassifierTrainer.Train(Options("n", epochs: 1) with { DataPath = n, EvalDataPath = null, LabelNames = null, Columns = new DataColumns("text", "label") });
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], r2.Labels);          // numeric labels keep their ids
    }

    private sealed class SyncProgress(List<TrainProgress> sink) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => sink.Add(value);
    }
}
