// `glassbox merge-results --out FILE SHARD...`: the merge step after a sharded explain-dataset run.
// The shards are concatenated in the order given (shard 0 first), which reproduces the unsharded
// output byte for byte; every line is checked to be a complete JSON object with an id, and an id
// seen twice (overlapping shards, a shard given twice) or a torn last line (a shard still running or
// killed: finish it with --resume) is an error naming the file and line. The output is written
// atomically, so a failed merge leaves nothing behind.
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Glassbox.Render;

namespace Glassbox.Cli;

internal static class MergeResultsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var shardsArgument = new Argument<string[]>("shards") { Description = "explain-dataset outputs, in shard order (0/n first)", Arity = ArgumentArity.OneOrMore };
        var outOption = new Option<string>("--out") { Description = "merged JSON Lines file", Required = true };
        var expectOption = new Option<int?>("--expect") { Description = "fail unless the merge has exactly this many examples (the dataset's size)" };
        var command = new Command("merge-results", "Concatenate explain-dataset shard outputs in order, checking for torn lines and duplicate ids.")
        {
            shardsArgument, outOption, expectOption,
        };
        command.SetAction(parse =>
        {
            var files = parse.GetValue(shardsArgument)!;
            string outPath = parse.GetValue(outOption)!;
            try
            {
                var ids = new Dictionary<string, (string File, long Line)>(StringComparer.Ordinal);
                var merged = new StringBuilder();
                foreach (var file in files)
                {
                    if (!File.Exists(file)) throw new BadInputException($"shard output {file} not found; run that shard (explain-dataset --shard i/n) first.");
                    if (Path.GetFullPath(file) == Path.GetFullPath(outPath)) throw new BadInputException($"--out {outPath} is also one of the shards; write the merge elsewhere.");
                    string text = File.ReadAllText(file, Encoding.UTF8);
                    if (text.Length > 0 && text[^1] != '\n')
                        throw new BadInputException($"{file} ends with a torn line (the shard was killed or is still running); finish it with explain-dataset --resume, then merge.");
                    long line = 0;
                    foreach (var row in text.Split('\n'))
                    {
                        line++; // physical line numbers, so a message points at the line an editor shows
                        if (row.Length == 0) continue;
                        string id;
                        try
                        {
                            using var doc = JsonDocument.Parse(row);
                            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("id", out var idElement))
                                throw new BadInputException($"{file} line {line} is not an explain-dataset result (a JSON object with an id).");
                            id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : idElement.GetRawText();
                        }
                        catch (JsonException e)
                        {
                            throw new BadInputException($"{file} line {line} is not valid JSON ({e.Message}).");
                        }
                        if (ids.TryGetValue(id, out var first))
                            throw new BadInputException($"id '{id}' is in {first.File} line {first.Line} and again in {file} line {line}: the shards overlap (give each shard once, all with the same n).");
                        ids[id] = (file, line);
                        merged.Append(row).Append('\n');
                    }
                }
                if (parse.GetValue(expectOption) is int expected && expected != ids.Count)
                    throw new BadInputException($"the shards hold {ids.Count} examples but --expect says {expected}: a shard is missing or incomplete.");
                AtomicFile.WriteAllText(outPath, merged.ToString());
                stderr.WriteLine($"merge-results: {ids.Count} examples from {files.Length} shard(s) → {outPath}");
                return Program.ExitOk;
            }
            catch (BadInputException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
        });
        return command;
    }
}
