// Shared pieces of training-data attribution: encoded examples, what a method returns, access to
// a model's parameters, and the per-example loss (cross-entropy of the model's class probabilities).
//
// Sign convention (all methods): a positive score means the training example HELPS the test
// example — training on it lowers the test example's loss (TracIn: a gradient step on it lowers
// the test loss; influence functions: up-weighting it lowers the test loss). Negative = harmful.
// Nearest neighbours have no loss: there, "helpful" are the nearest examples whose label is the
// model's prediction for the test example and "harmful" the nearest with another label.
using Glassbox.Explain.Counterfactuals;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.TrainingData;

/// <summary>A tokenised, labelled example. Label may be null for a test example (the model's prediction is used).</summary>
public sealed record EncodedExample(string Id, int[] Ids, int? Label, string? Text = null, int[]? TypeIds = null)
{
    public static EncodedExample From(TextEncoder encoder, TextExample example)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(example);
        var e = encoder.Encode(example.Text);
        return new EncodedExample(example.Id, e.Ids, example.Label, example.Text, e.TypeIds);
    }

    public static IReadOnlyList<EncodedExample> From(TextEncoder encoder, IEnumerable<TextExample> examples) =>
        examples.Select(e => From(encoder, e)).ToArray();

    internal ModelInput Input() => ModelInput.Single(Ids, TypeIds);
}

/// <summary>One training example's score for a test example (see the sign convention of the method).</summary>
public sealed record TrainingInfluence(int Index, string Id, double Score, int? Label, string? Text);

/// <summary>What a training-data attribution method returns for one test example: the most helpful
/// (largest positive scores, best first) and most harmful (most negative first) training examples,
/// and every training example's score in training-set order.</summary>
public sealed record TrainingAttribution(
    string Method,
    string TestId,
    int TestLabel,
    IReadOnlyList<TrainingInfluence> Helpful,
    IReadOnlyList<TrainingInfluence> Harmful,
    IReadOnlyList<double> Scores,
    IReadOnlyDictionary<string, string> Parameters)
{
    internal static TrainingAttribution Rank(string method, EncodedExample test, int testLabel, IReadOnlyList<EncodedExample> train,
        double[] scores, int topK, Dictionary<string, string> parameters)
    {
        TrainingInfluence Make(int i) => new(i, train[i].Id, scores[i], train[i].Label, train[i].Text);
        var helpful = Enumerable.Range(0, scores.Length).Where(i => scores[i] > 0).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(topK).Select(Make).ToArray();
        var harmful = Enumerable.Range(0, scores.Length).Where(i => scores[i] < 0).OrderBy(i => scores[i]).ThenBy(i => i).Take(topK).Select(Make).ToArray();
        return new TrainingAttribution(method, test.Id, testLabel, helpful, harmful, scores, parameters);
    }
}

/// <summary>A differentiable model that exposes its parameters by name (Glassbox transformers do, through TransformerExplainable).</summary>
public interface IParameterizedModel
{
    IReadOnlyDictionary<string, Tensor> Parameters { get; }
}

internal static class TrainingChecks
{
    public static IReadOnlyDictionary<string, Tensor> Parameters(IExplainableModel model, string method)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.SupportsGradients)
            throw new NotSupportedException($"{method} needs gradients with respect to the model's parameters, but '{model.Name}' is a black-box model; use nearest neighbours over a hook point of a Glassbox model, or load the model with AutoModel.");
        return model switch
        {
            TransformerExplainable te => te.Model.Parameters,
            IParameterizedModel p => p.Parameters,
            _ => throw new NotSupportedException($"{method}: '{model.Name}' does not expose its parameters; implement IParameterizedModel."),
        };
    }

    public static void Examples(IReadOnlyList<EncodedExample> train, string method)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException($"{method}: the training set is empty; give at least one labelled training example.", nameof(train));
        foreach (var e in train)
        {
            if (e.Label is null) throw new ArgumentException($"{method}: training example '{e.Id}' has no label; training-data attribution needs the label each example was trained with.", nameof(train));
            if (e.Ids.Length == 0) throw new ArgumentException($"{method}: training example '{e.Id}' has no tokens.", nameof(train));
        }
    }

    public static void Label(IExplainableModel model, int label, int outputs, string id)
    {
        if (label < 0 || label >= outputs)
            throw new ArgumentOutOfRangeException(nameof(label), $"Example '{id}' has label {label}, but '{model.Name}' has {outputs} classes ({string.Join(", ", model.OutputNames)}).");
    }

    /// <summary>The model's class probabilities for one example (no gradients).</summary>
    public static float[] Probabilities(IExplainableModel model, EncodedExample e)
    {
        using var _ = Tape.NoGrad();
        using var p = model.Predict(e.Input());
        return p.Span.ToArray();
    }

    /// <summary>The loss the methods differentiate: −log p(label), with p the model's softmax output.</summary>
    public static Tensor Loss(Tensor probabilities, int label) =>
        Ops.Sum(Ops.Neg(Ops.Log(Ops.Clamp(Ops.Narrow(probabilities, 1, label, 1), 1e-30f, float.MaxValue))));
}
