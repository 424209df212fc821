// `glassbox explain <task>`: run one of the transformers-interpret explainers and print (or write
// with --out) the explanation as JSON or as a self-contained HTML page. JSON names are camelCase:
// wordAttributions [{token, score}], predictedClassIndex, predictedClassName, convergenceDelta,
// per-label / start-end / per-token maps where the task has them, and provenance. --out is written
// atomically (temporary file + rename), so a failure never leaves half a file behind.
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Hierarchy;
using Glassbox.Explain.Summaries;
using Glassbox.Models;
using Glassbox.Models.Images;
using Glassbox.Render;

namespace Glassbox.Cli;

internal static class ExplainCommand
{
    public static readonly string[] Tasks =
        ["sequence-classification", "pairwise", "multilabel", "zero-shot", "question-answering", "token-classification", "image-classification"];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var taskArgument = new Argument<string>("task") { Description = "what to explain: " + string.Join(", ", Tasks) };
        taskArgument.AcceptOnlyFromAmong(Tasks);
        var modelOption = new Option<string>("--model") { Description = "model folder (Hugging Face layout) or Hub id org/name[@revision]", Required = true };
        var textOption = new Option<string?>("--text") { Description = "input text (the question for question-answering, the premise for zero-shot)" };
        var pairOption = new Option<string?>("--pair") { Description = "second text: pairwise's second sequence, question-answering's context" };
        var imageOption = new Option<string?>("--image") { Description = "image file (PNG or JPEG) for image-classification" };
        var labelsOption = new Option<string?>("--labels") { Description = "zero-shot candidate labels, comma separated" };
        var classOption = new Option<string?>("--class") { Description = "class to explain (default: the predicted one)" };
        var methodOption = new Option<string?>("--method") { Description = "attribution method: " + string.Join(", ", AttributionMethods.Names) + " (default lig)" };
        var stepsOption = new Option<int?>("--steps") { Description = "integration steps (default 50)" };
        var wordsOption = new Option<bool>("--words") { Description = "aggregate token scores to words" };
        var templateOption = new Option<string?>("--hypothesis-template") { Description = $"zero-shot hypothesis template (default \"{ZeroShotClassificationExplainer.DefaultHypothesisTemplate}\")" };
        var flipOption = new Option<bool>("--flip-sign") { Description = "pairwise: negate the attributions of a single-output model" };
        var maxLengthOption = new Option<int?>("--max-length") { Description = "token limit; longer input is truncated with a warning" };
        var seedOption = new Option<int>("--seed") { Description = "seed for sampling methods (lime, kernel-shap, smoothgrad)", DefaultValueFactory = _ => 0 };
        var formatOption = new Option<string>("--format") { Description = "json, html, or png (image-classification with --out: the attribution view)", DefaultValueFactory = _ => "json" };
        formatOption.AcceptOnlyFromAmong("json", "html", "png");
        var viewOption = new Option<string>("--view") { Description = "image view: heatmap, overlay, masked-image or alpha-scaling", DefaultValueFactory = _ => "overlay" };
        viewOption.AcceptOnlyFromAmong("heatmap", "overlay", "masked-image", "alpha-scaling");
        var signOption = new Option<string>("--sign") { Description = "image view: which attributions to show (all, positive, negative, absolute-value)", DefaultValueFactory = _ => "all" };
        signOption.AcceptOnlyFromAmong("all", "positive", "negative", "absolute-value");
        var outlierOption = new Option<double>("--outlier-threshold") { Description = "image view: percent of the total |attribution| clipped as outliers (Captum's outlier_perc)", DefaultValueFactory = _ => 2 };
        var sideBySideOption = new Option<bool>("--side-by-side") { Description = "image view: the original image next to the view" };
        var summaryOption = new Option<bool>("--summary") { Description = "add a generated sentence that states the explanation in words" };
        var hierarchicalOption = new Option<bool>("--hierarchical") { Description = "sequence-classification: a phrase tree (SOC or occlusion, agglomerative) instead of token scores" };
        var hierScoringOption = new Option<string>("--hierarchical-scoring") { Description = "phrase importance for --hierarchical: soc or occlusion", DefaultValueFactory = _ => "soc" };
        hierScoringOption.AcceptOnlyFromAmong("soc", "occlusion");
        var samplesOption = new Option<int>("--samples") { Description = "--hierarchical soc: sampled contexts per phrase", DefaultValueFactory = _ => 20 };
        var outOption = new Option<string?>("--out") { Description = "write to this file (atomically) instead of standard output" };

