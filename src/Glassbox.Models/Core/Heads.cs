// Task-head pieces the encoder architectures share (same computation, each with its own weights).
using Glassbox.Tensors;

namespace Glassbox.Models;

internal static class Heads
{
    /// <summary>The first position's hidden state ([CLS] / &lt;s&gt;): [b, s, h] → [b, h].</summary>
    public static Tensor FirstToken(Tensor x) => Ops.Reshape(Ops.Narrow(x, 1, 0, 1), x.Shape[0], x.Shape[2]);

    /// <summary>Extractive QA: one linear layer to two logits per token, split into start and end [b, s].</summary>
    public static ModelOutput QuestionAnswering(Tensor x, Tensor weight, Tensor bias)
    {
        int b = x.Shape[0], s = x.Shape[1];
        var se = Ops.Linear(x, weight, bias); // [b, s, 2]
        var start = Ops.Reshape(Ops.Narrow(se, 2, 0, 1), b, s);
        var end = Ops.Reshape(Ops.Narrow(se, 2, 1, 1), b, s);
        return new ModelOutput { StartLogits = start, EndLogits = end, LastHiddenState = x };
    }
}
