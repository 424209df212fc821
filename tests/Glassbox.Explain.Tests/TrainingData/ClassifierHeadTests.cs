// The classifier heads ClassifierHead.Of recovers for each architecture: softmax(W·features + b)
// must reproduce the model's own outputs, and the closed-form loss gradient must equal autograd's
// gradient with respect to the head's parameters.
using Glassbox.Explain.Counterfactuals;
using Glassbox.Explain.TrainingData;
using Glassbox.Models;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests.TrainingData;

public class ClassifierHeadTests
{
    [Theory]
    [InlineData("distilbert-sst2-tiny")]
    [InlineData("bert-tiny-random-multilabel")]   // BERT: pooler tanh(dense(h_CLS)) → classifier (logits checked through softmax)
    [InlineData("roberta-tiny-random-nli")]       // RoBERTa: tanh(classifier.dense(h_<s>)) → classifier.out_proj
    public void HeadReproducesTheModelAndAutogradGradients(string name)
    {
        var dir = Shared.Model(name);
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        var model = new TransformerExplainable(AutoModel.FromPretrained(dir), dir, config.Id2Label, OutputTransform.Softmax);
        var encoder = TextEncoder.FromPretrained(dir);
        var examples = new[] { "a fine , sunny day .", "nothing works", "the cat sat on the mat" }
            .Select((t, i) => EncodedExample.From(encoder, new TextExample($"e{i}", t, i % 2))).ToArray();
        var head = ClassifierHead.Of(model);
        var features = head.Features(examples);
        head.Verify(model, examples, features); // throws when softmax(head) differs from the model's output
        var parameters = model.Model.Parameters;
        var w = parameters[head.WeightName];
        var b = parameters[head.BiasName!];
        for (int i = 0; i < examples.Length; i++)
        {
            float[] gw, gb;
            using (var tape = Tape.Record())
            {
                tape.Watch([w, b]);
                var p = model.Predict(ModelInput.Single(examples[i].Ids, examples[i].TypeIds));
                var loss = Ops.Neg(Ops.Log(Ops.Narrow(p, 1, examples[i].Label!.Value, 1)));
                var g = tape.Gradient(Ops.Sum(loss), [w, b]);
                gw = g[0].ToArray(); gb = g[1].ToArray();
            }
            var closed = head.LossGradient(features[i], examples[i].Label!.Value);
            Assert.Equal(gw.Length + gb.Length, closed.Length);
            for (int k = 0; k < closed.Length; k++)
            {
                double auto = k < gw.Length ? gw[k] : gb[k - gw.Length];
                Assert.True(Math.Abs(auto - closed[k]) <= 1e-4 + 1e-3 * Math.Abs(auto), $"{name} example {i} parameter {k}: autograd {auto}, closed form {closed[k]}");
            }
        }
    }

    [Fact]
    public void ModelsWithoutAKnownHeadAreRefused()
    {
        var dir = Shared.Model("bert-tiny-random-mlm");
        var mlm = new TransformerExplainable(AutoModel.FromPretrained(dir), dir, ["a", "b"]);
        Assert.Contains("IClassifierHeadModel", Assert.Throws<NotSupportedException>(() => ClassifierHead.Of(mlm)).Message);
        Assert.Contains("black-box", Assert.Throws<NotSupportedException>(() => ClassifierHead.Of(new LinearBlackBox([1], 0, 0))).Message);
    }

    [Fact]
    public void VerifyRejectsAModelWhoseOutputsAreNotSoftmaxOfTheHead()
    {
        var dir = Shared.Model("distilbert-sst2-tiny");
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        var raw = new TransformerExplainable(AutoModel.FromPretrained(dir), dir, config.Id2Label, OutputTransform.None);
        var train = new[] { EncodedExample.From(TextEncoder.FromPretrained(dir), new TextExample("x", "a good film", 1)) };
        Assert.Contains("OutputTransform.Softmax", Assert.Throws<InvalidOperationException>(() => HeadInfluence.Build(raw, train)).Message);
    }
}
