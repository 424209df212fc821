// The classification head as a multinomial logistic regression on fixed features: logits =
// W·h + b, probabilities = softmax(logits), loss = −log p(label). Everything the head-only
// methods need is closed form here (Koh & Liang 2017, §4; Pruthi et al. 2020, last-layer TracIn):
//   ∇_W loss = (p − e_y) hᵀ,  ∇_b loss = p − e_y
//   Hessian of one example = (diag(p) − p pᵀ) ⊗ h̃ h̃ᵀ, with h̃ = [h, 1] when there is a bias
// Parameters are flattened as W row-major (index c·d + k), then b (index C·d + c).
// For Glassbox transformers the features are what the last linear layer reads: DistilBERT's
// ReLU(pre_classifier(h_[CLS])), BERT's pooler tanh(dense(h_[CLS])), RoBERTa's
// tanh(classifier.dense(h_<s>)). Other models implement IClassifierHeadModel.
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Tensors;

namespace Glassbox.Explain.TrainingData;

/// <summary>A model whose outputs are softmax(Weight·Features(input) + Bias).</summary>
public interface IClassifierHeadModel
{
    ClassifierHead ClassifierHead { get; }
}

/// <summary>The final linear layer of a classifier and the features it reads.</summary>
public sealed class ClassifierHead
{
    private readonly Func<ModelInput, Tensor> _features;

    /// <param name="weight">[classes, d]</param>
    /// <param name="bias">[classes] or null</param>
    /// <param name="features">inputs → the head's input features [batch, d]</param>
    public ClassifierHead(Tensor weight, Tensor? bias, Func<ModelInput, Tensor> features, string weightName = "classifier.weight", string? biasName = "classifier.bias")
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(features);
        if (weight.Rank != 2) throw new ArgumentException($"ClassifierHead: weight must be [classes, d], got [{string.Join(", ", weight.Shape)}].", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"ClassifierHead: bias must be [{weight.Shape[0]}], got [{string.Join(", ", bias.Shape)}].", nameof(bias));
        Weight = weight; Bias = bias; _features = features; WeightName = weightName; BiasName = bias is null ? null : biasName;
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public string WeightName { get; }
    public string? BiasName { get; }
    public int Classes => Weight.Shape[0];
    public int Dim => Weight.Shape[1];
    public bool HasBias => Bias is not null;
    /// <summary>Number of head parameters: classes·d (+ classes with a bias).</summary>
    public int ParameterCount => Classes * Dim + (HasBias ? Classes : 0);

