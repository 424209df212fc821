using Glassbox.Explain;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests;

/// <summary>A small differentiable text classifier with a hook_embed point:
/// softmax(W2·Σ_pos tanh(W1·E[id] + b1)).</summary>
internal sealed class ToyClassifier : IExplainableModel
{
    public readonly Tensor E, W1, B1, W2;
    public ToyClassifier(int vocab = 12, int d = 6, int h = 5, int classes = 3, int seed = 1)
    {
        E = Tensor.RandomNormal([vocab, d], seed);
        W1 = Tensor.RandomNormal([h, d], seed + 1, std: 0.7f);
        B1 = Tensor.RandomNormal([h], seed + 2);
        W2 = Tensor.RandomNormal([classes, h], seed + 3);
        OutputNames = Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray();
    }
    public string Name => "toy";
    public IReadOnlyList<string> OutputNames { get; }
    public bool SupportsGradients => true;
    public HookSet Hooks { get; } = new();
    HookSet? IExplainableModel.Hooks => Hooks;

    public Tensor Predict(ModelInput input)
    {
        var x = Hooks.Apply("hook_embed", Ops.Embedding(E, input.InputIds, input.Batch, input.SeqLength));
        var hdn = Ops.Tanh(Ops.Linear(x, W1, B1));
        var pooled = Ops.Sum(hdn, 1);
        return Ops.Softmax(Ops.Linear(pooled, W2), -1);
    }
}

/// <summary>A black box whose class-0 score is b + Σ w[pos]·[token at pos ≠ baseline]; class 1 is its negative.</summary>
internal sealed class LinearBlackBox(double[] weights, double bias, int baselineId) : IExplainableModel
{
    public string Name => "linear-black-box";
    public IReadOnlyList<string> OutputNames => ["score", "negated"];
    public bool SupportsGradients => false;
    public HookSet? Hooks => null;
    public Tensor Predict(ModelInput input)
    {
        var y = Tensor.Empty(input.Batch, 2);
        for (int b = 0; b < input.Batch; b++)
        {
            double s = bias;
            for (int p = 0; p < input.SeqLength; p++)
                if (input.InputIds[b * input.SeqLength + p] != baselineId) s += weights[p];
            y[b, 0] = (float)s; y[b, 1] = (float)-s;
        }
        return y;
    }
}
