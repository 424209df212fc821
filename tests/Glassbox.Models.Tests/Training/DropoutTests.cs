using System.Text.Json.Nodes;
using Glassbox.Models.Training;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests.Training;

public sealed class DropoutTests
{
    [Theory]
    [InlineData(TrainingFixtures.DistilBertConfig)]
    [InlineData(TrainingFixtures.BertConfig)]
    [InlineData(TrainingFixtures.RobertaConfig)]
    public void TrainingHeadWithoutDropoutEqualsTheModelsOwnLogits(string config)
    {
        var (arch, start, _, _) = TrainingFixtures.Build(config, labels: 3);
        int pad = config.Contains("\"roberta\"", StringComparison.Ordinal) ? 1 : 0;
        var input = ModelInput.Pad([[101, 2204, 3185, 102], [101, 6659, 102]], pad);
        var own = start.Model.Forward(input).Logits!.ToArray();
        var recomputed = arch.Logits(start.Model, input, new Dropout(new TrainingRandom(1)), 0f).ToArray();
        Assert.Equal(own, recomputed);
    }

    [Fact]
    public void InvertedDropoutZeroesAboutPAndPreservesTheMean()
    {
        var d = new Dropout(new TrainingRandom(5, "test"));
        using var x = Tensor.Ones(200_000);
        var y = d.Apply(x, 0.25f).ToArray();
        double zeros = y.Count(v => v == 0) / (double)y.Length;
        Assert.InRange(zeros, 0.245, 0.255);                               // binomial sd ≈ 0.001
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v));
        Assert.InRange(y.Average(), 0.99, 1.01);
        Assert.Same(x, d.Apply(x, 0f));
    }

    [Fact]
    public void DropoutIsDifferentiableThroughTheMask()
    {
        var d = new Dropout(new TrainingRandom(2));
        var x = Tensor.Ones(1000);
        using var tape = Tape.Record();
        tape.Watch(x);
        var y = d.Apply(x, 0.5f);
        var g = tape.Gradient(Ops.Sum(y), x)[0].ToArray();
        Assert.Equal(y.ToArray(), g);                                      // d(x·m)/dx = m
    }

    [Fact]
    public void SameSeedSameMasksAndHooksChangeTheForwardPass()
    {
        var (arch, start, _, raw) = TrainingFixtures.Build(TrainingFixtures.DistilBertConfig);
        var rates = arch.Dropout(raw);
        Assert.Equal(new DropoutRates(0.1f, 0.1f, 0f, 0.1f, 0.1f), rates);
        var input = ModelInput.Pad([[101, 2204, 3185, 102]], 0);
        float[] Run(int seed)
        {
            var d = new Dropout(new TrainingRandom(seed));
            using (d.Install(start.Model, rates)) return arch.Logits(start.Model, input, d, rates.Classifier).ToArray();
        }
        Assert.Equal(Run(7), Run(7));
        Assert.NotEqual(Run(7), Run(8));
        Assert.False(start.Model.Hooks.Any);                               // removed on dispose
    }

    [Fact]
    public void RatesFollowTransformersConfigKeysAndDefaults()
    {
        var bert = TrainableArchitecture.Classifier("bert");
        Assert.Equal(new DropoutRates(0.1f, 0.1f, 0.1f, 0.1f, 0.1f), bert.Dropout(new JsonObject()));
        Assert.Equal(new DropoutRates(0.3f, 0.2f, 0.3f, 0.3f, 0.5f),
            bert.Dropout((JsonObject)JsonNode.Parse("""{"hidden_dropout_prob":0.3,"attention_probs_dropout_prob":0.2,"classifier_dropout":0.5}""")!));
        Assert.Equal(new DropoutRates(0.1f, 0.1f, 0f, 0.1f, 0.2f), TrainableArchitecture.Classifier("distilbert").Dropout(new JsonObject()));
        Assert.Equal(new DropoutRates(0f, 0.05f, 0.2f, 0.2f, 0f),
            new Gpt2LanguageModel().Dropout((JsonObject)JsonNode.Parse("""{"embd_pdrop":0,"attn_pdrop":0.05,"resid_pdrop":0.2}""")!));
        Assert.Throws<Glassbox.Models.Configs.ConfigException>(() => bert.Dropout((JsonObject)JsonNode.Parse("""{"hidden_dropout_prob":1.5}""")!));
    }
}
