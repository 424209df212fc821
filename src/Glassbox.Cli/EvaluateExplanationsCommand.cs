// `glassbox evaluate-explanations`: how good are the attribution methods on this model and data?
// Every method explains every example (the first --limit rows), and each explanation is scored
// for faithfulness (ERASER comprehensiveness/sufficiency, AOPC, deletion/insertion areas, Kendall
// τ against leave-one-out) and, with --rationale-column, plausibility against the human
// rationales (token F1, IOU F1, AUPRC); a random ranking is the baseline row. Optional sanity
// checks: --parameter-randomization (cascading, Adebayo et al.) and --random-label-model DIR (a
// model trained on shuffled labels). The comparison table (rows methods, columns metrics, mean ±
// std) is printed; --format json|html writes the report (to --out, atomically, or to standard
// output with the table on standard error). Everything the run needs is checked before the
// first explanation, so bad input costs nothing and never leaves a partial file.
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Quality;
using Glassbox.Models;
using Glassbox.Models.Data;
using Glassbox.Render;

namespace Glassbox.Cli;

internal static class EvaluateExplanationsCommand
{
    public const string DefaultMethods = "lig,saliency,input-x-gradient,occlusion,lime";
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var modelOption = new Option<string>("--model") { Description = "sequence-classification model folder (Hugging Face layout) or Hub id", Required = true };
        var dataOption = new Option<string>("--data") { Description = "dataset file: .tsv (GLUE), .csv or .jsonl", Required = true };
        var textColumnOption = new Option<string>("--text-column") { Description = "column with the text", DefaultValueFactory = _ => "sentence" };
        var labelColumnOption = new Option<string?>("--label-column") { Description = "column with the gold label (class index or name; default: 'label' when the file has it)" };
        var rationaleColumnOption = new Option<string?>("--rationale-column") { Description = "column with the human rationale: word indices (\"2 5\") or a 0/1 mask per word; enables plausibility" };
        var rationaleFormatOption = new Option<string>("--rationale-format") { Description = "auto (a mask when it has one 0/1 entry per word), indices or mask", DefaultValueFactory = _ => "auto" };
        rationaleFormatOption.AcceptOnlyFromAmong("auto", "indices", "mask");
        var idColumnOption = new Option<string?>("--id-column") { Description = "column with an example id (default: the row number)" };
        var methodsOption = new Option<string>("--methods") { Description = "comma-separated attribution methods: " + string.Join(", ", AttributionMethods.Names), DefaultValueFactory = _ => DefaultMethods };
        var limitOption = new Option<int?>("--limit") { Description = "evaluate only the first N examples" };
        var seedOption = new Option<int>("--seed") { Description = "seed for lime, kernel-shap, smoothgrad and the random baseline", DefaultValueFactory = _ => 0 };
        var stepsOption = new Option<int>("--steps") { Description = "integration steps for lig/ig", DefaultValueFactory = _ => 20 };
        var samplesOption = new Option<int>("--samples") { Description = "samples for lime and kernel-shap", DefaultValueFactory = _ => 200 };
        var removalOption = new Option<string>("--removal") { Description = "how removed tokens leave the input: delete (ERASER), mask ([MASK]) or pad ([PAD])", DefaultValueFactory = _ => "delete" };
        removalOption.AcceptOnlyFromAmong("delete", "mask", "pad");
        var targetOption = new Option<string>("--target") { Description = "class explained and scored: predicted, or label (the gold label)", DefaultValueFactory = _ => "predicted" };
        targetOption.AcceptOnlyFromAmong("predicted", "label");
        var absoluteOption = new Option<bool>("--rank-by-absolute") { Description = "rank tokens by |attribution| instead of signed attribution" };
        var topKOption = new Option<int?>("--rationale-top-k") { Description = "words in the discrete rationale for token/IOU F1 (default: the mean human rationale length)" };
        var paramRandOption = new Option<bool>("--parameter-randomization") { Description = "sanity check: re-initialise the layers from the head down and report Spearman ρ with the trained attributions" };
        var randExamplesOption = new Option<int>("--randomization-examples") { Description = "examples used by the sanity checks", DefaultValueFactory = _ => 10 };
        var randomLabelOption = new Option<string?>("--random-label-model") { Description = "sanity check: a model folder trained on shuffled labels, compared by Spearman ρ" };
        var formatOption = new Option<string>("--format") { Description = "table (print the comparison only), json or html", DefaultValueFactory = _ => "table" };
        formatOption.AcceptOnlyFromAmong("table", "json", "html");
        var outOption = new Option<string?>("--out") { Description = "write the json/html report to this file (atomically); the table is printed" };

