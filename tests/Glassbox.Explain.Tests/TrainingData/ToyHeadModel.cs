using Glassbox.Explain.TrainingData;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests.TrainingData;

/// <summary>A classifier head on fixed features: example id i (one token) reads row i of a feature
/// table; outputs softmax(W·x + b). Parameters are the head's only.</summary>
internal sealed class ToyHeadModel : IExplainableModel, IParameterizedModel, IClassifierHeadModel
{
    public readonly Tensor Table, W, B;

    public ToyHeadModel(double[][] features, double[][] w, double[] b)
    {
        int n = features.Length, d = features[0].Length, c = w.Length;
        Table = Tensor.FromArray(features.SelectMany(r => r.Select(v => (float)v)).ToArray(), n, d);
        W = Tensor.FromArray(w.SelectMany(r => r.Select(v => (float)v)).ToArray(), c, d);
        B = Tensor.FromArray(b.Select(v => (float)v).ToArray(), c);
        Parameters = new Dictionary<string, Tensor> { ["classifier.weight"] = W, ["classifier.bias"] = B };
        ClassifierHead = new ClassifierHead(W, B, Features);
        OutputNames = Enumerable.Range(0, c).Select(i => $"c{i}").ToArray();
    }

    private Tensor Features(ModelInput input) => Ops.Reshape(Ops.Embedding(Table, input.InputIds, input.Batch, 1), input.Batch, Table.Shape[1]);

    public string Name => "toy-head";
    public IReadOnlyList<string> OutputNames { get; }
    public bool SupportsGradients => true;
    public HookSet? Hooks { get; } = new();
    public IReadOnlyDictionary<string, Tensor> Parameters { get; }
    public ClassifierHead ClassifierHead { get; }
    public Tensor Predict(ModelInput input)
    {
        if (input.SeqLength != 1) throw new ArgumentException("toy-head reads one token per example.");
        return Ops.Softmax(Ops.Linear(Features(input), W, B), -1);
    }

    public static EncodedExample Example(int row, int? label) => new($"x{row}", [row], label);
}