        var command = new Command("explain", "Explain a prediction: token (or pixel) attributions as JSON or a self-contained HTML page.")
        {
            taskArgument, modelOption, textOption, pairOption, imageOption, labelsOption, classOption, methodOption, stepsOption, wordsOption,
            templateOption, flipOption, maxLengthOption, seedOption, formatOption, outOption, viewOption, signOption, outlierOption, sideBySideOption,
            summaryOption, hierarchicalOption, hierScoringOption, samplesOption,
        };
        command.Validators.Add(result =>
        {
            string? task = CliParsing.ParsedOrDefault(() => result.GetValue(taskArgument));
            if (task is null || Array.IndexOf(Tasks, task) < 0) return;
            bool text = result.GetResult(textOption) != null, pair = result.GetResult(pairOption) != null, image = result.GetResult(imageOption) != null;
            if (task == "image-classification")
            {
                if (!image) result.AddError("image-classification needs --image FILE.");
                if (text || pair) result.AddError("image-classification takes --image, not --text/--pair.");
            }
            else
            {
                if (!text) result.AddError($"{task} needs --text.");
                if (image) result.AddError($"{task} takes --text, not --image.");
            }
            if (task is "pairwise" && !pair) result.AddError("pairwise needs --pair (the second text).");
            if (task is "question-answering" && !pair) result.AddError("question-answering needs --text (the question) and --pair (the context).");
            if (task is "sequence-classification" or "multilabel" or "zero-shot" or "token-classification" && pair)
                result.AddError($"{task} takes no --pair{(task == "sequence-classification" ? " (use the pairwise task for two texts)" : "")}.");
            if (task == "zero-shot" && string.IsNullOrWhiteSpace(CliParsing.ParsedOrDefault(() => result.GetValue(labelsOption))))
                result.AddError("zero-shot needs --labels, e.g. --labels finance,sports,technology.");
            if (result.GetResult(classOption) != null && task is "multilabel" or "zero-shot" or "question-answering" or "token-classification")
                result.AddError($"--class does not apply to {task} (every label/position is explained).");
            if (result.GetResult(hierarchicalOption) != null && task != "sequence-classification")
                result.AddError($"--hierarchical is for sequence-classification, not {task}.");
            if (result.GetResult(summaryOption) != null && task == "image-classification")
                result.AddError("--summary needs words; image-classification has none.");
            if (result.GetResult(samplesOption) != null && CliParsing.ParsedOrDefault(() => result.GetValue(samplesOption)) is int sm && sm < 1) result.AddError($"--samples must be at least 1, not {sm}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(formatOption)) == "png")
            {
                if (task != "image-classification") result.AddError("--format png is for image-classification; use json or html for text tasks.");
                if (result.GetResult(outOption) == null) result.AddError("--format png needs --out FILE (a PNG is not printed to the terminal).");
            }
            if (CliParsing.ParsedOrDefault(() => result.GetValue(outlierOption)) is var p && (p < 0 || p >= 100 || double.IsNaN(p)))
                result.AddError($"--outlier-threshold must be a percent in [0, 100), not {p}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(stepsOption)) is int s && s < 1) result.AddError($"--steps must be at least 1, not {s}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(maxLengthOption)) is int m && m < 1) result.AddError($"--max-length must be at least 1, not {m}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(methodOption)) is string method)
            {
                try { AttributionMethods.Parse(method); }
                catch (ArgumentException e) { result.AddError(e.Message); }
            }
        });

        command.SetAction(parse =>
        {
            string task = parse.GetValue(taskArgument)!;
            string modelArg = parse.GetValue(modelOption)!;
            if (!CliModels.TryLoad(modelArg, stderr, out var folder, out var model)) return Program.ExitBadInput;
            var request = new Request(task, folder, model, parse.GetValue(textOption), parse.GetValue(pairOption), parse.GetValue(imageOption),
                parse.GetValue(labelsOption), parse.GetValue(classOption), parse.GetValue(methodOption), parse.GetValue(stepsOption),
                parse.GetValue(wordsOption), parse.GetValue(templateOption), parse.GetValue(flipOption), parse.GetValue(maxLengthOption),
                parse.GetValue(seedOption));
            string? outPath = parse.GetValue(outOption);
            if (!CommonOptions.CheckOutPath(outPath, stderr)) return Program.ExitBadInput;
            string format = parse.GetValue(formatOption)!;
            var imageOptions = new ImageViewOptions
            {
                Sign = parse.GetValue(signOption) switch
                {
                    "positive" => AttributionSign.Positive,
                    "negative" => AttributionSign.Negative,
                    "absolute-value" => AttributionSign.AbsoluteValue,
                    _ => AttributionSign.All,
                },
                OutlierPercent = parse.GetValue(outlierOption),
                SideBySide = parse.GetValue(sideBySideOption) || (format == "html" && parse.GetResult(sideBySideOption) == null),
            };
            var view = parse.GetValue(viewOption) switch
            {
                "heatmap" => ImageView.Heatmap,
                "masked-image" => ImageView.MaskedImage,
                "alpha-scaling" => ImageView.AlphaScaling,
                _ => ImageView.Overlay,
            };
            string content;
            byte[]? png = null;
            try
            {
                if (parse.GetValue(hierarchicalOption))
                    content = Hierarchical(request, parse.GetValue(hierScoringOption)!, parse.GetValue(samplesOption), format, parse.GetValue(summaryOption));
                else
                {
                var explanation = Run(request);
                if (format == "png" && explanation is ImageClassificationExplanation image)
                {
                    int scale = Math.Max(1, 256 / Math.Max(image.Width, image.Height));
                    png = ImageViews.Render(view, image.ResizedImage, image.PixelMap, imageOptions with { Scale = scale }).ToPng();
                    content = "";
                }
                else
                {
                    content = format == "html"
                        ? ExplanationHtml.Render(explanation, new HtmlViewOptions { Words = request.Words, ImageView = view, ImageOptions = imageOptions })
                        : ToJson(explanation, request.Words);
                    if (parse.GetValue(summaryOption)) content = WithSummary(content, format, ExplanationSummary.Describe(explanation));
                }
                }
            }
            catch (Exception e) when (e is BadInputException or ArgumentException or NotSupportedException or KeyNotFoundException
                or FileNotFoundException or ImageFormatException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
            if (outPath is null)
            {
                stdout.Write(content);
                if (!content.EndsWith('\n')) stdout.WriteLine();
            }
            else
            {
                if (png is not null) AtomicFile.WriteAllBytes(outPath, png);
                else AtomicFile.WriteAllText(outPath, content);
                stderr.WriteLine($"wrote {outPath}");
            }
            return Program.ExitOk;
        });
        return command;
    }

    /// <summary>Adds the generated sentence: a "summary" field first in the JSON object, or a paragraph under the page's title.</summary>
    internal static string WithSummary(string content, string format, string summary)
    {
        if (format == "html")
        {
            int at = content.IndexOf("</h1>", StringComparison.Ordinal);
            string p = $"\n<p class=\"summary\" id=\"summary\">{HtmlPage.Encode(summary)}</p>";
            return at < 0 ? content : content.Insert(at + "</h1>".Length, p);
        }
        var node = System.Text.Json.Nodes.JsonNode.Parse(content)!.AsObject();
        var result = new System.Text.Json.Nodes.JsonObject { ["summary"] = summary };
        foreach (var (k, v) in node.ToList()) { node.Remove(k); result[k] = v; }
        return result.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>--hierarchical: the phrase tree of a sequence classifier as JSON (camelCase) or the tree page.</summary>
    internal static string Hierarchical(Request r, string scoring, int samples, string format, bool summary)
    {
        var tokenizer = CliModels.LoadTokenizer(r.Folder);
        var explainer = new SequenceClassificationExplainer(r.Model, tokenizer, r.Folder);
        int? target = r.ClassName is null ? null : IndexOf(explainer.Labels, r.ClassName);
        var model = new TransformerExplainable(r.Model, r.Folder, explainer.Labels);
        var e = new HierarchicalExplainer(model, tokenizer).Explain(r.Text!, target, new HierarchicalOptions
        {
            Scoring = scoring == "occlusion" ? PhraseScoring.Occlusion : PhraseScoring.Soc,
            Samples = samples,
            Seed = r.Seed,
            BaselineId = explainer.SpecialTokens.Pad,
        });
        if (format == "html") return ConceptViews.HierarchicalPage(e);
        static object Node(PhraseNode n) => new
        {
            start = n.Start, end = n.End, text = n.Text, score = n.Score, interaction = n.Interaction,
            children = n.Children.Select(Node).ToArray(),
        };
        var json = new Dictionary<string, object?>
        {
            ["text"] = e.Text, ["labels"] = e.Labels, ["targetIndex"] = e.TargetIndex, ["targetName"] = e.TargetName,
            ["inputScore"] = e.InputScore, ["words"] = e.Words, ["scoring"] = scoring, ["tree"] = Node(e.Root), ["parameters"] = e.Parameters,
        };
        if (summary) json = new Dictionary<string, object?> { ["summary"] = ExplanationSummary.Describe(e) }.Concat(json).ToDictionary();
        return JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static int IndexOf(IReadOnlyList<string> labels, string name)
    {
        for (int i = 0; i < labels.Count; i++) if (labels[i] == name) return i;
        throw new BadInputException($"Unknown class name '{name}'; this model's classes are: {string.Join(", ", labels)}.");
    }

    internal sealed record Request(string Task, string Folder, TransformerModel Model, string? Text, string? Pair, string? Image, string? Labels,
        string? ClassName, string? Method, int? Steps, bool Words, string? Template, bool FlipSign, int? MaxLength, int Seed);

    internal static Explanation Run(Request r)
    {
        if (r.Task == "image-classification") return RunImage(r);
        var tokenizer = CliModels.LoadTokenizer(r.Folder);
        var options = new ExplainerOptions
        {
            Method = r.Method is null ? AttributionMethod.Lig : AttributionMethods.Parse(r.Method),
            Steps = r.Steps ?? 50,
            MaxLength = r.MaxLength,
            Seed = r.Seed,
            PerturbWords = r.Words,
        };
        string text = r.Text!;
        switch (r.Task)
        {
            case "sequence-classification":
                return new SequenceClassificationExplainer(r.Model, tokenizer, r.Folder, options).Explain(text, className: r.ClassName);
            case "pairwise":
                return new PairwiseSequenceClassificationExplainer(r.Model, tokenizer, r.Folder, options).Explain(text, r.Pair!, className: r.ClassName, flipSign: r.FlipSign);
            case "multilabel":
                return new MultiLabelClassificationExplainer(r.Model, tokenizer, r.Folder, options).Explain(text);
            case "zero-shot":
            {
                var labels = (r.Labels ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (labels.Length == 0) throw new BadInputException("zero-shot needs --labels, e.g. --labels finance,sports,technology.");
                return new ZeroShotClassificationExplainer(r.Model, tokenizer, r.Folder, options)
                    .Explain(text, labels, r.Template ?? ZeroShotClassificationExplainer.DefaultHypothesisTemplate);
            }
            case "question-answering":
                return new QuestionAnsweringExplainer(r.Model, tokenizer, r.Folder, options).Explain(text, r.Pair!);
            case "token-classification":
                return new TokenClassificationExplainer(r.Model, tokenizer, r.Folder, options).Explain(text);
            default:
                throw new BadInputException($"Unknown task '{r.Task}'; tasks: {string.Join(", ", Tasks)}.");
        }
    }

    private static Explanation RunImage(Request r)
    {
        var type = (r.Method ?? "smoothgrad") switch
        {
            "smoothgrad" => ImageAttributionType.IntegratedGradientsNoiseTunnel,
            "ig" or "lig" => ImageAttributionType.IntegratedGradients,
            "saliency" => ImageAttributionType.Saliency,
            "input-x-gradient" => ImageAttributionType.InputXGradient,
            var m => throw new BadInputException($"image-classification supports --method smoothgrad (integrated gradients in a noise tunnel, the default), ig, saliency or input-x-gradient, not '{m}'."),
        };
        if (!File.Exists(r.Image)) throw new BadInputException($"image file not found: {r.Image}. Pass --image a PNG or JPEG file.");
        var options = new ImageExplainerOptions { Type = type, Steps = r.Steps ?? 50, NoiseTunnelSteps = r.Steps ?? 5, Seed = r.Seed };
        VitImageProcessor processor;
        try { processor = VitImageProcessor.FromPretrained(r.Folder); }
        catch (FileNotFoundException e) { throw new BadInputException(e.Message); }
        return new ImageClassificationExplainer(r.Model, processor, r.Folder, options).Explain(r.Image!, className: r.ClassName);
    }

    // ---- JSON ----------------------------------------------------------------------------------

    internal static string ToJson(Explanation e, bool words)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("task", e.Task);
            switch (e)
            {
                case SequenceClassificationExplanation s:
                    w.WriteString("text", s.Text);
                    if (s.Pair is not null) w.WriteString("pair", s.Pair);
                    w.WriteNumber("predictedClassIndex", s.PredictedClassIndex);
                    w.WriteString("predictedClassName", s.PredictedClassName);
                    w.WriteNumber("predictedProbability", s.PredictedProbability);
                    w.WriteNumber("attributedClassIndex", s.AttributedClassIndex);
                    w.WriteString("attributedClassName", s.AttributedClassName);
                    Labels(w, s.Labels, s.Probabilities);
                    if (s.FlipSign) w.WriteBoolean("flipSign", true);
                    Attribution(w, s.Attribution, words);
                    break;
                case MultiLabelClassificationExplanation m:
                {
                    w.WriteString("text", m.Text);
                    var predicted = m.Labels.Where(l => l.Probability > 0.5).Select(l => l.Label).ToArray();
                    var top = m.Labels.OrderByDescending(l => l.Probability).First();
                    w.WriteNumber("predictedClassIndex", top.Index);
                    w.WriteString("predictedClassName", top.Label);
                    w.WriteStartArray("predictedLabels"); foreach (var p in predicted) w.WriteStringValue(p); w.WriteEndArray();
                    LabelAttributions(w, m.Labels, words);
                    break;
                }
                case ZeroShotClassificationExplanation z:
                {
                    w.WriteString("text", z.Text);
                    w.WriteString("hypothesisTemplate", z.HypothesisTemplate);
                    w.WriteString("entailmentLabel", z.EntailmentLabel);
                    var best = z.Labels.First(l => l.Label == z.PredictedLabel);
                    w.WriteNumber("predictedClassIndex", best.Index);
                    w.WriteString("predictedClassName", z.PredictedLabel);
                    w.WriteNumber("predictedProbability", best.Probability);
                    LabelAttributions(w, z.Labels, words);
                    break;
                }
                case QuestionAnsweringExplanation q:
                    w.WriteString("question", q.Question);
                    w.WriteString("context", q.Context);
                    w.WriteString("predictedAnswer", q.PredictedAnswer);
                    w.WriteString("answerText", q.AnswerText);
                    w.WriteNumber("answerStartIndex", q.AnswerStartIndex);
                    w.WriteNumber("answerEndIndex", q.AnswerEndIndex);
                    w.WriteStartObject("start"); Attribution(w, q.Start, words); w.WriteEndObject();
                    w.WriteStartObject("end"); Attribution(w, q.End, words); w.WriteEndObject();
                    w.WriteStartObject("wordAttributions");
                    w.WritePropertyName("start"); Scores(w, q.Start, words);
                    w.WritePropertyName("end"); Scores(w, q.End, words);
                    w.WriteEndObject();
                    break;
                case TokenClassificationExplanation t:
                {
                    w.WriteString("text", t.Text);
                    w.WriteStartArray("predictions");
                    foreach (var p in t.Predictions)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("tokenIndex", p.TokenIndex); w.WriteString("token", p.Token);
                        w.WriteNumber("start", p.Start); w.WriteNumber("end", p.End);
                        w.WriteString("label", p.Label); w.WriteNumber("labelIndex", p.LabelIndex); w.WriteNumber("probability", p.Probability);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("tokens");
                    foreach (var k in t.Tokens)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("tokenIndex", k.TokenIndex); w.WriteString("token", k.Token);
                        w.WriteString("label", k.Label); w.WriteNumber("labelIndex", k.LabelIndex); w.WriteNumber("probability", k.Probability);
                        Attribution(w, k.Attribution, words);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartObject("wordAttributions");
                    foreach (var k in t.Tokens) { w.WritePropertyName($"{k.TokenIndex}:{k.Token}"); Scores(w, k.Attribution, words); }
                    w.WriteEndObject();
                    break;
                }
                case ImageClassificationExplanation i:
                    w.WriteNumber("predictedClassIndex", i.PredictedClassIndex);
                    w.WriteString("predictedClassName", i.PredictedClassName);
                    w.WriteNumber("predictedProbability", i.PredictedProbability);
                    w.WriteNumber("attributedClassIndex", i.AttributedClassIndex);
                    w.WriteString("attributedClassName", i.AttributedClassName);
                    Labels(w, i.Labels, i.Probabilities);
                    if (i.ConvergenceDelta is { } d) w.WriteNumber("convergenceDelta", d); else w.WriteNull("convergenceDelta");
                    w.WriteNumber("channels", i.Channels); w.WriteNumber("height", i.Height); w.WriteNumber("width", i.Width);
                    w.WriteStartArray("pixelAttributions");
                    for (int y = 0; y < i.Height; y++)
                    {
                        w.WriteStartArray();
                        for (int x = 0; x < i.Width; x++) w.WriteNumberValue(i.PixelMap[y * i.Width + x]);
                        w.WriteEndArray();
                    }
                    w.WriteEndArray();
                    break;
            }
            w.WriteStartArray("warnings"); foreach (var s in e.Warnings) w.WriteStringValue(s); w.WriteEndArray();
            WriteProvenance(w, e.Provenance);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    private static void Labels(Utf8JsonWriter w, IReadOnlyList<string> labels, IReadOnlyList<double> probabilities)
    {
        w.WriteStartObject("probabilities");
        for (int i = 0; i < probabilities.Count; i++) w.WriteNumber(i < labels.Count ? labels[i] : $"LABEL_{i}", probabilities[i]);
        w.WriteEndObject();
    }

    private static void LabelAttributions(Utf8JsonWriter w, IReadOnlyList<LabelAttribution> labels, bool words)
    {
        w.WriteStartArray("labels");
        foreach (var l in labels)
        {
            w.WriteStartObject();
            w.WriteString("label", l.Label); w.WriteNumber("index", l.Index); w.WriteNumber("probability", l.Probability);
            Attribution(w, l.Attribution, words);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("wordAttributions");
        foreach (var l in labels) { w.WritePropertyName(l.Label); Scores(w, l.Attribution, words); }
        w.WriteEndObject();
    }

    /// <summary>wordAttributions, convergenceDelta, and the per-token details of one explained output.</summary>
    private static void Attribution(Utf8JsonWriter w, TextAttribution a, bool words)
    {
        w.WriteString("target", a.Target);
        w.WritePropertyName("wordAttributions"); Scores(w, a, words);
        if (a.ConvergenceDelta is { } d) w.WriteNumber("convergenceDelta", d); else w.WriteNull("convergenceDelta");
        if (a.InputScore is { } f) w.WriteNumber("inputScore", f);
        if (a.BaselineScore is { } b) w.WriteNumber("baselineScore", b);
        w.WriteNumber("attributionSum", a.Tokens.Sum(t => t.Raw));
        w.WriteStartArray("tokens");
        foreach (var t in a.Tokens)
        {
            w.WriteStartObject();
            w.WriteNumber("index", t.Index); w.WriteNumber("id", t.Id); w.WriteString("token", t.Token);
            w.WriteNumber("sequence", t.Sequence); w.WriteNumber("start", t.Start); w.WriteNumber("end", t.End);
            w.WriteBoolean("special", t.IsSpecial); w.WriteNumber("raw", t.Raw); w.WriteNumber("score", t.Score);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("words");
        foreach (var x in a.Words)
        {
            w.WriteStartObject();
            w.WriteString("word", x.Word); w.WriteNumber("sequence", x.Sequence); w.WriteNumber("start", x.Start); w.WriteNumber("end", x.End);
            w.WriteNumber("raw", x.Raw); w.WriteNumber("score", x.Score);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>[{"token", "score"}] per token (transformers-interpret's word_attributions), or per word with --words.</summary>
    private static void Scores(Utf8JsonWriter w, TextAttribution a, bool words)
    {
        w.WriteStartArray();
        if (words)
            foreach (var x in a.Words) { w.WriteStartObject(); w.WriteString("token", x.Word); w.WriteNumber("score", x.Score); w.WriteEndObject(); }
        else
            foreach (var t in a.Tokens) { w.WriteStartObject(); w.WriteString("token", t.Token); w.WriteNumber("score", t.Score); w.WriteEndObject(); }
        w.WriteEndArray();
    }

    private static void WriteProvenance(Utf8JsonWriter w, Provenance p)
    {
        w.WriteStartObject("provenance");
        w.WriteString("explainer", p.Explainer);
        w.WriteString("method", p.Method);
        w.WriteStartObject("parameters");
        foreach (var (k, v) in p.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteString("modelName", p.ModelName);
        if (p.ModelPath is null) w.WriteNull("modelPath"); else w.WriteString("modelPath", p.ModelPath);
        w.WriteString("modelHash", p.ModelHash);
        w.WriteString("glassboxVersion", p.GlassboxVersion);
        w.WriteEndObject();
    }
}