        var command = new Command("evaluate-explanations", "Compare attribution methods: faithfulness (ERASER comprehensiveness/sufficiency, AOPC, deletion/insertion, τ vs leave-one-out), plausibility against human rationales, sanity checks.")
        {
            modelOption, dataOption, textColumnOption, labelColumnOption, rationaleColumnOption, rationaleFormatOption, idColumnOption, methodsOption,
            limitOption, seedOption, stepsOption, samplesOption, removalOption, targetOption, absoluteOption, topKOption, paramRandOption, randExamplesOption,
            randomLabelOption, formatOption, outOption,
        };
        command.Validators.Add(result =>
        {
            if (CliParsing.ParsedOrDefault(() => result.GetValue(methodsOption)) is string m)
            {
                try { ParseMethods(m); }
                catch (BadInputException e) { result.AddError(e.Message); }
            }
            if (CliParsing.ParsedOrDefault(() => result.GetValue(limitOption)) is int l && l < 1) result.AddError($"--limit must be at least 1, not {l}.");
            if (result.GetResult(stepsOption) != null && CliParsing.ParsedOrDefault(() => result.GetValue(stepsOption)) is var s && s < 1) result.AddError($"--steps must be at least 1, not {s}.");
            if (result.GetResult(samplesOption) != null && CliParsing.ParsedOrDefault(() => result.GetValue(samplesOption)) is var n && n < 2) result.AddError($"--samples must be at least 2, not {n}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(topKOption)) is int k && k < 1) result.AddError($"--rationale-top-k must be at least 1, not {k}.");
            if (result.GetResult(randExamplesOption) != null && CliParsing.ParsedOrDefault(() => result.GetValue(randExamplesOption)) is var r && r < 1) result.AddError($"--randomization-examples must be at least 1, not {r}.");
            if (result.GetResult(outOption) != null && (result.GetResult(formatOption) == null || CliParsing.ParsedOrDefault(() => result.GetValue(formatOption)) == "table"))
                result.AddError("--out writes a report: add --format json or --format html.");
        });

        command.SetAction(parse =>
        {
            string? outPath = parse.GetValue(outOption);
            string format = parse.GetValue(formatOption)!;
            try
            {
                if (outPath is not null && Path.GetDirectoryName(Path.GetFullPath(outPath)) is { } dir && !Directory.Exists(dir))
                    throw new BadInputException($"cannot write --out {outPath}: the folder {dir} does not exist; create it or choose another path.");
                var methods = ParseMethods(parse.GetValue(methodsOption)!);
                string dataPath = parse.GetValue(dataOption)!;
                string? randomLabelArg = parse.GetValue(randomLabelOption);

                if (!CliModels.TryLoad(parse.GetValue(modelOption)!, stderr, out var folder, out var model)) return Program.ExitBadInput;
                if (!model.ArchitectureName.EndsWith("ForSequenceClassification", StringComparison.Ordinal))
                    throw new BadInputException($"evaluate-explanations needs a sequence-classification model; {folder} is {model.ArchitectureName}.");
                var explainerOptions = new ExplainerOptions { Steps = parse.GetValue(stepsOption), Samples = parse.GetValue(samplesOption), Seed = parse.GetValue(seedOption) };
                var explainer = new SequenceClassificationExplainer(model, CliModels.LoadTokenizer(folder), folder, explainerOptions);
                SequenceClassificationExplainer? randomLabels = null;
                if (randomLabelArg is not null)
                {
                    if (!CliModels.TryLoad(randomLabelArg, stderr, out var rf, out var rm)) return Program.ExitBadInput;
                    if (!rm.ArchitectureName.EndsWith("ForSequenceClassification", StringComparison.Ordinal))
                        throw new BadInputException($"--random-label-model needs a sequence-classification model; {rf} is {rm.ArchitectureName}.");
                    randomLabels = new SequenceClassificationExplainer(rm, CliModels.LoadTokenizer(rf), rf, explainerOptions);
                    if (randomLabels.Labels.Count != explainer.Labels.Count)
                        throw new BadInputException($"--random-label-model {rf} has {randomLabels.Labels.Count} classes but --model has {explainer.Labels.Count}; both must be trained for the same task.");
                }

                var format_ = parse.GetValue(rationaleFormatOption) switch { "indices" => RationaleFormat.Indices, "mask" => RationaleFormat.Mask, _ => RationaleFormat.Auto };
                var examples = ReadExamples(dataPath, parse.GetValue(textColumnOption)!, parse.GetValue(labelColumnOption), parse.GetValue(rationaleColumnOption),
                    parse.GetValue(idColumnOption), format_, parse.GetValue(limitOption), explainer.Labels);
                var target = parse.GetValue(targetOption) == "label" ? QualityTarget.Label : QualityTarget.Predicted;
                if (target == QualityTarget.Label && examples.All(e => e.Label is null))
                    throw new BadInputException($"--target label needs gold labels, but {dataPath} has no label column; pass --label-column or use --target predicted.");
                var options = new QualityOptions
                {
                    Removal = parse.GetValue(removalOption) switch { "mask" => RemovalMode.Mask, "pad" => RemovalMode.Pad, _ => RemovalMode.Delete },
                    Target = target,
                    RationaleTopK = parse.GetValue(topKOption),
                    Seed = parse.GetValue(seedOption),
                    Faithfulness = new FaithfulnessOptions { RankByAbsoluteValue = parse.GetValue(absoluteOption) },
                };
                if (options.Removal == RemovalMode.Mask && explainer.Tokenizer.TokenToId("[MASK]") is null && explainer.Tokenizer.TokenToId("<mask>") is null)
                    throw new BadInputException($"--removal mask needs a mask token, but the tokenizer of {folder} has neither [MASK] nor <mask>; use --removal delete or pad.");

                stderr.WriteLine($"evaluating {methods.Count} method(s) on {examples.Count} example(s) from {dataPath}");
                int done = 0, every = Math.Max(1, examples.Count / 20);
                var report = new ExplanationEvaluator(explainer, options).Evaluate(examples, methods, explainerOptions,
                    line => { if (++done % every == 0 || done == examples.Count) stderr.WriteLine(line); });

                var sanityTexts = examples.Take(parse.GetValue(randExamplesOption)).Select(e => e.Text).ToList();
                var sanityTargets = report.Examples.Take(sanityTexts.Count).Select(e => e.TargetIndex).ToList();
                IReadOnlyList<RandomisationResult>? pr = null;
                LabelRandomisationResult? lr = null;
                if (parse.GetValue(paramRandOption))
                {
                    stderr.WriteLine($"parameter randomisation on {sanityTexts.Count} example(s)");
                    pr = ParameterRandomisation.Run(explainer, sanityTexts, methods, explainerOptions, new RandomisationOptions { Seed = options.Seed }, sanityTargets);
                }
                if (randomLabels is not null)
                {
                    stderr.WriteLine($"label randomisation on {sanityTexts.Count} example(s)");
                    lr = LabelRandomisation.Compare(explainer, randomLabels, sanityTexts, methods, explainerOptions, sanityTargets);
                }
                report = WithSanityChecks(report, pr, lr);

                string table = Table(report);
                if (format == "table")
                {
                    stdout.Write(table);
                    return Program.ExitOk;
                }
                string content = format == "html" ? QualityHtml.Render(report, new QualityViewOptions { DataPath = dataPath }) : ToJson(report, dataPath, methods);
                if (outPath is null)
                {
                    stderr.Write(table);
                    stdout.Write(content);
                }
                else
                {
                    AtomicFile.WriteAllText(outPath, content);
                    stdout.Write(table);
                    stderr.WriteLine($"wrote {outPath}");
                }
                return Program.ExitOk;
            }
            catch (FileNotFoundException e)
            {
                stderr.WriteLine($"error: data file not found: {e.FileName ?? e.Message}");
                stderr.WriteLine("Pass --data a .tsv, .csv or .jsonl file with a header (e.g. SST-2's dev.tsv: sentence<TAB>label).");
                return Program.ExitBadInput;
            }
            catch (DataFormatException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                if (e.Column is not null) stderr.WriteLine("Name the columns with --text-column, --label-column, --rationale-column and --id-column.");
                return Program.ExitBadInput;
            }
            catch (Exception e) when (e is BadInputException or ArgumentException or NotSupportedException or DirectoryNotFoundException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
        });
        return command;
    }

    internal static IReadOnlyList<AttributionMethod> ParseMethods(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new BadInputException($"--methods is empty; valid methods: {string.Join(", ", AttributionMethods.Names)}.");
        var methods = new List<AttributionMethod>();
        foreach (var n in names)
        {
            AttributionMethod m;
            try { m = AttributionMethods.Parse(n); }
            catch (ArgumentException e) { throw new BadInputException($"--methods: {e.Message}"); }
            if (methods.Contains(m)) throw new BadInputException($"--methods lists {AttributionMethods.Name(m)} twice.");
            methods.Add(m);
        }
        return methods;
    }

    /// <summary>Reads and checks every row up to the limit (labels, rationales) before any model work.</summary>
    internal static List<EvaluationExample> ReadExamples(string path, string textColumn, string? labelColumn, string? rationaleColumn, string? idColumn,
        RationaleFormat format, int? limit, IReadOnlyList<string> classNames)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file not found: {path}", path);
        var columns = TabularData.Columns(path);
        labelColumn ??= columns.Contains("label") ? "label" : null;
        if (rationaleColumn is not null && !columns.Contains(rationaleColumn))
            throw new DataFormatException($"column '{rationaleColumn}' not found in {path}; columns are: {string.Join(", ", columns)}. Use --rationale-column", path, column: rationaleColumn);
        var rows = TabularData.Read(path, new DataColumns(textColumn, labelColumn, null, idColumn));
        var examples = new List<EvaluationExample>();
        long index = 0;
        foreach (var row in rows)
        {
            index++;
            if (limit is int l && examples.Count >= l) break;
            string where = $"{path}, example {row.Id}";
            if (string.IsNullOrWhiteSpace(row.Text)) throw new BadInputException($"{where}: the {textColumn} column is empty; there is nothing to explain.");
            int? label = null;
            if (row.Label is { } raw && raw.Trim().Length > 0)
                label = ParseLabel(raw.Trim(), classNames) ?? throw new BadInputException(
                    $"{where}: label '{raw}' is neither a class index (0..{classNames.Count - 1}) nor a class name ({string.Join(", ", classNames)}).");
            IReadOnlyList<bool>? rationale = null;
            if (rationaleColumn is not null)
            {
                int words = HumanRationale.Words(row.Text).Count;
                try { rationale = HumanRationale.Parse(row.Fields[rationaleColumn], words, format); }
                catch (FormatException e) { throw new BadInputException($"{where}, column {rationaleColumn}: {e.Message}"); }
            }
            examples.Add(new EvaluationExample(row.Text) { Id = row.Id, Label = label, Rationale = rationale });
        }
        if (examples.Count == 0) throw new BadInputException($"{path} has no examples (only a header?).");
        return examples;
    }

