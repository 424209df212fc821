// A dataset given to the web app from code: its fields (a spec, as LIT's Dataset.spec()) and its
// examples. Build one from any source with the constructor, or read CSV/TSV/JSONL/Parquet with a
// column mapping through FromFile (Glassbox.Models.Data.TabularData).
using Glassbox.Models.Data;

namespace Glassbox.Explain.Extensions;

/// <summary>Examples with declared fields: one or two TextSegment fields, an optional gold CategoryLabel or Scalar,
/// and an optional Id.</summary>
public sealed class TextDataset
{
    /// <summary>Creates a dataset; the spec is checked (see <see cref="Validate"/>) and every example must have the
    /// required text field.</summary>
    /// <exception cref="SpecException">the spec or an example does not fit (the message names the field or example).</exception>
    public TextDataset(IReadOnlyDictionary<string, FieldType> spec, IEnumerable<FieldValues> examples)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(examples);
        Spec = spec;
        Validate();
        Examples = examples.ToArray();
        string text = TextField;
        for (int i = 0; i < Examples.Count; i++)
        {
            if (Examples[i] is null) throw new SpecException($"example {i} is null.");
            if (Examples[i].TryGetValue(text, out var v) && v is not (string or null))
                throw new SpecException($"example {i}: field '{text}' is {v.GetType().Name}; TextSegment fields hold strings.");
        }
    }

    /// <summary>The fields every example carries, by name.</summary>
    public IReadOnlyDictionary<string, FieldType> Spec { get; }

    /// <summary>The examples, in order.</summary>
    public IReadOnlyList<FieldValues> Examples { get; }

    /// <summary>The first TextSegment field.</summary>
    public string TextField => Spec.First(kv => kv.Value.Type == FieldType.TextSegmentType).Key;

    /// <summary>The second TextSegment field, or null.</summary>
    public string? PairField => Spec.Where(kv => kv.Value.Type == FieldType.TextSegmentType).Skip(1).Select(kv => kv.Key).FirstOrDefault();

    /// <summary>The gold field (CategoryLabel or Scalar), or null.</summary>
    public string? LabelField => Spec.FirstOrDefault(kv => kv.Value.Type is FieldType.CategoryLabelType or FieldType.ScalarType).Key;

    /// <summary>The Id field, or null (ids are then the row numbers).</summary>
    public string? IdField => Spec.FirstOrDefault(kv => kv.Value.Type == FieldType.IdType).Key;

    /// <summary>Reads a CSV, TSV, JSONL or Parquet file with the given column mapping; a missing column is an error
    /// listing the file's columns.</summary>
    /// <exception cref="DataFormatException">the file cannot be read or a column is missing.</exception>
    public static TextDataset FromFile(string path, DataColumns columns, int? limit = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(columns);
        var spec = new Dictionary<string, FieldType> { ["id"] = new(FieldType.IdType), ["text"] = FieldType.TextSegment() };
        if (columns.Pair is not null) spec["pair"] = FieldType.TextSegment();
        if (columns.Label is not null) spec["label"] = FieldType.CategoryLabel();
        var examples = new List<FieldValues>();
        foreach (var row in TabularData.Read(path, columns))
        {
            if (limit is int n && examples.Count >= n) break;
            var e = new FieldValues { ["id"] = row.Id, ["text"] = row.Text };
            if (columns.Pair is not null) e["pair"] = row.Pair;
            if (columns.Label is not null) e["label"] = row.Label;
            examples.Add(e);
        }
        return new TextDataset(spec, examples);
    }

    private void Validate()
    {
        foreach (var (name, f) in Spec)
        {
            if (f is null) throw new SpecException($"dataset field '{name}' has no type.");
            if (!FieldType.KnownDataFields.Contains(f.Type))
                throw new SpecException(FieldType.Known.Contains(f.Type)
                    ? $"dataset field '{name}' is {f.Type}, a model output; dataset fields are {string.Join(", ", FieldType.KnownDataFields)}."
                    : $"dataset field '{name}' has type '{f.Type}', which the server does not know; dataset field types: {string.Join(", ", FieldType.KnownDataFields)}.");
        }
        int texts = Spec.Values.Count(f => f.Type == FieldType.TextSegmentType);
        if (texts is 0 or > 2)
            throw new SpecException($"a dataset has one or two TextSegment fields (text, and a pair or context); this spec has {texts}.");
        if (Spec.Values.Count(f => f.Type is FieldType.CategoryLabelType or FieldType.ScalarType) > 1)
            throw new SpecException("a dataset has at most one gold field (CategoryLabel or Scalar).");
        if (Spec.Values.Count(f => f.Type == FieldType.IdType) > 1)
            throw new SpecException("a dataset has at most one Id field.");
    }
}
