using Glassbox.Tensors;

namespace Glassbox.Models.Generation;

/// <summary>Optional for causal LMs: logits of the last position only ([batch, 1, vocab]), which
/// spares the LM head for every prompt position (transformers' logits_to_keep = 1). Generator uses
/// it when the model offers it.</summary>
public interface ILastTokenLogits
{
    Tensor ForwardLastLogits(ModelInput input, KvCache? cache = null);
}
