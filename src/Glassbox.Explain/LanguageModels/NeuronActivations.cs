// MLP neuron activations as Ecco stores them (blocks.{i}.mlp.hook_post: the input of GPT-2's
// mlp.c_proj, i.e. after the nonlinearity), laid out [layer, neuron, position] — Ecco's
// [1, layers, neurons, positions] without the batch axis — and their NMF factorisation.
namespace Glassbox.Explain.LanguageModels;

public sealed class NeuronActivations
{
    public NeuronActivations(string stack, int[] layers, int neurons, int positions, float[] data)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != (long)layers.Length * neurons * positions)
            throw new ArgumentException($"NeuronActivations: {data.Length} values for {layers.Length} layers × {neurons} neurons × {positions} positions.");
        Stack = stack; Layers = layers; Neurons = neurons; Positions = positions; Data = data;
    }

    /// <summary>"decoder" (causal models and T5's decoder) or "encoder" (T5), Ecco's keys.</summary>
    public string Stack { get; }

    /// <summary>The model layer of each stored row block (Ecco's collect_activations_layer_nums).</summary>
    public int[] Layers { get; }
    public int Neurons { get; }
    public int Positions { get; }

    /// <summary>[layers.Length, neurons, positions], row-major.</summary>
    public float[] Data { get; }

    /// <summary>Activation of `neuron` in the index-th stored layer at `position`.</summary>
    public float this[int layerIndex, int neuron, int position] => Data[((long)layerIndex * Neurons + neuron) * Positions + position];
}

/// <summary>Ecco's NMF of the neuron activations: Components[c][position] is how strongly factor c
/// fires at each position; Factors[c] are its neuron loadings.</summary>
public sealed class NeuronFactors
{
    /// <summary>[components][positions]: Ecco's components (W transposed). Positions run over the
    /// encoder's then the decoder's activations for seq2seq models, as Ecco concatenates them.</summary>
    public required float[][] Components { get; init; }

    /// <summary>[components][layers·neurons]: H, the neuron loadings of each component (layer-major).</summary>
    public required float[][] NeuronLoadings { get; init; }

    /// <summary>The token at each position of Components.</summary>
    public required string[] Tokens { get; init; }
    public required int[] TokenIds { get; init; }

    public required int[] Layers { get; init; }

    /// <summary>‖max(A, 0)ᵀ − W·H‖_F, scikit-learn's reconstruction_err_.</summary>
    public required double ReconstructionError { get; init; }

    public required int Iterations { get; init; }
    public required bool Converged { get; init; }
}
