// Reads a dataset file named by --data into datapoints with Glassbox.Models.Data.TabularData (CSV,
// GLUE-style TSV, JSON Lines, Parquet), with the columns named by --text-column/--pair-column/--label-column or,
// without them, found by their usual names. Columns are found by their usual names (GLUE/SST-2's `sentence`,
// `text`, `question`; `pair`, `context`, `hypothesis`, `sentence2`; `label`; `id`/`idx`). Errors name
// the option, the file, the line and the way out; nothing is served from a file that failed to load.
using Glassbox.Models.Data;

namespace Glassbox.Server;

internal static class DatasetLoader
{
    private static readonly string[] TextNames = ["text", "sentence", "question", "premise", "sentence1", "prompt"];
    private static readonly string[] PairNames = ["pair", "context", "hypothesis", "sentence2"];
    private static readonly string[] LabelNames = ["label", "labels", "gold", "answer", "target"];
    private static readonly string[] IdNames = ["id", "idx", "guid"];

    /// <summary>Most examples one dataset may have (the table and projector hold them all in the page).</summary>
    public const int MaxExamples = 200_000;

    /// <summary>Most extra columns (besides text, pair, label, id) kept as datapoint fields.</summary>
    public const int MaxExtraFields = 50;

    public static ServedDataset Load(DatasetSource source)
    {
        string path = source.Path;
        string where = $"--data {source.Name}={path}";
        if (!File.Exists(path))
            throw new ArgumentException($"{where}: file not found. Pass a CSV, TSV, JSONL or Parquet file with a header (e.g. sentence<TAB>label).");
        var examples = new List<Datapoint>();
        string? pair, label;
        string[] extra;
        try
        {
            var columns = TabularData.Columns(path);
            string? Find(string[] names) => names.Select(n => columns.FirstOrDefault(c => string.Equals(c.Trim(), n, StringComparison.OrdinalIgnoreCase))).FirstOrDefault(c => c is not null);
            string text;
            string? id;
            if (source.Columns is { } given)
            {
                // Named columns must exist: the error lists the file's columns (TabularData checks again while reading).
                foreach (var (column, option) in new[] { (given.Text, "--text-column"), (given.Pair, "--pair-column"), (given.Label, "--label-column"), (given.Id, "--id-column") })
                {
                    if (column is not null && !columns.Contains(column))
                        throw new ArgumentException($"{where}: {option} '{column}' is not a column of the file; its columns are {string.Join(", ", columns)}.");
                }
                (text, pair, label, id) = (given.Text, given.Pair, given.Label, given.Id ?? Find(IdNames));
            }
            else
            {
                text = Find(TextNames) ?? throw new ArgumentException(
                    $"{where}: no text column; the columns are {string.Join(", ", columns)}. Name the text column one of: {string.Join(", ", TextNames)}, or pass --text-column.");
                pair = Find(PairNames); label = Find(LabelNames);
                id = Find(IdNames);
            }
            extra = columns.Where(c => c != text && c != pair && c != label && c != id).ToArray();
            if (extra.Length > MaxExtraFields)
                throw new ArgumentException($"{where}: {extra.Length} columns besides text, pair, label and id; the app shows at most {MaxExtraFields}. Drop the columns you do not need.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var row in TabularData.Read(path, new DataColumns(text, label, pair, id)))
            {
                if (examples.Count == MaxExamples)
                    throw new ArgumentException($"{where}: more than {MaxExamples:N0} examples; the app holds a dataset in the page. Sample it first.");
                if (!seen.Add(row.Id)) throw new ArgumentException($"{where}: id '{row.Id}' appears twice; ids must be unique.");
                var fields = extra.Length == 0 ? null
                    : extra.ToDictionary(c => c, c => row.Fields.TryGetValue(c, out var v) ? v.Trim() : "", StringComparer.Ordinal);
                examples.Add(new Datapoint { Id = row.Id, Text = row.Text.Trim(), Pair = row.Pair?.Trim(), Label = row.Label?.Trim(), Fields = fields });
            }
        }
        catch (DataFormatException e) { throw new ArgumentException($"{where}: {e.Message}"); }
        catch (IOException e) { throw new ArgumentException($"{where}: cannot read the file: {e.Message}"); }
        if (examples.Count == 0) throw new ArgumentException($"{where}: the file has no examples.");
        string[] labels = label is null ? [] : examples.Select(e => e.Label ?? "").Where(l => l.Length > 0).Distinct().Order(StringComparer.Ordinal).Take(1001).ToArray();
        return new ServedDataset
        {
            Name = source.Name, File = Path.GetFullPath(path), Examples = examples, HasPair = pair is not null, HasLabel = label is not null,
            Labels = labels.Length <= 1000 ? labels : [],
            FieldSpecs = extra.ToDictionary(c => c, c => DatasetFields.Infer(examples.Select(e => e.Fields![c])), StringComparer.Ordinal),
        };
    }
}
