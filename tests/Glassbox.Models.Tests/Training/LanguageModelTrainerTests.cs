using System.Text.Json;
using Glassbox.Models.Architectures;
using Glassbox.Models.Training;
using Glassbox.Tokenizers;

namespace Glassbox.Models.Tests.Training;

public sealed class LanguageModelTrainerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private LanguageModelTrainingOptions Options(string outName, int steps = 60)
    {
        string text = _dir.File("text.txt");
        if (!File.Exists(text)) File.WriteAllText(text, File.ReadAllText(TrainingFixtures.TinyShakespeare)[..30_000]);
        return new LanguageModelTrainingOptions
        {
            DataPath = text,
            Tokenizer = TrainingFixtures.ShakespeareTokenizer,
            Config = TrainingFixtures.Gpt2Config,
            Steps = steps,
            BatchSize = 8,
            BlockSize = 32,
            LearningRate = 1e-2f,
            EvalEvery = 20,
            Threads = 1,
            OutputDir = _dir.File(outName),
            CommandLine = "glassbox train lm (test)",
        };
    }

    [Fact]
    public void LossDecreasesAndTheSavedModelReproducesTheValidationLoss()
    {
        var o = Options("lm");
        var r = LanguageModelTrainer.Train(o);

        // Before training a model predicts about uniformly: ln 2048 ≈ 7.62 nats per token.
        var tokenizer = Tokenizer.FromPretrained(TrainingFixtures.ShakespeareTokenizer);
        var (_, _, config, raw) = TrainingFixtures.Build(TrainingFixtures.Gpt2Config);
        var untrained = (Gpt2)ModelSetup.Create(new Gpt2LanguageModel(), config, raw, null, 0).Model;
        double initial = LanguageModelTrainer.ValidationLoss(untrained, tokenizer, o.DataPath, 0.1f, 32);
        Assert.InRange(initial, 7.3, 7.9);
        Assert.Equal([20, 40, 60], r.History.Select(h => h.Step));
        Assert.True(r.History[0].ValLoss < initial - 1.0, $"validation loss {r.History[0].ValLoss} after 20 steps vs {initial} untrained");
        Assert.True(r.History[^1].ValLoss < r.History[0].ValLoss, "validation loss should keep falling");
        Assert.True(r.History[^1].TrainLoss < r.History[0].TrainLoss);

        var model = Assert.IsType<Gpt2>(AutoModel.FromPretrained(o.OutputDir));
        double reloaded = LanguageModelTrainer.ValidationLoss(model, Tokenizer.FromPretrained(o.OutputDir), o.DataPath, 0.1f, 32);
        Assert.Equal(r.ValidationLoss, reloaded);
        using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.OutputDir, "training.json")));
        Assert.Equal(r.ValidationLoss, card.RootElement.GetProperty("valLossNatsPerToken").GetDouble());
        Assert.Equal(32, card.RootElement.GetProperty("config").GetProperty("n_embd").GetInt32());
        Assert.True(File.Exists(Path.Combine(o.OutputDir, "tokenizer.json")));
    }

    [Fact]
    public void SplitIsByCharactersAndValidationWindowsTileTheIds()
    {
        var (train, val) = LanguageModelTrainer.Split("abcdefghij", 0.1f);
        Assert.Equal("abcdefghi", train);
        Assert.Equal("j", val);
        var (t2, v2) = LanguageModelTrainer.Split("ab\U0001F600", 0.25f);   // never splits a surrogate pair
        Assert.Equal("ab", t2);
        Assert.Equal("\U0001F600", v2);

        // A window loss computed by hand equals ValidationLoss on those ids.
        var (_, start, _, _) = TrainingFixtures.Build(TrainingFixtures.Gpt2Config);
        var model = (Gpt2)start.Model;
        int[] ids = Enumerable.Range(0, 17).Select(i => (i * 37) % 2048).ToArray();   // two windows of 8 + 1, one token left over
        double expected = 0;
        for (int w = 0; w < 2; w++)
        {
            var logits = model.Forward(new ModelInput(1, 8, ids[(w * 8)..(w * 8 + 8)])).Logits!.ToArray();
            for (int p = 0; p < 8; p++)
            {
                var row = logits.AsSpan(p * 2048, 2048);
                double max = double.NegativeInfinity; foreach (var v in row) max = Math.Max(max, v);
                double sum = 0; foreach (var v in row) sum += Math.Exp(v - max);
                expected += Math.Log(sum) + max - row[ids[w * 8 + p + 1]];
            }
        }
        Assert.Equal(expected / 16, LanguageModelTrainer.ValidationLoss(model, ids, 8, null), 4);
    }

    [Fact]
    public void BadInputIsATrainingInputExceptionAndWritesNothing()
    {
        var good = Options("bad", steps: 2);
        void Fails(LanguageModelTrainingOptions o, string expected)
        {
            var e = Assert.Throws<TrainingInputException>(() => LanguageModelTrainer.Train(o));
            Assert.Contains(expected, e.Message);
            Assert.False(Directory.Exists(o.OutputDir));
        }
        Fails(good with { DataPath = _dir.File("none.txt") }, "file not found");
        Fails(good with { Config = "{\"model_type\":\"bert\"}" }, "trains GPT-2");
        Fails(good with { Config = "{not json" }, "not valid JSON");
        Fails(good with { Config = _dir.File("missing-config.json") }, "file not found");
        Fails(good with { Config = TrainingFixtures.Gpt2Config.Replace("2048", "1000", StringComparison.Ordinal) }, "vocab_size is 1000");
        Fails(good with { BlockSize = 64 }, "--block-size 64");
        Fails(good with { Tokenizer = _dir.File("no-tokenizer") }, "no such folder");
        Fails(good with { Steps = 0 }, "--steps");
        string tiny = _dir.File("tiny.txt");
        File.WriteAllText(tiny, "To be, or not to be.");
        Fails(good with { DataPath = tiny }, "fewer than one window");
    }
}
