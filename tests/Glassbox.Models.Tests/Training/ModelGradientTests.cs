using Glassbox.Models.Training;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests.Training;

/// <summary>Weight gradients of whole tiny models (the trainer's loss: mean cross-entropy of the
/// training-mode logits, no dropout) against central finite differences, for a few weights of
/// every kind of parameter.</summary>
public sealed class ModelGradientTests
{
    [Theory]
    [InlineData(TrainingFixtures.DistilBertConfig)]
    [InlineData(TrainingFixtures.BertConfig)]
    [InlineData(TrainingFixtures.RobertaConfig)]
    public void ClassifierWeightGradientsMatchFiniteDifferences(string config)
    {
        var (arch, start, _, _) = TrainingFixtures.Build(Scaled(config), labels: 3);
        // Two rows of different lengths: padding and the attention mask are part of what is checked.
        int padId = config.Contains("\"roberta\"", StringComparison.Ordinal) ? 1 : 0;
        int[][] rows = [[101, 2204, 3185, 2001, 102], [101, 6659, 102]];
        var input = ModelInput.Pad(rows, padId, typeIds: config.Contains("bert\"", StringComparison.Ordinal) && !config.Contains("distil", StringComparison.Ordinal) ? [new int[5], new int[3]] : null);
        int[] targets = [2, 0];
        var dropout = new Dropout(new TrainingRandom(0));
        Tensor Loss() => Ops.CrossEntropy(arch.Logits(start.Model, input, dropout, 0f), targets);
        Check(start, Loss, usedIds: rows.SelectMany(r => r).ToHashSet());
    }

    [Fact]
    public void Gpt2WeightGradientsMatchFiniteDifferences()
    {
        var (arch, start, _, _) = TrainingFixtures.Build(Scaled(TrainingFixtures.Gpt2Config));
        int[] ids = [5, 17, 300, 42, 9, 1000, 7, 64];
        int[] targets = [17, 300, 42, 9, 1000, 7, 64, 3];
        var model = (Glassbox.Models.Architectures.Gpt2)start.Model;
        Tensor Loss()
        {
            var logits = model.Forward(new ModelInput(2, 4, ids)).Logits!;
            return Ops.CrossEntropy(Ops.Reshape(logits, 8, logits.Shape[2]), targets);
        }
        Check(start, Loss, usedIds: ids.Concat(targets).ToHashSet());
    }

    // Weights of std 0.02 leave the loss nearly flat, so float32 finite differences would measure
    // rounding noise; std 0.5 puts the model in general position with gradients well above it.
    private static string Scaled(string config) => config.Replace("{", "{\"initializer_range\":0.5,", StringComparison.Ordinal);

    private static void Check(StartingModel start, Func<Tensor> loss, HashSet<int> usedIds)
    {
        var all = start.Parameters.Select(p => p.Value).ToList();
        Tensor[] grads;
        using (var tape = Tape.Record())
        {
            tape.Watch(all);
            grads = tape.Gradient(loss(), all);
        }
        var rng = new Random(11);
        int checkedTensors = 0;
        for (int pi = 0; pi < start.Parameters.Count; pi++)
        {
            var (name, t) = start.Parameters[pi];
            int[] picks;
            if (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal) || name.EndsWith("wte.weight", StringComparison.Ordinal))
            {
                int d = t.Shape[1];
                picks = usedIds.Take(3).SelectMany(id => new[] { id * d + rng.Next(d), id * d + rng.Next(d) }).ToArray();
            }
            else if (name.EndsWith("position_embeddings.weight", StringComparison.Ordinal) || name.EndsWith("wpe.weight", StringComparison.Ordinal))
                picks = Enumerable.Range(0, 4).Select(_ => rng.Next(3 * t.Shape[1])).ToArray(); // positions every row uses
            else picks = Enumerable.Range(0, 4).Select(_ => rng.Next(t.Length)).ToArray();
            double diff2 = 0, ref2 = 0;
            foreach (int j in picks)
            {
                float orig = t.Span[j];
                const float h = 1e-2f;
                t.Span[j] = orig + h; double lp = loss().Item();
                t.Span[j] = orig - h; double lm = loss().Item();
                t.Span[j] = orig;
                double fd = (lp - lm) / (2 * h), an = grads[pi].Span[j];
                diff2 += (fd - an) * (fd - an);
                ref2 += Math.Max(fd * fd, an * an);
            }
            if (name.EndsWith("k_lin.bias", StringComparison.Ordinal) || name.EndsWith("key.bias", StringComparison.Ordinal))
            {
                // softmax(q·(k + b)) does not depend on the key bias: its true gradient is 0, and both
                // sides must be at rounding level.
                Assert.True(Math.Sqrt(ref2) < 2e-4, $"{name}: gradient {Math.Sqrt(ref2):E2} should be 0");
                continue;
            }
            double err = Math.Sqrt(diff2) / Math.Max(Math.Sqrt(ref2), 1e-4);
            Assert.True(err < 2e-2, $"{name}: relative error {err:E2} between tape and finite-difference gradients (|g| {Math.Sqrt(ref2):E2})");
            if (ref2 > 1e-12) checkedTensors++;
        }
        // Nearly every parameter tensor must have a non-zero gradient somewhere in the picks.
        Assert.True(checkedTensors >= start.Parameters.Count * 2 / 3, $"only {checkedTensors}/{start.Parameters.Count} tensors had non-zero gradients at the picked weights");
    }
}