    /// <summary>The head of a Glassbox sequence classifier or of a model implementing IClassifierHeadModel.</summary>
    public static ClassifierHead Of(IExplainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is IClassifierHeadModel h) return h.ClassifierHead;
        if (!model.SupportsGradients || model is not TransformerExplainable te)
            throw new NotSupportedException($"Head-only attribution needs the classifier's last layer and its input features, but '{model.Name}' is {(model.SupportsGradients ? "not a Glassbox transformer" : "a black-box model")}; implement IClassifierHeadModel, or use nearest neighbours.");
        var m = te.Model;
        var p = m.Parameters;
        Tensor P(string name) => p.TryGetValue(name, out var t) ? t : throw new InvalidOperationException($"{m.ArchitectureName}: parameter '{name}' is missing.");
        Tensor First(ModelInput input)
        {
            var x = m.Forward(input).LastHiddenState ?? throw new InvalidOperationException($"{m.ArchitectureName} returned no hidden states.");
            return Ops.Reshape(Ops.Narrow(x, 1, 0, 1), x.Shape[0], x.Shape[2]);
        }
        switch (m)
        {
            case DistilBert { Head: DistilBertHead.SequenceClassification }:
                return new ClassifierHead(P("classifier.weight"), P("classifier.bias"),
                    input => Ops.Relu(Ops.Linear(First(input), P("pre_classifier.weight"), P("pre_classifier.bias"))));
            case Bert { Head: BertHead.SequenceClassification }:
            {
                string pooler = p.Keys.FirstOrDefault(k => k.EndsWith("pooler.dense.weight", StringComparison.Ordinal))
                    ?? throw new InvalidOperationException("BertForSequenceClassification: the pooler is missing.");
                string prefix = pooler[..^"dense.weight".Length];
                return new ClassifierHead(P("classifier.weight"), P("classifier.bias"),
                    input => Ops.Tanh(Ops.Linear(First(input), P(prefix + "dense.weight"), P(prefix + "dense.bias"))));
            }
            case Roberta { Head: RobertaHead.SequenceClassification }:
                return new ClassifierHead(P("classifier.out_proj.weight"), P("classifier.out_proj.bias"),
                    input => Ops.Tanh(Ops.Linear(First(input), P("classifier.dense.weight"), P("classifier.dense.bias"))),
                    "classifier.out_proj.weight", "classifier.out_proj.bias");
            default:
                throw new NotSupportedException($"Head-only attribution knows the heads of BERT, DistilBERT and RoBERTa sequence classifiers, not {m.ArchitectureName}; implement IClassifierHeadModel.");
        }
    }

    /// <summary>The head's input features for each example (no gradients; equal-length examples share a forward pass).</summary>
    public double[][] Features(IReadOnlyList<EncodedExample> examples, int batchSize = 32)
    {
        var result = new double[examples.Count][];
        using var _ = Tape.NoGrad();
        foreach (var group in Enumerable.Range(0, examples.Count).GroupBy(i => examples[i].Ids.Length))
        {
            var idx = group.ToArray();
            for (int start = 0; start < idx.Length; start += batchSize)
            {
                var chunk = idx.Skip(start).Take(batchSize).ToArray();
                int s = examples[chunk[0]].Ids.Length;
                bool types = chunk.All(i => examples[i].TypeIds is not null);
                var input = new ModelInput(chunk.Length, s, chunk.SelectMany(i => examples[i].Ids).ToArray(),
                    Enumerable.Repeat(1, chunk.Length * s).ToArray(), types ? chunk.SelectMany(i => examples[i].TypeIds!).ToArray() : null);
                using var f = _features(input);
                if (f.Rank != 2 || f.Shape[0] != chunk.Length || f.Shape[1] != Dim)
                    throw new InvalidOperationException($"ClassifierHead: features have shape [{string.Join(", ", f.Shape)}]; expected [{chunk.Length}, {Dim}] for weight [{Classes}, {Dim}].");
                for (int r = 0; r < chunk.Length; r++)
                {
                    var row = new double[Dim];
                    for (int k = 0; k < Dim; k++) row[k] = f.Span[r * Dim + k];
                    result[chunk[r]] = row;
                }
            }
        }
        return result;
    }

    /// <summary>softmax(W·h + b) in double.</summary>
    public double[] Probabilities(double[] h) => Softmax(Weights(), BiasValues(), h);

    /// <summary>The loss gradient with respect to the flattened head parameters: (p − e_y) ⊗ h̃.</summary>
    public double[] LossGradient(double[] h, int label) => Gradient(Probabilities(h), h, label, HasBias);

    /// <summary>Checks that softmax of this head on its features reproduces the model's outputs (first examples),
    /// so that head-only scores describe the model actually explained.</summary>
    public void Verify(IExplainableModel model, IReadOnlyList<EncodedExample> examples, double[][] features, int count = 3)
    {
        for (int i = 0; i < Math.Min(count, examples.Count); i++)
        {
            var expected = TrainingChecks.Probabilities(model, examples[i]);
            var actual = Probabilities(features[i]);
            if (expected.Length != actual.Length)
                throw new InvalidOperationException($"ClassifierHead: '{model.Name}' has {expected.Length} outputs but the head has {actual.Length} classes.");
            for (int c = 0; c < actual.Length; c++)
                if (Math.Abs(expected[c] - actual[c]) > 1e-3)
                    throw new InvalidOperationException($"ClassifierHead: softmax of the head gives p[{c}] = {actual[c]:G6} for '{examples[i].Id}' but '{model.Name}' outputs {expected[c]:G6}; head-only attribution needs a model whose outputs are softmax of this head (OutputTransform.Softmax).");
        }
    }

    internal double[][] Weights()
    {
        var w = new double[Classes][];
        var s = Weight.Span;
        for (int c = 0; c < Classes; c++) { w[c] = new double[Dim]; for (int k = 0; k < Dim; k++) w[c][k] = s[c * Dim + k]; }
        return w;
    }

    internal double[]? BiasValues() => Bias?.Span.ToArray().Select(v => (double)v).ToArray();

    internal static double[] Softmax(double[][] w, double[]? b, double[] h)
    {
        int classes = w.Length;
        var z = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            double s = b?[c] ?? 0;
            for (int k = 0; k < h.Length; k++) s += w[c][k] * h[k];
            z[c] = s;
        }
        double max = z.Max(), sum = 0;
        for (int c = 0; c < classes; c++) { z[c] = Math.Exp(z[c] - max); sum += z[c]; }
        for (int c = 0; c < classes; c++) z[c] /= sum;
        return z;
    }

    internal static double[] Gradient(double[] p, double[] h, int label, bool bias)
    {
        int classes = p.Length, d = h.Length;
        var g = new double[classes * d + (bias ? classes : 0)];
        for (int c = 0; c < classes; c++)
        {
            double r = p[c] - (c == label ? 1 : 0);
            for (int k = 0; k < d; k++) g[c * d + k] = r * h[k];
            if (bias) g[classes * d + c] = r;
        }
        return g;
    }
}
