// Parquet datasets for TabularData: flat columns of strings, booleans, integers and floating-point
// numbers (nullable or not), read one row group at a time so a large file is never held whole.
// Values become strings as the other formats give them (numbers in invariant culture, booleans as
// true/false); a null is a missing value (an error for the text or id column, null for label/pair).
using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace Glassbox.Models.Data;

internal static class ParquetData
{
    public static IReadOnlyList<string> Columns(string path)
    {
        var reader = Open(path);
        try
        {
            return reader.Schema.Fields.Select(f => f.Name).ToArray();
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public static IEnumerable<DataRow> Read(string path, DataColumns columns)
    {
        var reader = Open(path);
        try
        {
            foreach (var row in Rows(path, reader, columns)) yield return row;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static IEnumerable<DataRow> Rows(string path, ParquetReader reader, DataColumns columns)
    {
        var fields = reader.Schema.Fields.ToArray();
        foreach (var f in fields)
        {
            if (f is not DataField d || d.IsArray)
                throw new DataFormatException($"{path}: column '{f.Name}' is a nested or list column ({f.SchemaType}); Glassbox reads flat columns of text, numbers and booleans.", path, column: f.Name);
        }
        var dataFields = fields.Cast<DataField>().ToArray();
        long row = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            string?[][] values;
            int count;
            using (var group = reader.OpenRowGroupReader(g))
            {
                count = checked((int)group.RowCount);
                values = dataFields.Select(f => ReadColumn(path, group, f, count)).ToArray();
            }
            for (int i = 0; i < count; i++)
            {
                var dict = new Dictionary<string, string>(StringComparer.Ordinal);
                for (int c = 0; c < dataFields.Length; c++)
                    if (values[c][i] is { } v) dict[dataFields[c].Name] = v;
                string? Get(string? name, bool required, string option)
                {
                    if (name is null) return null;
                    if (dict.TryGetValue(name, out var v)) return v;
                    if (required)
                        throw new DataFormatException($"{path} row {row}: '{name}' is null; it must be a value (check {option})", path, row + 1, name);
                    return null;
                }
                string text = Get(columns.Text, true, "--text-column")!;
                string? pair = Get(columns.Pair, false, "--pair-column");
                string? label = Get(columns.Label, false, "--label-column");
                string id = Get(columns.Id, true, "--id-column") ?? row.ToString(CultureInfo.InvariantCulture);
                yield return new DataRow(id, text, pair, label, dict);
                row++;
            }
        }
    }

    private static ParquetReader Open(string path)
    {
        try
        {
            return ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not FileNotFoundException and not DataFormatException and not OutOfMemoryException)
        {
            throw new DataFormatException($"{path} is not a Parquet file Glassbox can read: {e.Message}", path, inner: e);
        }
    }

    private static string?[] ReadColumn(string path, ParquetRowGroupReader group, DataField field, int count)
    {
        var type = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var buffer = new string?[count];
            group.ReadAsync(field, buffer.AsMemory(), null).AsTask().GetAwaiter().GetResult();
            return buffer;
        }
        if (type == typeof(bool)) return Read<bool>(group, field, count, v => v ? "true" : "false");
        if (type == typeof(int)) return Read<int>(group, field, count, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(long)) return Read<long>(group, field, count, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(short)) return Read<short>(group, field, count, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(byte)) return Read<byte>(group, field, count, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(sbyte)) return Read<sbyte>(group, field, count, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(float)) return Read<float>(group, field, count, v => v.ToString("R", CultureInfo.InvariantCulture));
        if (type == typeof(double)) return Read<double>(group, field, count, v => v.ToString("R", CultureInfo.InvariantCulture));
        if (type == typeof(decimal)) return Read<decimal>(group, field, count, v => v.ToString(CultureInfo.InvariantCulture));
        throw new DataFormatException($"{path}: column '{field.Name}' has type {type.Name}; Glassbox reads text, numbers and booleans.", path, column: field.Name);
    }

    private static string?[] Read<T>(ParquetRowGroupReader group, DataField field, int count, Func<T, string> format) where T : struct
    {
        var result = new string?[count];
        if (field.IsNullable)
        {
            var buffer = new T?[count];
            group.ReadAsync(field, buffer.AsMemory(), null).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < count; i++) result[i] = buffer[i] is { } v ? format(v) : null;
        }
        else
        {
            var buffer = new T[count];
            group.ReadAsync(field, buffer.AsMemory(), null).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < count; i++) result[i] = format(buffer[i]);
        }
        return result;
    }
}
