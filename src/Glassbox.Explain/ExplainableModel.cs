// What attribution methods see of a model: a function from a batch of token inputs to output
// scores [batch, outputs] (probabilities by default, as Captum's forward functions return), plus
// the model's hook points when it can be differentiated. Black boxes (ONNX, HTTP) implement only
// Predict; gradient methods refuse them with a clear message.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain;

public interface IExplainableModel
{
    /// <summary>A short identifier for provenance (folder, file or URL).</summary>
    string Name { get; }

    /// <summary>Names of the output columns (class labels).</summary>
    IReadOnlyList<string> OutputNames { get; }

    /// <summary>True when Predict records on the current tape and Hooks are available.</summary>
    bool SupportsGradients { get; }

    /// <summary>Hook points, or null for a black box.</summary>
    HookSet? Hooks { get; }

    /// <summary>Output scores [batch, outputs].</summary>
    Tensor Predict(ModelInput input);
}

public enum OutputTransform { Softmax, Sigmoid, None }

/// <summary>A Glassbox transformer with a classification-style output, as an explainable model.
/// select picks the tensor to explain from the model output (default: Logits; QA uses
/// StartLogits/EndLogits); transform turns it into scores along its last axis.</summary>
public sealed class TransformerExplainable(TransformerModel model, string name, IReadOnlyList<string> outputNames,
    OutputTransform transform = OutputTransform.Softmax, Func<ModelOutput, Tensor>? select = null) : IExplainableModel
{
    public TransformerModel Model { get; } = model;
    public string Name { get; } = name;
    public IReadOnlyList<string> OutputNames { get; } = outputNames;
    public bool SupportsGradients => true;
    public HookSet? Hooks => Model.Hooks;

    public Tensor Predict(ModelInput input)
    {
        // Only the selected output is read: with the default selector (Logits), the architecture may
        // skip last-block work the head does not read (ModelInput.HeadOnly).
        var output = Model.Forward(select is null ? input.AsHeadOnly() : input);
        var logits = select is null ? output.Logits ?? throw new InvalidOperationException($"{Model.ArchitectureName} produced no logits; give a selector for its output.") : select(output);
        return transform switch
        {
            OutputTransform.Softmax => Ops.Softmax(logits, -1),
            OutputTransform.Sigmoid => Ops.Sigmoid(logits),
            _ => logits,
        };
    }
}

internal static class ModelChecks
{
    public static HookSet RequireGradients(IExplainableModel model, string method)
    {
        if (!model.SupportsGradients || model.Hooks is null)
            throw new NotSupportedException($"{method} needs gradients, but '{model.Name}' is a black-box model; use a perturbation method instead (occlusion, lime, kernel-shap).");
        return model.Hooks;
    }

    public static void CheckTarget(IExplainableModel model, int target, Tensor scores)
    {
        int n = scores.Shape[^1];
        if (target < 0 || target >= n)
            throw new ArgumentOutOfRangeException(nameof(target), $"Target {target} is out of range: '{model.Name}' has {n} outputs ({string.Join(", ", model.OutputNames)}).");
    }

    /// <summary>The input repeated `times` times along the batch (input must have batch 1).</summary>
    public static ModelInput Repeat(ModelInput input, int times)
    {
        if (input.Batch != 1) throw new ArgumentException($"Attribution inputs must be a single example (batch 1), got batch {input.Batch}.");
        static int[]? Rep(int[]? a, int t) => a is null ? null : Enumerable.Range(0, t).SelectMany(_ => a).ToArray();
        return new ModelInput(times, input.SeqLength, Rep(input.InputIds, times)!, Rep(input.AttentionMask, times), Rep(input.TokenTypeIds, times), Rep(input.PositionIds, times));
    }

    public static float Score(IExplainableModel model, ModelInput input, int target)
    {
        using var _ = Tape.NoGrad();
        var s = model.Predict(input);
        CheckTarget(model, target, s);
        return s.Span[target];
    }
}
