// Labelled text datasets as the trainer and dataset-scale explanation read them: CSV (RFC 4180),
// TSV as GLUE writes it (a header line, tab-separated, no quoting) and JSON Lines. The format is
// chosen by the file extension. Rows stream: a file of millions of lines is never held in memory.
//
// Column names are checked before the first row is produced (Read opens the file once to read
// the header, then again when enumerated), so a wrong --text-column fails at once with the list
// of the columns the file does have, not after a long pass.

using System.Text;
using System.Text.Json;

namespace Glassbox.Models.Data;

/// <summary>Which columns of a dataset hold the text, the optional label, the optional second text of a pair and the optional example id.</summary>
/// <param name="Text">Column with the input text (required).</param>
/// <param name="Label">Column with the label, or <c>null</c> for unlabelled data.</param>
/// <param name="Pair">Column with the second text of a pair (NLI, cross-encoders), or <c>null</c>.</param>
/// <param name="Id">Column with an example id, or <c>null</c> to use the 0-based row index.</param>
public sealed record DataColumns(string Text, string? Label = null, string? Pair = null, string? Id = null);

/// <summary>One example of a dataset.</summary>
/// <param name="Id">The id column's value, or the 0-based data-row index (blank lines not counted) as a string.</param>
/// <param name="Text">The text column's value.</param>
/// <param name="Pair">The pair column's value, or <c>null</c> when no pair column was asked for (or its JSON value is null).</param>
/// <param name="Label">The label column's value, or <c>null</c> when no label column was asked for (or its JSON value is null).</param>
/// <param name="Fields">Every column of the row by name (JSON values that are not strings as their JSON text).</param>
public sealed record DataRow(string Id, string Text, string? Pair, string? Label, IReadOnlyDictionary<string, string> Fields);

/// <summary>A dataset file that cannot be read as asked: names the file, and where known the line and column.</summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception; the message should already name the file, line and column.</summary>
    public DataFormatException(string message, string path, long? line = null, string? column = null, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = path;
        Line = line;
        Column = column;
    }

    /// <summary>The dataset file, as the caller named it.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line number of the problem, when it is on a line.</summary>
    public long? Line { get; }

    /// <summary>The column concerned, when one is.</summary>
    public string? Column { get; }
}

/// <summary>Reads CSV, TSV, JSON Lines and Parquet datasets (chosen by extension: <c>.csv</c>, <c>.tsv</c>, <c>.jsonl</c>/<c>.json</c>, <c>.parquet</c>).</summary>
/// <remarks>
/// <para>CSV follows RFC 4180: fields may be quoted with <c>"</c>, a quoted field may hold commas, line
/// breaks and doubled quotes (<c>""</c>). TSV follows GLUE: no quoting, a tab separates fields. Both
/// need a header line with unique names; every data row must have as many fields as the header.
/// Blank lines are skipped. JSON Lines: one JSON object per non-blank line; the first object's keys
/// are the columns, and later objects must hold the asked-for columns. Parquet: flat columns of text,
/// numbers and booleans, read a row group at a time; numbers are given as invariant-culture text.</para>
/// <para>A missing file raises <see cref="FileNotFoundException"/>; anything else wrong with the file
/// raises <see cref="DataFormatException"/> naming the file, line and column.</para>
/// </remarks>
public static class TabularData
{
    private enum Format { Csv, Tsv, JsonLines, Parquet }

    /// <summary>The column names: the header of a CSV/TSV file, or the keys of the first object of a JSON Lines file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">Unknown extension, no header/first object, or a malformed header.</exception>
    public static IReadOnlyList<string> Columns(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var format = FormatOf(path);
        if (format == Format.Parquet) return ParquetData.Columns(CheckExists(path));
        using var reader = Open(path);
        return format == Format.JsonLines ? FirstObjectKeys(path, reader) : ReadHeader(path, reader, format).Names;
    }

