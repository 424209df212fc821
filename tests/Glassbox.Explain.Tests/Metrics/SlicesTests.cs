using Glassbox.Explain.Metrics;

namespace Glassbox.Explain.Tests.Metrics;

public class SlicesTests
{
    private static IReadOnlyList<IReadOnlyDictionary<string, string>> Rows(params (string Text, string Len)[] rows) =>
        rows.Select(r => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { ["text"] = r.Text, ["len"] = r.Len }).ToList();

    [Fact]
    public void ByFieldRegexPredictionAndCorrectness()
    {
        var rows = Rows(("great film", "1"), ("not good", "2"), ("great, not bad", "3"), ("bad", "4"));
        var byText = Slices.ByField(rows, "text");
        Assert.Equal(4, byText.Count);
        Assert.Equal("text=great film", byText[0].Name);
        var re = Slices.ByRegex(rows, "text", @"\bnot\b");
        Assert.Equal([1, 2], re.Indices);
        Assert.Equal("text~/\\bnot\\b/", re.Name);
        Assert.Equal([0, 2], Slices.ByRegex(rows, "text", "GREAT", ignoreCase: true).Indices);
        int[] gold = [1, 0, 1, 0], pred = [1, 1, 0, 0];
        var byPred = Slices.ByPrediction(pred, ["neg", "pos"]);
        Assert.Equal([2, 3], byPred[0].Indices);
        Assert.Equal("prediction=pos", byPred[1].Name);
        var corr = Slices.ByCorrectness(gold, pred);
        Assert.Equal([0, 3], corr[0].Indices);
        Assert.Equal([1, 2], corr[1].Indices);
        Assert.Equal([1], Slices.Intersect(re, byPred[1]).Indices);
        Assert.Equal("text~/\\bnot\\b/ & prediction=pos", Slices.Intersect(re, byPred[1]).Name);
        Assert.Equal([0, 1, 2, 3], Slices.Union(re, corr[0]).Indices);
    }

    [Fact]
    public void MissingFieldsFormTheirOwnValue()
    {
        var rows = new List<IReadOnlyDictionary<string, string>>
        {
            new Dictionary<string, string> { ["genre"] = "drama" },
            new Dictionary<string, string>(),
            new Dictionary<string, string> { ["genre"] = "drama" },
        };
        var s = Slices.ByField(rows, "genre");
        Assert.Equal(["genre=drama", "genre=(missing)"], s.Select(x => x.Name));
        Assert.Equal([0, 2], s[0].Indices);
        Assert.Empty(Slices.ByRegex(rows, "genre", "comedy").Indices);
    }

    [Fact]
    public void EqualWidthBinsFollowNumpyHistogram()
    {
        // np.histogram([0, 1, 2, 3, 4], bins=4) → edges 0,1,2,3,4, counts [1, 1, 1, 2] (last bin closed)
        var rows = Rows(("a", "0"), ("b", "1"), ("c", "2"), ("d", "3"), ("e", "4"), ("f", "n/a"), ("g", ""));
        var bins = Slices.BinEqualWidth(rows, "len", 4);
        Assert.Equal([1, 1, 1, 2], bins.Take(4).Select(b => b.Count));
        Assert.Equal("len∈[0, 1)", bins[0].Name);
        Assert.Equal("len∈[3, 4]", bins[3].Name);
        Assert.Equal("len=(missing)", bins[4].Name);
        Assert.Equal([6], bins[4].Indices);
        Assert.Equal("len=(non-numeric)", bins[5].Name);
        // a constant field: numpy uses the range [v − ½, v + ½]
        var constant = Slices.BinEqualWidth(Rows(("a", "2"), ("b", "2")), "len", 2);
        Assert.Equal([0, 2], constant.Select(b => b.Count));
    }

    [Fact]
    public void QuantileBinsFollowPandasQcut()
    {
        // pd.qcut(range 1..10, 4): edges [1, 3.25, 5.5, 7.75, 10] → {1,2,3}, {4,5}, {6,7}, {8,9,10}
        var rows = Rows(Enumerable.Range(1, 10).Select(i => ("x", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        var q = Slices.BinQuantile(rows, "len", 4);
        Assert.Equal([3, 2, 2, 3], q.Select(b => b.Count));
        Assert.Equal("len∈[1, 3.25]", q[0].Name);
        Assert.Equal("len∈(3.25, 5.5]", q[1].Name);
        // ties: qcut([1, 1, 1, 1, 2], 2, duplicates="drop") → edges [1, 2]: one bin holding everything
        var tied = Slices.BinQuantile(Rows(("a", "1"), ("b", "1"), ("c", "1"), ("d", "1"), ("e", "2")), "len", 2);
        Assert.Single(tied);
        Assert.Equal(5, tied[0].Count);
        Assert.Equal(3.25, Slices.Quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.25), 12);
    }

    [Fact]
    public void MetricsBySliceHandleEmptyAndSingleClassSlices()
    {
        int[] gold = [0, 0, 1, 1, 0], pred = [0, 1, 1, 1, 0];
        double[][] p = [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]];
        var slices = new List<Slice> { Slices.All(5), new("first two", [0, 1]), new("nothing", []) };
        var r = Slices.ClassificationBySlice(slices, gold, pred, p, ["neg", "pos"]);
        Assert.Equal(0.8, r[0].Metrics!.Accuracy, 12);
        Assert.Equal(1.0, r[0].Metrics!.RocAuc!.Value, 12);
        Assert.Equal(0.5, r[1].Metrics!.Accuracy, 12);
        Assert.Null(r[1].Metrics!.RocAuc); // single-class slice
        Assert.Null(r[2].Metrics);
        Assert.Equal("empty slice", r[2].Note);
        var reg = Slices.RegressionBySlice([new Slice("odd", [1, 3])], [1, 2, 3, 4], [1, 2.5, 3, 3]);
        Assert.Equal((0.25 + 1) / 2, reg[0].Metrics!.MeanSquaredError, 12);
    }

    [Fact]
    public void SlicesRefuseBadInput()
    {
        var rows = Rows(("a", "1"));
        var ex = Assert.Throws<ArgumentException>(() => Slices.ByField(rows, "label"));
        Assert.Contains("no row has a field 'label'", ex.Message);
        Assert.Contains("text, len", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Slices.ByRegex(rows, "text", "(unclosed"));
        Assert.Contains("not a valid regular expression", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Slices.BinEqualWidth(rows, "text", 3));
        Assert.Contains("holds no number", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Slices.BinQuantile(rows, "len", 0));
        ex = Assert.Throws<ArgumentException>(() => Slices.ClassificationBySlice([new Slice("s", [5])], [0, 1], [0, 1], null, ["a", "b"]));
        Assert.Contains("holds row 5, but the dataset has 2 rows", ex.Message);
    }
}
