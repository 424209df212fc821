using Glassbox.Models.Data;

namespace Glassbox.Models.Tests.Data;

public sealed class TabularDataTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string content)
    {
        string path = _dir.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Sst2TsvReadsAllRowsWithHeaderAndLabels()
    {
        string path = Path.Combine(SharedData.Root, "data", "sst2", "dev.tsv");
        Assert.Equal(new[] { "sentence", "label" }, TabularData.Columns(path));
        var rows = TabularData.Read(path, new DataColumns("sentence", "label")).ToList();
        Assert.Equal(872, rows.Count);
        Assert.Equal("it 's a charming and often affecting journey . ", rows[0].Text);
        Assert.Equal("1", rows[0].Label);
        Assert.Equal("0", rows[0].Id);
        Assert.Equal("871", rows[^1].Id);
        Assert.Null(rows[0].Pair);
        Assert.All(rows, r => Assert.Contains(r.Label, new[] { "0", "1" }));
        // GLUE: the dev set is 444 positive / 428 negative.
        Assert.Equal(444, rows.Count(r => r.Label == "1"));
    }

    [Fact]
    public void TsvHasNoQuotingAndSkipsBlankLines()
    {
        string path = Write("d.tsv", "text\tlabel\tpair\r\n\"quoted\" stays\tpos\tp1\r\n\r\nsecond, with comma\tneg\tp2\n");
        var rows = TabularData.Read(path, new DataColumns("text", "label", "pair")).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("\"quoted\" stays", rows[0].Text);
        Assert.Equal("p1", rows[0].Pair);
        Assert.Equal("second, with comma", rows[1].Text);
        Assert.Equal("1", rows[1].Id);
        Assert.Equal("neg", rows[1].Fields["label"]);
    }

    [Fact]
    public void CsvFollowsRfc4180()
    {
        string content =
            "id,text,label\r\n" +
            "a1,plain,pos\r\n" +
            "a2,\"with, comma\",neg\r\n" +
            "a3,\"say \"\"hi\"\"\",pos\r\n" +
            "a4,\"two\r\nlines\",neg\r\n" +
            "\r\n" +
            "a5,,pos\r\n" +
            "a6,\"\",neg";                       // no final line break
        string path = Write("d.csv", content);
        var rows = TabularData.Read(path, new DataColumns("text", "label", Id: "id")).ToList();
        Assert.Equal(new[] { "a1", "a2", "a3", "a4", "a5", "a6" }, rows.Select(r => r.Id));
        Assert.Equal(new[] { "plain", "with, comma", "say \"hi\"", "two\r\nlines", "", "" }, rows.Select(r => r.Text));
        Assert.Equal(new[] { "pos", "neg", "pos", "neg", "pos", "neg" }, rows.Select(r => r.Label));
    }

    [Fact]
    public void CsvLineNumbersCountEmbeddedLineBreaks()
    {
        // Record 2 spans lines 2-4; the ragged record is on line 5.
        string path = Write("d.csv", "text,label\n\"a\nb\nc\",1\nonly-one-field\n");
        var e = Assert.Throws<DataFormatException>(() => TabularData.Read(path, new DataColumns("text", "label")).ToList());
        Assert.Equal(5, e.Line);
        Assert.Contains("line 5", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("'label' is missing", e.Message);
        Assert.Equal("label", e.Column);
    }

    [Fact]
    public void UnicodeAndByteOrderMarkSurvive()
    {
        string text = "naïve café 😀 日本語 עברית";
        string path = _dir.File("u.csv");
        File.WriteAllText(path, $"text,label\n\"{text}\",1\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(new[] { "text", "label" }, TabularData.Columns(path));     // the BOM is not part of the first name
        Assert.Equal(text, TabularData.Read(path, new DataColumns("text", "label")).Single().Text);

        string jsonl = Write("u.jsonl", "{\"text\":\"" + text + "\",\"label\":\"\\u00e9\"}\n");
        var row = TabularData.Read(jsonl, new DataColumns("text", "label")).Single();
        Assert.Equal(text, row.Text);
        Assert.Equal("é", row.Label);
    }

    [Fact]
    public void JsonLinesRendersNonStringValuesAsJsonText()
    {
        string path = Write("d.jsonl",
            "{\"text\":\"good\",\"label\":1,\"score\":0.5,\"ok\":true,\"meta\":{\"a\":[1,2]},\"pair\":null}\n" +
            "\n   \n" +
            "{\"text\":\"bad\",\"label\":\"neg\",\"pair\":\"p\"}\n");
        Assert.Equal(new[] { "text", "label", "score", "ok", "meta", "pair" }, TabularData.Columns(path));
        var rows = TabularData.Read(path, new DataColumns("text", "label", "pair")).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("1", rows[0].Label);
        Assert.Equal("0.5", rows[0].Fields["score"]);
        Assert.Equal("true", rows[0].Fields["ok"]);
        Assert.Equal("{\"a\":[1,2]}", rows[0].Fields["meta"]);
        Assert.Null(rows[0].Pair);                       // JSON null in an optional column
        Assert.Equal("null", rows[0].Fields["pair"]);
        Assert.Equal("p", rows[1].Pair);
        Assert.Equal("1", rows[1].Id);                   // blank lines are not rows
    }

    [Fact]
    public void JsonLinesErrorsNameTheLine()
    {
        string bad = Write("bad.jsonl", "{\"text\":\"a\"}\n{\"text\": oops}\n");
        var e = Assert.Throws<DataFormatException>(() => TabularData.Read(bad, new DataColumns("text")).ToList());
        Assert.Equal(2, e.Line);
        Assert.Contains("bad.jsonl line 2: not valid JSON", e.Message);

        string missing = Write("missing.jsonl", "{\"text\":\"a\",\"label\":1}\n{\"txt\":\"b\",\"label\":0}\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(missing, new DataColumns("text", "label")).ToList());
        Assert.Equal(2, e.Line);
        Assert.Equal("text", e.Column);
        Assert.Contains("no key 'text'", e.Message);
        Assert.Contains("txt, label", e.Message);

        string array = Write("array.json", "[{\"text\":\"a\"}]\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Columns(array));
        Assert.Contains("one object per line", e.Message);

        string nullText = Write("null.jsonl", "{\"text\":null}\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(nullText, new DataColumns("text")).ToList());
        Assert.Contains("'text' is null", e.Message);
    }

    [Fact]
    public void MissingColumnListsTheAvailableOnesBeforeAnyRowIsRead()
    {
        string path = Write("data.tsv", "sentence\tlabel\nfine\t1\n");
        // Thrown by Read itself, not on enumeration.
        var e = Assert.Throws<DataFormatException>(() => TabularData.Read(path, new DataColumns("txt", "label")));
        Assert.Equal($"column 'txt' not found in {path}; columns are: sentence, label. Use --text-column", e.Message);
        Assert.Equal("txt", e.Column);

        e = Assert.Throws<DataFormatException>(() => TabularData.Read(path, new DataColumns("sentence", "y")));
        Assert.EndsWith("Use --label-column", e.Message);
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(path, new DataColumns("sentence", Pair: "hyp")));
        Assert.EndsWith("Use --pair-column", e.Message);

        string jsonl = Write("data.jsonl", "{\"sentence\":\"a\",\"label\":1}\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(jsonl, new DataColumns("text")));
        Assert.Contains("columns are: sentence, label", e.Message);
    }

    [Fact]
    public void RaggedRowsAreRejectedWithLineAndCounts()
    {
        string tsv = Write("r.tsv", "sentence\tlabel\nok\t1\na\ttab\t0\n");
        var e = Assert.Throws<DataFormatException>(() => TabularData.Read(tsv, new DataColumns("sentence", "label")).ToList());
        Assert.Equal(3, e.Line);
        Assert.Contains("3 field(s) where the header has 2", e.Message);
        Assert.Contains("no quoting", e.Message);

        string csv = Write("r.csv", "a,b,c\n1,2\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(csv, new DataColumns("a")).ToList());
        Assert.Equal(2, e.Line);
        Assert.Equal("c", e.Column);
    }

    [Fact]
    public void MalformedCsvQuotingIsRejected()
    {
        string open = Write("open.csv", "text,label\n\"never closed,1\nmore\n");
        var e = Assert.Throws<DataFormatException>(() => TabularData.Read(open, new DataColumns("text")).ToList());
        Assert.Equal(2, e.Line);
        Assert.Contains("never closed", e.Message);

        string stray = Write("stray.csv", "text,label\n\"a\"b,1\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(stray, new DataColumns("text")).ToList());
        Assert.Contains("after the closing quote", e.Message);

        string inner = Write("inner.csv", "text,label\nsay \"hi\",1\n");
        e = Assert.Throws<DataFormatException>(() => TabularData.Read(inner, new DataColumns("text")).ToList());
        Assert.Contains("unquoted field", e.Message);
    }

    [Fact]
    public void HeaderProblemsAreRejected()
    {
        Assert.Contains("is empty", Assert.Throws<DataFormatException>(() => TabularData.Columns(Write("e.csv", ""))).Message);
        Assert.Contains("is empty", Assert.Throws<DataFormatException>(() => TabularData.Columns(Write("e.jsonl", "\n\n"))).Message);
        Assert.Contains("appears twice", Assert.Throws<DataFormatException>(() => TabularData.Columns(Write("d.tsv", "a\ta\n"))).Message);
        Assert.Contains("is empty; every column needs a name", Assert.Throws<DataFormatException>(() => TabularData.Columns(Write("n.csv", "a,,c\n"))).Message);
    }

    [Fact]
    public void MissingFileAndUnknownExtension()
    {
        string missing = _dir.File("nope.tsv");
        var e = Assert.Throws<FileNotFoundException>(() => TabularData.Read(missing, new DataColumns("sentence")));
        Assert.Contains(missing, e.Message);
        Assert.Throws<FileNotFoundException>(() => TabularData.Columns(missing));

        var f = Assert.Throws<DataFormatException>(() => TabularData.Columns(Write("d.xlsx", "x")));
        Assert.Contains(".csv, .tsv or .jsonl", f.Message);
    }

    [Fact]
    public void RowsStreamAndEachEnumerationRereadsTheFile()
    {
        var sb = new System.Text.StringBuilder("text,label\n");
        for (int i = 0; i < 10_000; i++) sb.Append("row ").Append(i).Append(",1\n");
        sb.Append("\"broken\n");                         // an error at the very end
        string path = Write("big.csv", sb.ToString());
        var rows = TabularData.Read(path, new DataColumns("text", "label"));
        // Taking the first rows never reaches the malformed tail.
        Assert.Equal(new[] { "row 0", "row 1", "row 2" }, rows.Take(3).Select(r => r.Text));
        Assert.Equal("row 0", rows.First().Text);
        Assert.Throws<DataFormatException>(() => rows.Count());
    }
}