    /// <summary>
    /// Streams the rows of <paramref name="path"/>. The columns are checked against the header (or the first
    /// JSON object) before this method returns; rows are read lazily, and each enumeration reads the file again.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">A named column is missing (the message lists the columns the file has),
    /// or, while enumerating, a row is malformed (ragged, unterminated quote, invalid JSON, missing key).</exception>
    public static IEnumerable<DataRow> Read(string path, DataColumns columns)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(columns);
        var available = Columns(path);
        foreach (var (name, option) in Wanted(columns))
        {
            if (!available.Contains(name, StringComparer.Ordinal))
                throw new DataFormatException(
                    $"column '{name}' not found in {path}; columns are: {string.Join(", ", available)}. Use {option}",
                    path, column: name);
        }
        var format = FormatOf(path);
        return format switch
        {
            Format.JsonLines => ReadJsonLines(path, columns),
            Format.Parquet => ParquetData.Read(path, columns),
            _ => ReadDelimited(path, format, columns),
        };
    }

    private static IEnumerable<(string Name, string Option)> Wanted(DataColumns c)
    {
        yield return (c.Text, "--text-column");
        if (c.Label is not null) yield return (c.Label, "--label-column");
        if (c.Pair is not null) yield return (c.Pair, "--pair-column");
        if (c.Id is not null) yield return (c.Id, "--id-column");
    }

    private static Format FormatOf(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".csv" => Format.Csv,
            ".tsv" => Format.Tsv,
            ".jsonl" or ".json" or ".ndjson" => Format.JsonLines,
            ".parquet" => Format.Parquet,
            _ => throw new DataFormatException(
                $"cannot tell the format of {path} from its extension '{ext}'; use .csv, .tsv or .jsonl (JSON Lines: one object per line), or .parquet", path),
        };
    }

    private static string CheckExists(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(Directory.Exists(path) ? $"data file {path} is a folder, not a file" : $"data file {path} not found", path);
        return path;
    }

    private static StreamReader Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(Directory.Exists(path)
                ? $"data file {path} is a folder, not a file"
                : $"data file {path} not found", path);
        return new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
    }

    // ---------------------------------------------------------------- CSV / TSV

    private sealed record Header(string[] Names, Dictionary<string, int> Index);

    private static IEnumerable<(long Line, string[] Fields)> Records(string path, TextReader reader, Format format) =>
        format == Format.Csv ? CsvRecords(path, reader) : TsvRecords(reader);

    private static Header ReadHeader(string path, TextReader reader, Format format)
    {
        using var records = Records(path, reader, format).GetEnumerator();
        return ReadHeader(path, records);
    }

    private static Header ReadHeader(string path, IEnumerator<(long Line, string[] Fields)> records)
    {
        if (records.MoveNext())
        {
            var (line, fields) = records.Current;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < fields.Length; i++)
            {
                string name = fields[i];
                if (name.Length == 0)
                    throw new DataFormatException($"{path} line {line}: header field {i + 1} is empty; every column needs a name", path, line);
                if (!index.TryAdd(name, i))
                    throw new DataFormatException($"{path} line {line}: column '{name}' appears twice in the header", path, line, name);
            }
            return new Header(fields, index);
        }
        throw new DataFormatException($"{path} is empty: expected a header line with the column names", path);
    }

    private static IEnumerable<DataRow> ReadDelimited(string path, Format format, DataColumns columns)
    {
        using var reader = Open(path);
        using var records = Records(path, reader, format).GetEnumerator();
        var header = ReadHeader(path, records);
        int text = header.Index[columns.Text];
        int label = columns.Label is null ? -1 : header.Index[columns.Label];
        int pair = columns.Pair is null ? -1 : header.Index[columns.Pair];
        int id = columns.Id is null ? -1 : header.Index[columns.Id];
        long row = 0;
        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            if (fields.Length != header.Names.Length)
            {
                string more = fields.Length > header.Names.Length
                    ? $"extra field {header.Names.Length + 1} holds '{Abbreviate(fields[header.Names.Length])}'"
                    : $"column '{header.Names[fields.Length]}' is missing";
                string hint = format == Format.Tsv ? " (TSV has no quoting: a tab inside a text splits it)" : "";
                throw new DataFormatException(
                    $"{path} line {line}: {fields.Length} field(s) where the header has {header.Names.Length}; {more}{hint}",
                    path, line, fields.Length > header.Names.Length ? null : header.Names[fields.Length]);
            }
            var dict = new Dictionary<string, string>(header.Names.Length, StringComparer.Ordinal);
            for (int i = 0; i < fields.Length; i++) dict[header.Names[i]] = fields[i];
            yield return new DataRow(
                id >= 0 ? fields[id] : row.ToString(System.Globalization.CultureInfo.InvariantCulture),
                fields[text],
                pair >= 0 ? fields[pair] : null,
                label >= 0 ? fields[label] : null,
                dict);
            row++;
        }
    }

    // GLUE's TSV: no quoting at all. ReadLine splits on \n, \r\n and \r.
    private static IEnumerable<(long Line, string[] Fields)> TsvRecords(TextReader reader)
    {
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0) continue;
            yield return (line, text.Split('\t'));
        }
    }

    // RFC 4180 as a character state machine: a record ends at a line break outside quotes. A record
    // that is one empty unquoted field (a blank line) is skipped. Line numbers count physical lines,
    // and a record reports the line it starts on.
    private static IEnumerable<(long Line, string[] Fields)> CsvRecords(string path, TextReader reader)
    {
        long line = 1;
        var fields = new List<string>();
        var field = new StringBuilder();
        while (true)
        {
            long recordLine = line;
            fields.Clear();
            bool anyQuoted = false, endOfFile = false;
            while (true)
            {
                field.Clear();
                int c = reader.Read();
                bool endOfRecord;
                if (c == '"')
                {
                    anyQuoted = true;
                    long quoteLine = line;
                    while (true)
                    {
                        c = reader.Read();
                        if (c == -1)
                            throw new DataFormatException(
                                $"{path} line {quoteLine}: a quoted field (column {fields.Count + 1}) is never closed; a \" inside a quoted field must be doubled (\"\")",
                                path, quoteLine);
                        if (c == '"')
                        {
                            if (reader.Peek() == '"') { reader.Read(); field.Append('"'); continue; }
                            break;
                        }
                        if (c == '\n' || (c == '\r' && reader.Peek() != '\n')) line++;
                        field.Append((char)c);
                    }
                    c = reader.Read();
                    if (c != ',' && c != '\n' && c != '\r' && c != -1)
                        throw new DataFormatException(
                            $"{path} line {line}: unexpected '{(char)c}' after the closing quote of column {fields.Count + 1}; a \" inside a quoted field must be doubled (\"\")",
                            path, line);
                }
                else
                {
                    while (c != ',' && c != '\n' && c != '\r' && c != -1)
                    {
                        if (c == '"')
                            throw new DataFormatException(
                                $"{path} line {line}: a \" inside an unquoted field (column {fields.Count + 1}); quote the whole field and double the quote (\"\")",
                                path, line);
                        field.Append((char)c);
                        c = reader.Read();
                    }
                }
                fields.Add(field.ToString());
                endOfRecord = c != ',';
                if (c == '\r' && reader.Peek() == '\n') reader.Read();
                if (c == '\n' || c == '\r') line++;
                if (c == -1) endOfFile = true;
                if (endOfRecord) break;
            }
            bool blank = fields.Count == 1 && fields[0].Length == 0 && !anyQuoted;
            if (!blank) yield return (recordLine, fields.ToArray());
            if (endOfFile) yield break;
        }
    }

    // ---------------------------------------------------------------- JSON Lines

    private static IReadOnlyList<string> FirstObjectKeys(string path, TextReader reader)
    {
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            using var doc = ParseObject(path, line, text);
            var keys = new List<string>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (keys.Contains(p.Name, StringComparer.Ordinal))
                    throw new DataFormatException($"{path} line {line}: key '{p.Name}' appears twice in the object", path, line, p.Name);
                keys.Add(p.Name);
            }
            return keys;
        }
        throw new DataFormatException($"{path} is empty: expected JSON Lines, one object per line", path);
    }

    private static JsonDocument ParseObject(string path, long line, string text)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            string hint = line == 1 && text.TrimStart().StartsWith('[')
                ? "; the file looks like one JSON array, write one object per line (JSON Lines) instead"
                : "";
            throw new DataFormatException($"{path} line {line}: not valid JSON ({e.Message}){hint}", path, line, inner: e);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = doc.RootElement.ValueKind;
            doc.Dispose();
            string hint = kind == JsonValueKind.Array && line == 1
                ? "; the file looks like one JSON array, write one object per line (JSON Lines) instead"
                : "";
            throw new DataFormatException($"{path} line {line}: expected a JSON object, found {kind.ToString().ToLowerInvariant()}{hint}", path, line);
        }
        return doc;
    }

    private static IEnumerable<DataRow> ReadJsonLines(string path, DataColumns columns)
    {
        using var reader = Open(path);
        long line = 0, row = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            Dictionary<string, string> dict;
            HashSet<string> nulls;
            using (var doc = ParseObject(path, line, text))
            {
                dict = new Dictionary<string, string>(StringComparer.Ordinal);
                nulls = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Null) nulls.Add(p.Name);
                    dict[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                }
            }
            string? Get(string? name, bool required, string option)
            {
                if (name is null) return null;
                if (!dict.TryGetValue(name, out var value))
                    throw new DataFormatException(
                        $"{path} line {line}: the object has no key '{name}' (its keys are: {string.Join(", ", dict.Keys)}). Check {option}",
                        path, line, name);
                if (nulls.Contains(name))
                {
                    if (required)
                        throw new DataFormatException($"{path} line {line}: '{name}' is null; it must be a value", path, line, name);
                    return null;
                }
                return value;
            }
            string textValue = Get(columns.Text, true, "--text-column")!;
            string? pair = Get(columns.Pair, false, "--pair-column");
            string? label = Get(columns.Label, false, "--label-column");
            string id = Get(columns.Id, true, "--id-column") ?? row.ToString(System.Globalization.CultureInfo.InvariantCulture);
            yield return new DataRow(id, textValue, pair, label, dict);
            row++;
        }
    }

    private static string Abbreviate(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
