// `glassbox tcav`: concept sensitivity (TCAV) of a text classifier, per layer, as JSON or HTML.
//
// The concept is a file of examples (--concept: one text per line, or a csv/tsv/jsonl/parquet file
// read with --text-column) or a slice of --data (--concept-slice "column=value" or "column~regex").
// Random counter-examples come from --data rows outside the concept; the class's examples are the
// --data rows labelled with --class (all rows when there is no --label-column).
// JSON (camelCase): {results: [{concept, layer, className, classIndex, score, scoreStd, runScores,
// randomScores, pValue, significant, cavAccuracy, conceptExamples, classExamples, summary}], provenance}.
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Glassbox.Explain.Concepts;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Summaries;
using Glassbox.Models.Data;
using Glassbox.Render;

namespace Glassbox.Cli;

internal static class TcavCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var modelOption = new Option<string>("--model") { Description = "sequence-classification model folder or Hub id", Required = true };
        var dataOption = new Option<string>("--data") { Description = "dataset (csv, tsv, jsonl, parquet): random counter-examples and the class's examples", Required = true };
        var textColumn = new Option<string>("--text-column") { Description = "text column of --data (and of a tabular --concept file)", DefaultValueFactory = _ => "sentence" };
        var labelColumn = new Option<string?>("--label-column") { Description = "label column of --data: the class's examples are the rows with --class" };
        var conceptOption = new Option<string?>("--concept") { Description = "concept examples: a text file (one per line) or a csv/tsv/jsonl/parquet file" };
        var sliceOption = new Option<string?>("--concept-slice") { Description = "concept as a slice of --data: column=value or column~regex" };
        var nameOption = new Option<string?>("--concept-name") { Description = "name shown for the concept (default: the file name or the slice)" };
        var layerOption = new Option<string[]>("--layer") { Description = "hook point(s), e.g. blocks.1.hook_resid_post; repeat or separate by commas", Required = true, AllowMultipleArgumentsPerToken = true };
        var classOption = new Option<string>("--class") { Description = "class whose sensitivity to the concept is measured", Required = true };
        var poolingOption = new Option<string>("--pooling") { Description = "cls or mean", DefaultValueFactory = _ => "cls" };
        poolingOption.AcceptOnlyFromAmong("cls", "mean");
        var runsOption = new Option<int>("--runs") { Description = "random sets (runs) for the significance test", DefaultValueFactory = _ => new TcavOptions { Layer = "" }.Runs };
        var alphaOption = new Option<double>("--alpha") { Description = "significance level", DefaultValueFactory = _ => 0.05 };
        var seedOption = new Option<int>("--seed") { Description = "seed for random sets and splits", DefaultValueFactory = _ => 0 };
        var formatOption = new Option<string>("--format") { Description = "json or html", DefaultValueFactory = _ => "json" };
        formatOption.AcceptOnlyFromAmong("json", "html");
        var outOption = new Option<string?>("--out") { Description = "write to this file (atomically) instead of standard output" };

        var command = new Command("tcav", "Concept sensitivity (TCAV, Kim et al. 2018) of a classifier at chosen layers, with t-test significance.")
        {
            modelOption, dataOption, textColumn, labelColumn, conceptOption, sliceOption, nameOption, layerOption, classOption,
            poolingOption, runsOption, alphaOption, seedOption, formatOption, outOption,
        };
        command.Validators.Add(result =>
        {
            bool file = result.GetResult(conceptOption) is not null, slice = result.GetResult(sliceOption) is not null;
            if (file == slice) result.AddError("Give the concept with exactly one of --concept FILE or --concept-slice EXPR.");
        });

        command.SetAction(parse =>
        {
            try
            {
                string dataPath = parse.GetValue(dataOption)!;
                string text = parse.GetValue(textColumn)!;
                string? label = parse.GetValue(labelColumn);
                string className = parse.GetValue(classOption)!;
                var layers = parse.GetValue(layerOption)!.SelectMany(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
                var rows = TabularData.Read(dataPath, new DataColumns(text, label)).ToList();
                if (rows.Count == 0) throw new BadInputException($"{dataPath} has no rows.");

                List<string> concept;
                List<string> pool;
                string conceptName;
                if (parse.GetValue(sliceOption) is { } expr)
                {
                    var matches = Slice(expr, rows, dataPath);
                    concept = rows.Where(matches).Select(r => r.Text).ToList();
                    pool = rows.Where(r => !matches(r)).Select(r => r.Text).ToList();
                    conceptName = parse.GetValue(nameOption) ?? expr;
                }
                else
                {
                    string conceptPath = parse.GetValue(conceptOption)!;
                    concept = ReadConcept(conceptPath, text);
                    pool = rows.Select(r => r.Text).ToList();
                    conceptName = parse.GetValue(nameOption) ?? Path.GetFileNameWithoutExtension(conceptPath);
                }

                if (!CliModels.TryLoad(parse.GetValue(modelOption)!, stderr, out var folder, out var model)) return Program.ExitBadInput;
                var explainer = SequenceClassificationExplainer.FromPretrained(folder);
                var tcav = new Tcav(model, explainer.Tokenizer, explainer.Labels);
                int classIndex = tcav.ClassIndex(className);
                var classExamples = label is null ? rows.Select(r => r.Text).ToList() : rows.Where(r => r.Label == className).Select(r => r.Text).ToList();
                if (classExamples.Count == 0)
                    throw new BadInputException($"No row of {dataPath} has {label} = '{className}'; labels there are: {string.Join(", ", rows.Select(r => r.Label).Distinct().Take(20))}.");
                foreach (var layer in layers) tcav.CheckLayer(layer);

                var options = new TcavOptions
                {
                    Layer = layers[0],
                    Pooling = parse.GetValue(poolingOption) == "mean" ? Pooling.Mean : Pooling.Cls,
                    Runs = parse.GetValue(runsOption),
                    Alpha = parse.GetValue(alphaOption),
                    Seed = parse.GetValue(seedOption),
                };
                var results = layers.Select(l => tcav.Run(conceptName, concept, pool, classExamples, classIndex, options with { Layer = l })).ToList();
                var provenance = new (string, string?)[]
                {
                    ("model", folder), ("data", dataPath), ("concept", conceptName), ("pooling", parse.GetValue(poolingOption)),
                    ("runs", options.Runs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("seed", options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                };
                string content = parse.GetValue(formatOption) == "html"
                    ? ConceptViews.TcavPage(results, provenance)
                    : JsonSerializer.Serialize(new
                    {
                        results = results.Select(r => new
                        {
                            r.Concept, r.Layer, r.ClassName, r.ClassIndex, r.Score, r.ScoreStd, r.RunScores, r.RandomScores, r.PValue,
                            r.Significant, r.CavAccuracy, r.ConceptExamples, r.ClassExamples, Summary = ExplanationSummary.Describe(r),
                        }),
                        provenance = provenance.ToDictionary(p => p.Item1, p => p.Item2),
                    }, Json) + "\n";
                if (parse.GetValue(outOption) is { } outPath) AtomicFile.WriteAllText(outPath, content);
                else stdout.Write(content);
                return Program.ExitOk;
            }
            catch (Exception e) when (e is BadInputException or ArgumentException or FileNotFoundException or DataFormatException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
        });
        return command;
    }

    /// <summary>column=value (exact) or column~regex (search) over a row's fields.</summary>
    private static Func<DataRow, bool> Slice(string expr, List<DataRow> rows, string dataPath)
    {
        int eq = expr.IndexOf('='), tilde = expr.IndexOf('~');
        int at = eq < 0 ? tilde : tilde < 0 ? eq : Math.Min(eq, tilde);
        if (at <= 0)
            throw new BadInputException($"--concept-slice '{expr}' is not column=value or column~regex.");
        string column = expr[..at], value = expr[(at + 1)..];
        var columns = rows[0].Fields.Keys.ToList();
        if (!columns.Contains(column))
            throw new BadInputException($"--concept-slice names column '{column}', which {dataPath} does not have; columns are: {string.Join(", ", columns)}.");
        if (expr[at] == '=') return r => r.Fields.TryGetValue(column, out var v) && v == value;
        Regex regex;
        try { regex = new Regex(value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { throw new BadInputException($"--concept-slice regex '{value}' is invalid: {e.Message}"); }
        return r => r.Fields.TryGetValue(column, out var v) && regex.IsMatch(v);
    }

    private static List<string> ReadConcept(string path, string textColumn)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".csv" or ".tsv" or ".jsonl" or ".json" or ".ndjson" or ".parquet")
            return TabularData.Read(path, new DataColumns(textColumn)).Select(r => r.Text).ToList();
        if (!File.Exists(path)) throw new FileNotFoundException($"concept file {path} not found", path);
        return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }
}
