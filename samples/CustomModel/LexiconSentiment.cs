// A sentiment model in a few lines of C#: count positive and negative words (a word after "not",
// "never" or "no" counts for the other side) and squash the difference into two probabilities.
// Its spec tells Glassbox what it reads and writes; the app then offers predictions, LIME/KernelSHAP/
// occlusion over its words, accuracy and the confusion matrix, the word-replacer and scrambler
// counterfactuals, and (because it declares Embeddings) the PCA/UMAP projector.
using Glassbox.Explain.Extensions;

namespace CustomModel;

public sealed class LexiconSentiment : ITextModel
{
    private static readonly HashSet<string> Positive = ["good", "great", "excellent", "wonderful", "love", "loved", "best", "fun", "charming", "moving", "brilliant", "enjoyable"];
    private static readonly HashSet<string> Negative = ["bad", "awful", "terrible", "boring", "worst", "hate", "dull", "mess", "tedious", "poor", "stupid", "waste"];
    private static readonly HashSet<string> Negations = ["not", "never", "no", "n't"];

    public ModelSpec Spec { get; } = new(
        input: new Dictionary<string, FieldType> { ["review"] = FieldType.TextSegment() },
        output: new Dictionary<string, FieldType>
        {
            ["probabilities"] = FieldType.MulticlassPreds(["negative", "positive"], parent: "label"),
            ["features"] = FieldType.Embeddings(),
        });

    public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs) => inputs.Select(x =>
    {
        var (pos, neg) = Count(x.Text("review"));
        double p = 1 / (1 + Math.Exp(-(pos - neg)));
        return new FieldValues { ["probabilities"] = new[] { 1 - p, p }, ["features"] = new double[] { pos, neg } };
    }).ToArray();

    /// <summary>Positive and negative evidence; a negation flips the next sentiment word.</summary>
    public static (int Positive, int Negative) Count(string text)
    {
        int pos = 0, neg = 0;
        bool negated = false;
        foreach (var raw in text.ToLowerInvariant().Split([' ', '\t', '\n', ',', '.', '!', '?', ';', ':'], StringSplitOptions.RemoveEmptyEntries))
        {
            string w = raw.Trim('"', '\'', '(', ')');
            if (Negations.Contains(w) || w.EndsWith("n't", StringComparison.Ordinal)) { negated = true; continue; }
            bool isPos = Positive.Contains(w), isNeg = Negative.Contains(w);
            if (!isPos && !isNeg) continue;
            if (isPos != negated) pos++; else neg++;
            negated = false;
        }
        return (pos, neg);
    }
}
