// `glassbox explain-dataset <task> --model M --data FILE --out results.jsonl [--report report.html]
// [--shard i/n] [--resume]`: explain every example of a CSV/TSV/JSONL dataset, one JSON line per
// example (DatasetExplainer), streamed to --out batch by batch.
//
// Order of work, so that bad input never leaves a file behind: options → data (read once in full:
// columns, empty texts, duplicate ids, the row count) → model and tokenizer → --out. The output
// file is created only when the first batch is ready.
//
// Shards: the n shards are the n contiguous blocks [i·N/n, (i+1)·N/n) of the N rows (0 ≤ i < n), so
// cat shard-0 … shard-(n-1) equals the unsharded output byte for byte (a line does not depend on the
// shard). Resume: the lines already in --out are kept; a torn last line (a run killed while
// writing) is cut off; rows whose ids are in the file are skipped, so the finished file equals an
// uninterrupted run's. A file written with other settings (method, steps, model hash, ...) is
// refused. --report renders the HTML report from the finished file (DatasetReport).
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Glassbox.Explain.Explainers;
using Glassbox.Models.Data;

namespace Glassbox.Cli;

internal static class ExplainDatasetCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var taskArgument = new Argument<string>("task") { Description = "what to explain: " + string.Join(", ", DatasetExplainer.Tasks) };
        taskArgument.AcceptOnlyFromAmong(DatasetExplainer.Tasks);
        var modelOption = new Option<string>("--model") { Description = "model folder (Hugging Face layout) or Hub id org/name[@revision]", Required = true };
        var dataOption = new Option<string>("--data") { Description = "dataset: .csv (RFC 4180), .tsv (GLUE: header, tabs, no quoting) or .jsonl", Required = true };
        var textColumnOption = new Option<string>("--text-column") { Description = "column with the text (question-answering: the question)", DefaultValueFactory = _ => "sentence" };
        var labelColumnOption = new Option<string?>("--label-column") { Description = "column with the gold label (default: 'label' when the file has it); enables accuracy" };
        var pairColumnOption = new Option<string?>("--pair-column") { Description = "column with the second text (pairwise) or the context (question-answering)" };
        var idColumnOption = new Option<string?>("--id-column") { Description = "column with unique example ids (default: the 0-based row number)" };
        var methodOption = new Option<string?>("--method") { Description = "attribution method: " + string.Join(", ", AttributionMethods.Names) + " (default lig)" };
        var stepsOption = new Option<int?>("--steps") { Description = "integration steps (default 50)" };
        var internalBatchOption = new Option<int?>("--internal-batch-size") { Description = "interpolation points per forward pass in integrated gradients (default: chunks of at most 512 tokens, the same numbers as one batch)" };
        var batchOption = new Option<int>("--batch-size") { Description = "examples per batch: each batch is appended to --out and flushed together", DefaultValueFactory = _ => 16 };
        var maxLengthOption = new Option<int?>("--max-length") { Description = "token limit; longer texts are truncated with a warning" };
        var labelsOption = new Option<string?>("--labels") { Description = "zero-shot candidate labels, comma separated" };
        var templateOption = new Option<string?>("--hypothesis-template") { Description = $"zero-shot hypothesis template (default \"{ZeroShotClassificationExplainer.DefaultHypothesisTemplate}\")" };
        var seedOption = new Option<int>("--seed") { Description = "seed for sampling methods (lime, kernel-shap, smoothgrad)", DefaultValueFactory = _ => 0 };
        var outOption = new Option<string>("--out") { Description = "JSON Lines output, one line per example", Required = true };
        var reportOption = new Option<string?>("--report") { Description = "also write an HTML report of --out (accuracy, top tokens per class, most/least confident examples)" };
        var shardOption = new Option<string?>("--shard") { Description = "i/n: explain only the i-th of n contiguous blocks of rows (0 ≤ i < n); the n outputs concatenated in order equal the unsharded output" };
        var shardsOption = new Option<int?>("--shards") { Description = "number of shards when the index comes from the scheduler: JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array; SLURM_ARRAY_TASK_COUNT gives the count when --shards is absent)" };
        var resumeOption = new Option<bool>("--resume") { Description = "continue --out: keep its lines, cut a torn last line, skip ids already written" };
        var overwriteOption = new Option<bool>("--overwrite") { Description = "replace an existing --out instead of refusing" };
        var formatOption = new Option<string>("--format") { Description = "output format of --out", DefaultValueFactory = _ => "jsonl" };
        formatOption.AcceptOnlyFromAmong("jsonl");

        var command = new Command("explain-dataset", "Explain every example of a dataset: one JSON line per example (resumable, shardable), and an HTML report.")
        {
            taskArgument, modelOption, dataOption, textColumnOption, labelColumnOption, pairColumnOption, idColumnOption, methodOption, stepsOption,
            internalBatchOption, batchOption, maxLengthOption, labelsOption, templateOption, seedOption, outOption, reportOption, shardOption,
            shardsOption, resumeOption, overwriteOption, formatOption,
        };
        command.Validators.Add(result =>
        {
            string? task = CliParsing.ParsedOrDefault(() => result.GetValue(taskArgument));
            bool pair = result.GetResult(pairColumnOption) != null;
            if (task is "pairwise" or "question-answering" && !pair)
                result.AddError($"{task} needs --pair-column (the {(task == "pairwise" ? "second text" : "context")}).");
            if (task is "sequence-classification" or "multilabel" or "zero-shot" or "token-classification" && pair)
                result.AddError($"{task} takes no --pair-column{(task == "sequence-classification" ? " (use the pairwise task for two texts)" : "")}.");
            if (task == "zero-shot" && string.IsNullOrWhiteSpace(CliParsing.ParsedOrDefault(() => result.GetValue(labelsOption))))
                result.AddError("zero-shot needs --labels, e.g. --labels finance,sports,technology.");
            if (result.GetResult(batchOption) is not null && CliParsing.ParsedOrDefault(() => result.GetValue(batchOption)) is var b && b < 1) result.AddError($"--batch-size must be at least 1, not {b}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(stepsOption)) is int s && s < 1) result.AddError($"--steps must be at least 1, not {s}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(internalBatchOption)) is int ib && ib < 1) result.AddError($"--internal-batch-size must be at least 1, not {ib}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(maxLengthOption)) is int m && m < 1) result.AddError($"--max-length must be at least 1, not {m}.");
            var (_, _, _, shardProblem) = SchedulerShard.Resolve(CliParsing.ParsedOrDefault(() => result.GetValue(shardOption)),
                CliParsing.ParsedOrDefault(() => result.GetValue(shardsOption)), Environment.GetEnvironmentVariable);
            if (shardProblem is not null) result.AddError(shardProblem);
            if (CliParsing.ParsedOrDefault(() => result.GetValue(methodOption)) is string method)
            {
                try { AttributionMethods.Parse(method); }
                catch (ArgumentException e) { result.AddError(e.Message); }
            }
            if (result.GetResult(resumeOption) != null && result.GetResult(overwriteOption) != null)
                result.AddError("--resume and --overwrite exclude each other: --resume continues --out, --overwrite starts it again.");
        });

        command.SetAction(parse =>
        {
            var (shardIndex, shardCount, _, _) = SchedulerShard.Resolve(parse.GetValue(shardOption), parse.GetValue(shardsOption), Environment.GetEnvironmentVariable);
            string method = parse.GetValue(methodOption) ?? "lig";
            var settings = new DatasetSettings
            {
                Task = parse.GetValue(taskArgument)!,
                Model = parse.GetValue(modelOption)!,
                Data = parse.GetValue(dataOption)!,
                TextColumn = parse.GetValue(textColumnOption)!,
                LabelColumn = parse.GetValue(labelColumnOption),
                PairColumn = parse.GetValue(pairColumnOption),
                IdColumn = parse.GetValue(idColumnOption),
                Out = parse.GetValue(outOption)!,
                Report = parse.GetValue(reportOption),
                ShardIndex = shardIndex,
                ShardCount = shardCount,
                Resume = parse.GetValue(resumeOption),
                Overwrite = parse.GetValue(overwriteOption),
                BatchSize = parse.GetValue(batchOption),
                ZeroShotLabels = parse.GetValue(labelsOption)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                HypothesisTemplate = parse.GetValue(templateOption),
                Options = new ExplainerOptions
                {
                    Method = AttributionMethods.Parse(method),
                    Steps = parse.GetValue(stepsOption) ?? 50,
                    InternalBatchSize = parse.GetValue(internalBatchOption),
                    MaxLength = parse.GetValue(maxLengthOption),
                    Seed = parse.GetValue(seedOption),
                },
            };
            return DatasetRun.Run(settings, stdout, stderr, CliProgress.ModeFor(parse, stderr));
        });
        return command;
    }

    /// <summary>Parses "i/n" with 0 ≤ i &lt; n.</summary>
    internal static bool TryParseShard(string text, out int index, out int count, out string? problem)
    {
        index = 0; count = 1; problem = null;
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out count))
        {
            if (count < 1) problem = $"--shard {text}: the number of shards must be at least 1.";
            else if (index >= count) problem = $"--shard {text}: the shard index counts from 0, so it must be below {count} (the shards are 0/{count} … {count - 1}/{count}).";
            return problem is null;
        }
        problem = $"--shard takes i/n, e.g. 0/4 for the first of four shards, not '{text}'.";
        return false;
    }
}

