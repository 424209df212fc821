using Glassbox.Tensors;

namespace Glassbox.Models;

/// <summary>transformers' ACT2FN names mapped to tensor ops.</summary>
public static class Activations
{
    public static readonly IReadOnlyList<string> Supported = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish", "tanh", "sigmoid"];

    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "gelu" => Ops.Gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Ops.GeluTanh(x),
        "relu" => Ops.Relu(x),
        "silu" or "swish" => Ops.Silu(x),
        "tanh" => Ops.Tanh(x),
        "sigmoid" => Ops.Sigmoid(x),
        _ => throw new NotSupportedException($"Activation '{name}' is not supported; supported: {string.Join(", ", Supported)}."),
    };
}
