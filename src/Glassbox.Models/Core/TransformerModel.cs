// The base of every architecture: named parameters (checkpoint names), hook points, and the
// forward pass. Architectures declare the parameter names and shapes they expect; loading binds
// a checkpoint to them strictly (every missing, unexpected or mis-shaped tensor reported at once).
using Glassbox.Models.Checkpoints;
using Glassbox.Tensors;

namespace Glassbox.Models;

/// <summary>What a forward pass returns. Classification/LM heads fill Logits; QA fills StartLogits
/// and EndLogits. Hidden states and attentions are read through hooks (see HookSet).</summary>
public sealed class ModelOutput
{
    public Tensor? Logits { get; init; }
    public Tensor? StartLogits { get; init; }
    public Tensor? EndLogits { get; init; }
    /// <summary>The final hidden states (before any task head) [batch, seq, hidden].</summary>
    public Tensor? LastHiddenState { get; init; }
}

public abstract class TransformerModel
{
    protected TransformerModel(IReadOnlyDictionary<string, Tensor> parameters) => Parameters = parameters;

    /// <summary>Parameters by checkpoint tensor name.</summary>
    public IReadOnlyDictionary<string, Tensor> Parameters { get; }

    public HookSet Hooks { get; } = new();

    /// <summary>Number of transformer blocks (for hook names "blocks.{i}.*").</summary>
    public abstract int LayerCount { get; }

    /// <summary>The Hugging Face class this model mirrors, e.g. "BertForMaskedLM".</summary>
    public abstract string ArchitectureName { get; }

    public abstract ModelOutput Forward(ModelInput input);

    protected Tensor P(string name) => Parameters.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"{ArchitectureName}: parameter '{name}' is not loaded.");

    protected Tensor? POpt(string name) => Parameters.TryGetValue(name, out var t) ? t : null;

    /// <summary>Binds a checkpoint to the expected names and shapes (strict unless told otherwise).</summary>
    protected static IReadOnlyDictionary<string, Tensor> Bind(Checkpoint checkpoint, IReadOnlyDictionary<string, int[]> expected, BindingOptions? options = null)
        => WeightBinder.Bind(expected, checkpoint, options).Tensors;
}