/// <summary>Everything one explain-dataset run needs.</summary>
internal sealed record DatasetSettings
{
    public required string Task { get; init; }
    public required string Model { get; init; }
    public required string Data { get; init; }
    public required string TextColumn { get; init; }
    public string? LabelColumn { get; init; }
    public string? PairColumn { get; init; }
    public string? IdColumn { get; init; }
    public required string Out { get; init; }
    public string? Report { get; init; }
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;
    public bool Resume { get; init; }
    public bool Overwrite { get; init; }
    public int BatchSize { get; init; } = 16;
    public IReadOnlyList<string>? ZeroShotLabels { get; init; }
    public string? HypothesisTemplate { get; init; }
    public required ExplainerOptions Options { get; init; }
    /// <summary>Title of the HTML report.</summary>
    public string? ReportTitle { get; init; }
    /// <summary>Extra links shown at the top of the report (label, href).</summary>
    public IReadOnlyList<(string Label, string Href)> ReportLinks { get; init; } = [];
}

/// <summary>The explain-dataset pipeline, shared by the explain-dataset and demo verbs.</summary>
internal static class DatasetRun
{
    public static int Run(DatasetSettings s, TextWriter stdout, TextWriter stderr, ProgressMode progress)
    {
        // 1. Output paths, before any work.
        if (!CommonOptions.CheckOutPath(s.Out, stderr)) return Program.ExitBadInput;
        if (!CommonOptions.CheckOutPath(s.Report, stderr, "--report")) return Program.ExitBadInput;
        if (s.Report is not null && Path.GetFullPath(s.Report) == Path.GetFullPath(s.Out))
        {
            stderr.WriteLine("error: --report and --out name the same file; give the report its own name, e.g. report.html.");
            return Program.ExitBadInput;
        }
        bool outExists = File.Exists(s.Out);
        if (outExists && !s.Resume && !s.Overwrite)
        {
            stderr.WriteLine($"error: {s.Out} already exists. Pass --resume to continue it (ids already written are skipped), --overwrite to start again, or choose another --out.");
            return Program.ExitBadInput;
        }

        // 2. The data: read once in full to check it and count it.
        DataPlan plan;
        try
        {
            plan = Plan(s);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or DataFormatException or BadInputException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            if (e is DataFormatException { Column: not null }) stderr.WriteLine("Name the columns with --text-column, --label-column, --pair-column and --id-column.");
            return Program.ExitBadInput;
        }

        // 3. The model.
        if (!CliModels.TryLoad(s.Model, stderr, out var folder, out var model)) return Program.ExitBadInput;
        DatasetExplainer explainer;
        try
        {
            explainer = new DatasetExplainer(s.Task, folder, model, s.Options, s.ZeroShotLabels, s.HypothesisTemplate);
        }
        catch (BadInputException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Program.ExitBadInput;
        }

        // 4. What is already written (resume).
        var done = new HashSet<string>(StringComparer.Ordinal);
        string? existingSettings = null;
        if (outExists && s.Resume)
        {
            try
            {
                existingSettings = ReadExisting(s.Out, done, stderr);
            }
            catch (BadInputException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
        }
        long already = done.Count == 0 ? 0 : plan.Rows().Count(r => done.Contains(r.Id));
        string shardText = s.ShardCount > 1 ? $" (shard {s.ShardIndex}/{s.ShardCount}: rows {plan.Start}–{plan.End - 1} of {plan.Total})" : "";
        stderr.WriteLine($"explain-dataset: {plan.Count - already} example(s) to explain{shardText}{(already > 0 ? $", {already} already in {s.Out}" : "")}.");

        // 5. Explain, batch by batch.
        FileStream? output = null;
        bool created = false;
        long written = 0;
        try
        {
            int code = CliProgress.Run(progress, stderr, "explaining", plan.Count, bar =>
            {
                bar.Value = already;
                var batch = new StringBuilder();
                int inBatch = 0;
                foreach (var row in plan.Rows())
                {
                    if (done.Contains(row.Id)) continue;
                    string line, provenance;
                    try
                    {
                        (line, provenance) = explainer.Explain(row);
                    }
                    catch (Exception e) when (e is ArgumentException or BadInputException or NotSupportedException or KeyNotFoundException)
                    {
                        throw new BadInputException($"example id {row.Id}: {e.Message}");
                    }
                    if (existingSettings is not null)
                    {
                        string now = SettingsKey(provenance);
                        if (now != existingSettings)
                            throw new BadInputException($"{s.Out} holds explanations made with other settings ({existingSettings}) than this run ({now}); resume with the same --model, --method and options, or choose another --out.");
                        existingSettings = null;
                    }
                    batch.Append(line).Append('\n');
                    inBatch++;
                    bar.Increment();
                    if (inBatch == s.BatchSize)
                    {
                        Flush();
                        inBatch = 0;
                    }
                }
                if (inBatch > 0) Flush();
                if (output is null)
                {
                    // Nothing to add (all done already, or an empty shard): the file still exists afterwards.
                    if (!File.Exists(s.Out)) { File.WriteAllBytes(s.Out, []); created = true; }
                }
                return Program.ExitOk;

                void Flush()
                {
                    if (output is null)
                    {
                        output = new FileStream(s.Out, outExists && s.Resume ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
                        created = !(outExists && s.Resume);
                    }
                    byte[] bytes = new UTF8Encoding(false).GetBytes(batch.ToString());
                    output.Write(bytes);
                    output.Flush(flushToDisk: true);
                    written += inBatch;
                    batch.Clear();
                }
            });
            if (code != Program.ExitOk) return code;
        }
        catch (BadInputException e)
        {
            output?.Dispose();
            output = null;
            if (created && written == 0) TryDelete(s.Out);
            stderr.WriteLine($"error: {e.Message}");
            if (written > 0) stderr.WriteLine($"{written} example(s) were written to {s.Out}; fix the input and rerun with --resume to continue.");
            return Program.ExitBadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            output?.Dispose();
            output = null;
            if (created && written == 0) TryDelete(s.Out);
            stderr.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            if (written > 0) stderr.WriteLine($"{written} example(s) were written to {s.Out}; rerun with --resume to continue.");
            return Program.ExitFailure;
        }
        finally
        {
            output?.Dispose();
        }
        stderr.WriteLine($"wrote {s.Out} ({written} new, {plan.Count} in all)");

        // 6. The report, from the finished file.
        if (s.Report is not null)
        {
            try
            {
                string html = DatasetReport.Render(s.Out, new DatasetReportOptions
                {
                    Title = s.ReportTitle ?? $"Glassbox dataset report: {Path.GetFileName(s.Data)}",
                    Task = s.Task,
                    Data = s.Data,
                    Model = s.Model,
                    Links = s.ReportLinks,
                });
                Glassbox.Render.AtomicFile.WriteAllText(s.Report, html);
                stderr.WriteLine($"wrote {s.Report}");
            }
            catch (BadInputException e)
            {
                stderr.WriteLine($"error: cannot write the report: {e.Message}");
                return Program.ExitBadInput;
            }
        }
        return Program.ExitOk;
    }

    /// <summary>The data as this run reads it: the columns, the row count, and this shard's block [Start, End).</summary>
    internal sealed record DataPlan(string Path, DataColumns Columns, long Total, long Start, long End)
    {
        public long Count => End - Start;

        /// <summary>The shard's rows, streamed (a second pass over the file).</summary>
        public IEnumerable<DataRow> Rows() => TabularData.Read(Path, Columns).Skip((int)Start).Take((int)Count);
    }

    /// <summary>Reads every row once, checking that texts are not empty and ids unique, and plans this shard's
    /// contiguous block. Only the ids are kept in memory.</summary>
    internal static DataPlan Plan(DatasetSettings s)
    {
        string? label = s.LabelColumn;
        if (label is null && TabularData.Columns(s.Data).Contains("label", StringComparer.Ordinal)) label = "label";
        var columns = new DataColumns(s.TextColumn, label, s.PairColumn, s.IdColumn);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        long n = 0;
        foreach (var row in TabularData.Read(s.Data, columns))
        {
            if (string.IsNullOrWhiteSpace(row.Text))
                throw new BadInputException($"{s.Data}: example id {row.Id} has an empty '{s.TextColumn}'; remove the row or fill it in.");
            if (s.PairColumn is not null && string.IsNullOrWhiteSpace(row.Pair))
                throw new BadInputException($"{s.Data}: example id {row.Id} has an empty '{s.PairColumn}'; remove the row or fill it in.");
            if (!ids.Add(row.Id))
                throw new BadInputException($"{s.Data}: id '{row.Id}' appears twice in column '{s.IdColumn}'; ids must be unique (resume skips by id). Leave out --id-column to use row numbers.");
            n++;
        }
        if (n == 0) throw new BadInputException($"{s.Data} has a header but no rows; there is nothing to explain.");
        if (n > int.MaxValue) throw new BadInputException($"{s.Data} has {n} rows; split it into files of at most {int.MaxValue} rows.");
        return new DataPlan(s.Data, columns, n, s.ShardIndex * n / s.ShardCount, (s.ShardIndex + 1) * n / s.ShardCount);
    }

    /// <summary>Collects the ids of the complete lines of <paramref name="path"/>, cuts a torn last line, and
    /// returns the settings key of the first line (null for an empty file).</summary>
    private static string? ReadExisting(string path, HashSet<string> ids, TextWriter stderr)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int end = Array.LastIndexOf(bytes, (byte)'\n') + 1; // complete lines end at a newline
        if (end < bytes.Length)
        {
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write)) fs.SetLength(end);
            stderr.WriteLine($"resume: cut a torn last line ({bytes.Length - end} bytes) from {path}.");
        }
        string? settings = null;
        int lineNumber = 0, start = 0;
        while (start < end)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start, end - start);
            lineNumber++;
            var span = new ReadOnlySpan<byte>(bytes, start, nl - start);
            start = nl + 1;
            if (span.IsEmpty) continue;
            try
            {
                using var doc = JsonDocument.Parse(span.ToArray());
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                    || !root.TryGetProperty("provenance", out var provenance))
                    throw new BadInputException($"{path} line {lineNumber} is not an explain-dataset line (no \"id\" or \"provenance\"); choose another --out or pass --overwrite.");
                if (!ids.Add(id.GetString()!))
                    throw new BadInputException($"{path} line {lineNumber}: id {id.GetString()} is written twice; the file was not made by one explain-dataset run. Choose another --out or pass --overwrite.");
                settings ??= SettingsKey(provenance.GetRawText());
            }
            catch (JsonException e)
            {
                throw new BadInputException($"{path} line {lineNumber} is not valid JSON ({e.Message}); it is not an explain-dataset output. Choose another --out or pass --overwrite.");
            }
        }
        return settings;
    }

    /// <summary>The settings a provenance records, without what varies per example (the explained target) or per
    /// build (the Glassbox version) or per machine (the model path): explainer, method, parameters, model hash.</summary>
    internal static string SettingsKey(string provenanceJson)
    {
        using var doc = JsonDocument.Parse(provenanceJson);
        var p = doc.RootElement;
        var parts = new List<string>
        {
            $"explainer {Str(p, "explainer")}", $"method {Str(p, "method")}", $"model {Str(p, "modelHash")}",
        };
        if (p.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            foreach (var kv in parameters.EnumerateObject().Where(kv => kv.Name != "target").OrderBy(kv => kv.Name, StringComparer.Ordinal))
                parts.Add($"{kv.Name} {kv.Value}");
        return string.Join("; ", parts);

        static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "?";
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
