// transformers-interpret's TokenClassificationExplainer (NER): for every token not ignored (by index,
// or because its predicted tag is in ignoredLabels), attributions of softmax(logits)[token, predicted
// tag]. The text is cleaned as transformers-interpret cleans it; token types are not passed (all 0).
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

public sealed class TokenClassificationExplainer : TextExplainer
{
    public TokenClassificationExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath = null,
        ExplainerOptions? options = null, SpecialTokenIds? specialTokens = null)
        : base(model, tokenizer, modelPath, options, specialTokens) { }

    public static TokenClassificationExplainer FromPretrained(string directory, ExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), Tokenizer.FromPretrained(directory), directory, options);

    public TokenClassificationExplanation Explain(string text, IReadOnlyCollection<int>? ignoredIndexes = null,
        IReadOnlyCollection<string>? ignoredLabels = null, ExplainerOptions? options = null)
    {
        ExplainerCore.CheckText(text, "text");
        var o = options ?? Options;
        if (ignoredLabels is not null)
            foreach (var l in ignoredLabels)
                if (!Labels.Contains(l))
                    throw new ArgumentException($"Unknown label '{l}' in ignoredLabels; this model's labels are: {string.Join(", ", Labels)}.", nameof(ignoredLabels));
        var piece = TextPiece.Encode(Tokenizer, text, clean: true);
        var parts = ExplainerInput.TemplateParts(Tokenizer, piece, null);
        var x = ExplainerInput.Build(Tokenizer, parts, Model.Specials.Pad, _ => int.MaxValue, MaxLength(o), o.Truncate, "The text");
        var warnings = new List<string>(x.Warnings);
        if (ignoredIndexes is not null && ignoredIndexes.Any(i => i < 0 || i >= x.Length))
            warnings.Add($"ignoredIndexes {string.Join(", ", ignoredIndexes.Where(i => i < 0 || i >= x.Length))} are outside the {x.Length} tokens.");

        var logits = PlainOutput(x);
        int classes = logits.Length / x.Length;
        var predictions = new List<TokenPrediction>();
        for (int i = 0; i < x.Length; i++)
        {
            var p = Softmax(logits[(i * classes)..((i + 1) * classes)]);
            int k = ArgMax(p);
            predictions.Add(new TokenPrediction(i, x.DisplayToken(i), x.Offsets[i].Start, x.Offsets[i].End, LabelName(k), k, p[k]));
        }
        var selected = Enumerable.Range(0, x.Length)
            .Where(i => ignoredIndexes is null || !ignoredIndexes.Contains(i))
            .Where(i => ignoredLabels is null || !ignoredLabels.Contains(predictions[i].Label)).ToList();

        var result = new List<TokenClassAttribution>();
        string detail = "";
        foreach (int i in selected)
        {
            int index = i;
            var scorer = Model.Scorer(OutputTransform.Softmax, output =>
            {
                var l = output.Logits!;
                return Ops.Reshape(Ops.Narrow(l, 1, index, 1), l.Shape[0], l.Shape[2]);
            });
            var pred = predictions[i];
            var raw = ExplainerCore.Run(Model, scorer, x, pred.LabelIndex, o, EmbeddingType.Word, query: i, warnings);
            detail = raw.Detail;
            result.Add(new TokenClassAttribution(i, pred.Token, pred.Label, pred.LabelIndex, pred.Probability,
                ExplainerCore.Summarize(x, raw, pred.Label, pred.LabelIndex, o)));
        }
        return new TokenClassificationExplanation
        {
            Text = text, Predictions = predictions, Tokens = result, Warnings = warnings.Distinct().ToList(),
            Provenance = Model.Provenance(nameof(TokenClassificationExplainer), o.Method, ExplainerCore.Parameters(o, detail,
                ("forward", "softmax over tags at the explained token"),
                ("ignoredIndexes", ignoredIndexes is null ? null : string.Join(",", ignoredIndexes)),
                ("ignoredLabels", ignoredLabels is null ? null : string.Join(",", ignoredLabels)))),
        };
    }

    private string LabelName(int i) => i < Labels.Count ? Labels[i] : $"LABEL_{i}";
}
