// transformers-interpret's QuestionAnsweringExplainer: [cls] question [sep] context [sep], two
// attributions — for the start and for the end — each of the maximum logit over positions (not a
// softmax), by default to the whole embedding output (word + position + token type, after the
// LayerNorm: embedding_type 2). Token types are 0 up to index len(question tokens), which in
// transformers-interpret's construction gives the first [sep] type 1; reproduced so numbers agree.
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

public sealed class QuestionAnsweringExplainer : TextExplainer
{
    public QuestionAnsweringExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath = null,
        ExplainerOptions? options = null, SpecialTokenIds? specialTokens = null)
        : base(model, tokenizer, modelPath, options, specialTokens) { }

    public static QuestionAnsweringExplainer FromPretrained(string directory, ExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), Tokenizer.FromPretrained(directory), directory, options);

    public QuestionAnsweringExplanation Explain(string question, string context, ExplainerOptions? options = null)
    {
        ExplainerCore.CheckText(question, "question");
        ExplainerCore.CheckText(context, "context");
        var o = options ?? Options;
        var q = TextPiece.Encode(Tokenizer, question, clean: false);
        var c = TextPiece.Encode(Tokenizer, context, clean: false);
        var s = Model.Specials;
        var parts = new List<ExplainerInput.Part>
        {
            new ExplainerInput.SpecialPart(s.Cls), new ExplainerInput.TextPart(q, 0), new ExplainerInput.SpecialPart(s.Sep),
            new ExplainerInput.TextPart(c, 1), new ExplainerInput.SpecialPart(s.Sep),
        };
        var x = ExplainerInput.Build(Tokenizer, parts, s.Pad, _ => q.Count, MaxLength(o), o.Truncate, "The question with its context");
        var warnings = new List<string>(x.Warnings);

        // Predicted span, from the same input the attributions use.
        int start, end;
        using (Tape.NoGrad())
        lock (Model.Transformer!)
        {
            var output = Model.Transformer!.Forward(x.Input(Model));
            var sl = output.StartLogits ?? throw new InvalidOperationException($"{Model.Transformer.ArchitectureName} is not a question-answering model (no start logits).");
            var el = output.EndLogits!;
            start = Ops.ArgMax(sl, -1)[0];
            end = Ops.ArgMax(el, -1)[0];
        }
        string predicted = end >= start ? string.Join(" ", x.Tokens[start..(end + 1)]) : "";
        var ctxTokens = Enumerable.Range(start, Math.Max(0, end - start + 1)).Where(i => x.Sequence[i] == 1).ToArray();
        string answer = ctxTokens.Length == 0 ? "" : context[x.Offsets[ctxTokens[0]].Start..x.Offsets[ctxTokens[^1]].End];

        var startScorer = Model.Scorer(OutputTransform.None, o2 => Ops.Max(o2.StartLogits!, 1, keepDim: true));
        var endScorer = Model.Scorer(OutputTransform.None, o2 => Ops.Max(o2.EndLogits!, 1, keepDim: true));
        var startRaw = ExplainerCore.Run(Model, startScorer, x, 0, o, EmbeddingType.All, query: start, warnings);
        var endRaw = ExplainerCore.Run(Model, endScorer, x, 0, o, EmbeddingType.All, query: end, warnings);
        return new QuestionAnsweringExplanation
        {
            Question = question, Context = context, PredictedAnswer = predicted, AnswerText = answer,
            AnswerStartIndex = start, AnswerEndIndex = end,
            Start = ExplainerCore.Summarize(x, startRaw, "start", start, o),
            End = ExplainerCore.Summarize(x, endRaw, "end", end, o),
            Warnings = warnings.Distinct().ToList(),
            Provenance = Model.Provenance(nameof(QuestionAnsweringExplainer), o.Method, ExplainerCore.Parameters(o, startRaw.Detail,
                ("forward", "max over positions of the start (end) logits"))),
        };
    }
}
