// AdamW over two parameter groups as transformers' Trainer sets it up: weight decay on weights,
// none on biases and norm parameters (TrainableArchitecture.IsNoDecay). One optimisation step clips
// the global gradient norm, steps both groups at the scheduled rate and frees the gradients.
using Glassbox.Tensors;

namespace Glassbox.Models.Training;

internal sealed class DecayGroups
{
    private readonly AdamW _decay;
    private readonly AdamW? _noDecay;
    private readonly int _decayCount;

    /// <summary>Every trained parameter, decayed ones first: the order <see cref="Step"/> expects the gradients in.</summary>
    public IReadOnlyList<Tensor> All { get; }

    public DecayGroups(IReadOnlyList<KeyValuePair<string, Tensor>> parameters, float learningRate, float weightDecay, float beta2 = 0.999f)
    {
        var decay = parameters.Where(p => !TrainableArchitecture.IsNoDecay(p.Key)).Select(p => p.Value).ToList();
        var noDecay = parameters.Where(p => TrainableArchitecture.IsNoDecay(p.Key)).Select(p => p.Value).ToList();
        All = decay.Concat(noDecay).ToList();
        _decayCount = decay.Count;
        _decay = new AdamW(decay, learningRate, beta2: beta2, weightDecay: weightDecay);
        _noDecay = noDecay.Count > 0 ? new AdamW(noDecay, learningRate, beta2: beta2, weightDecay: 0f) : null;
    }

    /// <summary>Clips (when clip &gt; 0), steps both groups at <paramref name="learningRate"/>, and disposes <paramref name="grads"/> (ordered as <see cref="All"/>).</summary>
    public void Step(Tensor[] grads, float learningRate, float clip)
    {
        if (clip > 0) Optimizer.ClipGradNorm(grads, clip);
        _decay.LearningRate = learningRate;
        _decay.Step(grads.Take(_decayCount).ToArray());
        if (_noDecay is not null)
        {
            _noDecay.LearningRate = learningRate;
            _noDecay.Step(grads.Skip(_decayCount).ToArray());
        }
        foreach (var g in grads) g.Dispose();
    }
}