    private static int? ParseLabel(string raw, IReadOnlyList<string> classNames)
    {
        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)) return i >= 0 && i < classNames.Count ? i : null;
        for (int c = 0; c < classNames.Count; c++) if (string.Equals(classNames[c], raw, StringComparison.OrdinalIgnoreCase)) return c;
        return null;
    }

    private static QualityReport WithSanityChecks(QualityReport r, IReadOnlyList<RandomisationResult>? pr, LabelRandomisationResult? lr) => new()
    {
        ModelName = r.ModelName, ModelPath = r.ModelPath, ModelHash = r.ModelHash, Options = r.Options, Explainer = r.Explainer,
        Methods = r.Methods, Examples = r.Examples, RationaleTopK = r.RationaleTopK, ExamplesWithRationale = r.ExamplesWithRationale,
        Warnings = r.Warnings, ParameterRandomisation = pr, LabelRandomisation = lr,
    };

    // ---- the printed table ---------------------------------------------------------------------

    internal static string Table(QualityReport report)
    {
        var metrics = QualityMetrics.Faithfulness.Concat(report.ExamplesWithRationale > 0 ? QualityMetrics.Plausibility : []).ToList();
        var header = new List<string> { "method" };
        header.AddRange(metrics.Select(k => QualityMetrics.DisplayName(k) + (QualityMetrics.HigherIsBetter(k) ? " ↑" : " ↓")));
        var rows = report.Methods.Select(m => (IReadOnlyList<string>)[m.IsBaseline ? m.Method + " (baseline)" : m.Method, .. metrics.Select(k => QualityHtml.MeanStd(m.Metrics[k]))]).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Explanation quality on {report.Examples.Count} example(s), mean ± std over examples");
        sb.Append(report.Options.Removal switch { RemovalMode.Delete => " (tokens deleted)", RemovalMode.Mask => " (tokens masked)", _ => " (tokens padded)" }).Append('\n');
        Grid(sb, header, rows);
        if (report.ParameterRandomisation is { Count: > 0 } pr)
        {
            sb.Append("\nParameter randomisation (cascading from the head): Spearman ρ with the trained attributions\n");
            Grid(sb, ["method", .. pr[0].Steps.Select(s => s.Layer)], pr.Select(r => (IReadOnlyList<string>)[r.Method, .. r.Steps.Select(s => QualityHtml.MeanStd(s.Spearman))]).ToList());
        }
        if (report.LabelRandomisation is { } lr)
        {
            sb.Append("\nLabel randomisation: Spearman ρ with a model trained on shuffled labels\n");
            Grid(sb, ["method", "ρ", "ρ of |a|"], lr.Methods.Select(m => (IReadOnlyList<string>)[m.Method, QualityHtml.MeanStd(m.Spearman), QualityHtml.MeanStd(m.SpearmanAbs)]).ToList());
        }
        foreach (var w in report.Warnings.Take(5)) sb.Append("warning: ").Append(w).Append('\n');
        if (report.Warnings.Count > 5) sb.Append(CultureInfo.InvariantCulture, $"({report.Warnings.Count - 5} more warnings in the report)\n");
        return sb.ToString();
    }

    private static void Grid(StringBuilder sb, IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Select(r => r[c].Length).DefaultIfEmpty(0).Max())).ToArray();
        void Line(IReadOnlyList<string> cells) => sb.Append(string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd()).Append('\n');
        Line(header);
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var r in rows) Line(r);
    }

    // ---- JSON ----------------------------------------------------------------------------------

    internal static string ToJson(QualityReport r, string dataPath, IReadOnlyList<AttributionMethod> methods)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("model");
            w.WriteString("name", r.ModelName); if (r.ModelPath is not null) w.WriteString("path", r.ModelPath); w.WriteString("hash", r.ModelHash);
            w.WriteEndObject();
            w.WriteString("data", dataPath);
            w.WriteNumber("examples", r.Examples.Count);
            w.WriteNumber("examplesWithRationale", r.ExamplesWithRationale);
            if (r.RationaleTopK is { } k) w.WriteNumber("rationaleTopK", k); else w.WriteNull("rationaleTopK");
            w.WriteStartObject("options");
            w.WriteStartArray("methods"); foreach (var m in methods) w.WriteStringValue(AttributionMethods.Name(m)); w.WriteEndArray();
            w.WriteString("removal", r.Options.Removal.ToString().ToLowerInvariant());
            w.WriteString("target", r.Options.Target == QualityTarget.Label ? "label" : "predicted");
            w.WriteString("rankBy", r.Options.Faithfulness.RankByAbsoluteValue ? "absolute" : "signed");
            Numbers(w, "bins", r.Options.Faithfulness.Bins);
            Numbers(w, "aopcFractions", r.Options.Faithfulness.AopcFractions);
            w.WriteNumber("curveSteps", r.Options.Faithfulness.CurveSteps);
            w.WriteNumber("iouThreshold", r.Options.IouThreshold);
            w.WriteNumber("steps", r.Explainer.Steps); w.WriteNumber("samples", r.Explainer.Samples); w.WriteNumber("seed", r.Explainer.Seed);
            w.WriteEndObject();

            w.WriteStartArray("methods");
            foreach (var m in r.Methods)
            {
                w.WriteStartObject();
                w.WriteString("method", m.Method);
                w.WriteBoolean("isBaseline", m.IsBaseline);
                w.WriteStartObject("metrics");
                foreach (var (name, s) in m.Metrics) { w.WritePropertyName(name); Summary(w, s); }
                w.WriteEndObject();
                Numbers(w, "comprehensivenessPerBin", m.ComprehensivenessPerBin);
                Numbers(w, "sufficiencyPerBin", m.SufficiencyPerBin);
                Numbers(w, "aopcPerFraction", m.AopcPerFraction);
                Curve(w, "deletionCurve", m.Deletion);
                Curve(w, "insertionCurve", m.Insertion);
                Number(w, "tokenF1Micro", m.TokenF1Micro); Number(w, "iouF1Micro", m.IouF1Micro); Number(w, "iouF1Macro", m.IouF1Macro);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (r.ParameterRandomisation is { } pr)
            {
                w.WriteStartArray("parameterRandomization");
                foreach (var x in pr)
                {
                    w.WriteStartObject();
                    w.WriteString("method", x.Method); w.WriteString("order", x.Order == RandomisationOrder.Cascading ? "cascading" : "independent");
                    w.WriteStartArray("steps");
                    foreach (var s in x.Steps)
                    {
                        w.WriteStartObject(); w.WriteString("layer", s.Layer);
                        w.WritePropertyName("spearman"); Summary(w, s.Spearman); w.WritePropertyName("spearmanAbs"); Summary(w, s.SpearmanAbs);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (r.LabelRandomisation is { } lr)
            {
                w.WriteStartObject("labelRandomization");
                w.WriteString("randomLabelModel", lr.RandomLabelModel);
                w.WriteStartArray("methods");
                foreach (var m in lr.Methods)
                {
                    w.WriteStartObject(); w.WriteString("method", m.Method);
                    w.WritePropertyName("spearman"); Summary(w, m.Spearman); w.WritePropertyName("spearmanAbs"); Summary(w, m.SpearmanAbs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteStartArray("perExample");
            foreach (var e in r.Examples)
            {
                w.WriteStartObject();
                w.WriteString("id", e.Id); w.WriteString("text", e.Text);
                if (e.Label is { } l) w.WriteNumber("label", l); else w.WriteNull("label");
                w.WriteNumber("target", e.TargetIndex); w.WriteString("targetName", e.TargetName); w.WriteNumber("predicted", e.PredictedIndex);
                w.WriteBoolean("hasRationale", e.HasRationale);
                w.WriteStartArray("tokens"); foreach (var t in e.Tokens) w.WriteStringValue(t); w.WriteEndArray();
                w.WriteStartObject("methods");
                foreach (var (name, s) in e.Methods)
                {
                    w.WriteStartObject(name);
                    foreach (var (metric, v) in s.Metrics) Number(w, metric, v);
                    Number(w, "fullScore", s.Faithfulness.FullScore);
                    Numbers(w, "attributions", s.Attributions);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("warnings"); foreach (var x in r.Warnings) w.WriteStringValue(x); w.WriteEndArray();
            w.WriteStartObject("provenance");
            w.WriteString("generator", "glassbox evaluate-explanations");
            w.WriteString("glassboxVersion", typeof(EvaluateExplanationsCommand).Assembly.GetName().Version?.ToString() ?? "unknown");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    // JSON has no NaN: undefined values (τ of a constant ranking, plausibility without rationales) are null.
    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    private static void Numbers(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) { if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue(); }
        w.WriteEndArray();
    }

    private static void Summary(Utf8JsonWriter w, MetricSummary s)
    {
        w.WriteStartObject(); Number(w, "mean", s.Mean); Number(w, "std", s.Std); w.WriteNumber("count", s.Count); w.WriteEndObject();
    }

    private static void Curve(Utf8JsonWriter w, string name, MeanCurve c)
    {
        w.WriteStartObject(name); Numbers(w, "fractions", c.Fractions); Numbers(w, "mean", c.Mean); Numbers(w, "std", c.Std); w.WriteEndObject();
    }
}
