// Reads a dataset file named by --data into datapoints. TSV and CSV need a header row; JSONL has one
// object per line. Columns are found by their usual names (GLUE/SST-2's `sentence`, `text`,
// `question`; `pair`, `context`, `hypothesis`, `sentence2`; `label`; `id`/`idx`). Errors name the
// file, the line and the way out; nothing is served from a file that failed to load.
using System.Text;
using System.Text.Json;

namespace Glassbox.Server;

internal static class DatasetLoader
{
    private static readonly string[] TextNames = ["text", "sentence", "question", "premise", "sentence1", "prompt"];
    private static readonly string[] PairNames = ["pair", "context", "hypothesis", "sentence2"];
    private static readonly string[] LabelNames = ["label", "labels", "gold", "answer", "target"];
    private static readonly string[] IdNames = ["id", "idx", "guid"];

    public static ServedDataset Load(DatasetSource source, long maxBytes = 512L << 20)
    {
        string path = source.Path;
        if (!File.Exists(path))
            throw new ArgumentException($"--data {source.Name}={path}: file not found. Pass a TSV, CSV or JSONL file with a header (e.g. sentence<TAB>label).");
        var info = new FileInfo(path);
        if (info.Length > maxBytes)
            throw new ArgumentException($"--data {source.Name}={path}: the file has {info.Length:N0} bytes; the app loads datasets up to {maxBytes:N0} bytes. Sample it first.");
        string ext = Path.GetExtension(path).ToLowerInvariant();
        List<Dictionary<string, string?>> rows;
        try
        {
            rows = ext switch
            {
                ".jsonl" or ".json" => ReadJsonl(path),
                ".csv" => ReadDelimited(path, ','),
                _ => ReadDelimited(path, '\t'),
            };
        }
        catch (FormatException e) { throw new ArgumentException($"--data {source.Name}={path}: {e.Message}"); }
        if (rows.Count == 0) throw new ArgumentException($"--data {source.Name}={path}: the file has no examples.");
        var columns = rows[0].Keys.ToList();
        string? Find(string[] names) => names.Select(n => columns.FirstOrDefault(c => string.Equals(c, n, StringComparison.OrdinalIgnoreCase))).FirstOrDefault(c => c is not null);
        string text = Find(TextNames) ?? throw new ArgumentException(
            $"--data {source.Name}={path}: no text column; the columns are {string.Join(", ", columns)}. Name the text column one of: {string.Join(", ", TextNames)}.");
        string? pair = Find(PairNames), label = Find(LabelNames), id = Find(IdNames);
        var examples = new List<Datapoint>(rows.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            string exampleId = id is not null && r.GetValueOrDefault(id) is { Length: > 0 } v ? v : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!seen.Add(exampleId)) throw new ArgumentException($"--data {source.Name}={path}: id '{exampleId}' appears twice (example {i + 1}); ids must be unique.");
            examples.Add(new Datapoint
            {
                Id = exampleId,
                Text = (r.GetValueOrDefault(text) ?? "").Trim(),
                Pair = pair is null ? null : r.GetValueOrDefault(pair)?.Trim(),
                Label = label is null ? null : r.GetValueOrDefault(label)?.Trim(),
            });
        }
        string[] labels = label is null ? [] : examples.Select(e => e.Label ?? "").Where(l => l.Length > 0).Distinct().Order(StringComparer.Ordinal).Take(1000).ToArray();
        return new ServedDataset
        {
            Name = source.Name, File = Path.GetFullPath(path), Examples = examples, HasPair = pair is not null, HasLabel = label is not null,
            Labels = labels.Length < 1000 ? labels : [],
        };
    }

    private static List<Dictionary<string, string?>> ReadJsonl(string path)
    {
        var rows = new List<Dictionary<string, string?>>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new FormatException($"line {lineNo} is not JSON: {e.Message}"); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException($"line {lineNo} is not a JSON object.");
                var row = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                foreach (var p in doc.RootElement.EnumerateObject())
                    row[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString(),
                        JsonValueKind.Null => null,
                        _ => p.Value.GetRawText(),
                    };
                rows.Add(row);
            }
        }
        return rows;
    }

    /// <summary>RFC 4180 quoting for CSV; TSV lines are split on tabs (GLUE's files contain quotes as text).</summary>
    private static List<Dictionary<string, string?>> ReadDelimited(string path, char sep)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        var records = sep == ',' ? ReadCsvRecords(reader) : ReadTsvRecords(reader);
        using var e = records.GetEnumerator();
        if (!e.MoveNext()) return [];
        var header = e.Current.Select(h => h.Trim().TrimStart('\uFEFF')).ToArray();
        var rows = new List<Dictionary<string, string?>>();
        int line = 1;
        while (e.MoveNext())
        {
            line++;
            var f = e.Current;
            if (f.Count == 1 && f[0].Length == 0) continue;
            if (f.Count != header.Length)
                throw new FormatException($"row {line} has {f.Count} fields but the header has {header.Length} ({string.Join(", ", header)}).");
            var row = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < header.Length; i++) row[header[i]] = f[i];
            rows.Add(row);
        }
        return rows;
    }

    private static IEnumerable<List<string>> ReadTsvRecords(StreamReader r)
    {
        string? line;
        while ((line = r.ReadLine()) is not null) yield return [.. line.Split('\t')];
    }

    private static IEnumerable<List<string>> ReadCsvRecords(StreamReader r)
    {
        var fields = new List<string>();
        var cur = new StringBuilder();
        bool quoted = false, any = false;
        int c;
        while ((c = r.Read()) >= 0)
        {
            any = true;
            char ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (r.Peek() == '"') { r.Read(); cur.Append('"'); }
                    else quoted = false;
                }
                else cur.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(cur.ToString()); cur.Clear(); }
            else if (ch == '\r') { }
            else if (ch == '\n') { fields.Add(cur.ToString()); cur.Clear(); yield return fields; fields = []; any = false; }
            else cur.Append(ch);
        }
        if (quoted) throw new FormatException("a quoted field is not closed before the end of the file.");
        if (any) { fields.Add(cur.ToString()); yield return fields; }
    }
}
