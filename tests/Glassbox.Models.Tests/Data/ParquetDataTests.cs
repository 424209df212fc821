using Glassbox.Models.Data;
using Parquet;
using Parquet.Schema;

namespace Glassbox.Models.Tests.Data;

public sealed class ParquetDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("glassbox-parquet-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, params (DataField Field, Func<ParquetRowGroupWriter, DataField, Task> Write)[] columns) =>
        WriteGroups(name, [columns]);

    private string WriteGroups(string name, IEnumerable<(DataField Field, Func<ParquetRowGroupWriter, DataField, Task> Write)[]> groups)
    {
        var path = Path.Combine(_dir, name);
        var list = groups.ToList();
        var schema = new ParquetSchema(list[0].Select(c => (Field)c.Field).ToArray());
        using (var stream = File.Create(path))
        {
            var writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
            foreach (var columns in list)
            {
                using var group = writer.CreateRowGroup();
                foreach (var (field, write) in columns) write(group, field).GetAwaiter().GetResult();
            }
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return path;
    }

    private static (DataField, Func<ParquetRowGroupWriter, DataField, Task>) Strings(string name, params string?[] values) =>
        (new DataField<string>(name), (g, f) => g.WriteAsync(f, values.ToArray(), null));

    private static (DataField, Func<ParquetRowGroupWriter, DataField, Task>) Ints(string name, params int[] values) =>
        (new DataField<int>(name), (g, f) => g.WriteAsync<int>(f, values.AsMemory(), null, null, default));

    private static (DataField, Func<ParquetRowGroupWriter, DataField, Task>) Doubles(string name, params double?[] values) =>
        (new DataField<double?>(name), (g, f) => g.WriteAsync<double>(f, values.AsMemory(), null, null, default));

    [Fact]
    public void ReadsTextNumbersAndNullsWithAColumnMapping()
    {
        var path = Write("reviews.parquet",
            Strings("review", "a quiet triumph", "\"quoted\", with commas\nand a line break", "ünïcödé ✓"),
            Ints("stars", 5, 1, 3),
            Doubles("score", 0.25, null, 1e-7),
            Strings("note", "x", null, "z"));
        Assert.Equal(["review", "stars", "score", "note"], TabularData.Columns(path));
        var rows = TabularData.Read(path, new DataColumns("review", Label: "stars", Pair: "note")).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(["0", "1", "2"], rows.Select(r => r.Id));
        Assert.Equal("\"quoted\", with commas\nand a line break", rows[1].Text);
        Assert.Equal("ünïcödé ✓", rows[2].Text);
        Assert.Equal(["5", "1", "3"], rows.Select(r => r.Label));
        Assert.Null(rows[1].Pair);
        Assert.Equal("0.25", rows[0].Fields["score"]);
        Assert.False(rows[1].Fields.ContainsKey("score"));
        Assert.Equal("1E-07", rows[2].Fields["score"]);
    }

    [Fact]
    public void StreamsAcrossRowGroupsAndUsesAnIdColumn()
    {
        // Every row group writes the same schema fields.
        DataField text = new DataField<string>("text"), id = new DataField<string>("id");
        var groups = Enumerable.Range(0, 3).Select(g => new (DataField, Func<ParquetRowGroupWriter, DataField, Task>)[]
        {
            (text, (w, f) => w.WriteAsync(f, Enumerable.Range(0, 4).Select(i => (string?)$"row {g * 4 + i}").ToArray(), null)),
            (id, (w, f) => w.WriteAsync(f, Enumerable.Range(0, 4).Select(i => (string?)$"ex-{g * 4 + i}").ToArray(), null)),
        });
        var path = WriteGroups("groups.parquet", groups);
        var rows = TabularData.Read(path, new DataColumns("text", Id: "id")).ToList();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"row {i}"), rows.Select(r => r.Text));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"ex-{i}"), rows.Select(r => r.Id));
    }

    [Fact]
    public void BadInputNamesTheFileAndColumns()
    {
        var path = Write("data.parquet", Strings("sentence", "a", null), Ints("label", 0, 1));
        var missing = Assert.Throws<DataFormatException>(() => TabularData.Read(path, new DataColumns("text")));
        Assert.Contains("column 'text' not found", missing.Message);
        Assert.Contains("sentence, label", missing.Message);
        var nullText = Assert.Throws<DataFormatException>(() => TabularData.Read(path, new DataColumns("sentence")).ToList());
        Assert.Contains("'sentence' is null", nullText.Message);
        var notParquet = Path.Combine(_dir, "fake.parquet");
        File.WriteAllText(notParquet, "sentence,label\nhello,1\n");
        var bad = Assert.Throws<DataFormatException>(() => TabularData.Columns(notParquet));
        Assert.Contains("not a Parquet file", bad.Message);
        Assert.Contains("fake.parquet", bad.Message);
        Assert.Throws<FileNotFoundException>(() => TabularData.Columns(Path.Combine(_dir, "absent.parquet")));
    }
}
