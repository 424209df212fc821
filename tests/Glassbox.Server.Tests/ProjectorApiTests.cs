// The projector's background jobs and the metrics facets over dataset fields, against a server of
// their own: the trained SST-2 classifier, SST-2 dev (872 rows), its first 60 rows, and a 9-row file
// with a numeric and a categorical column whose slices and bins can be worked out by hand.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Glassbox.Explain.Projections;
using Glassbox.Server;

namespace Glassbox.Server.Tests;

public sealed class ProjectorFixture : IAsyncLifetime
{
    public GlassboxServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string Folder { get; } = Directory.CreateTempSubdirectory("glassbox-projector-tests-").FullName;

    // text (words = row number + 1, except the last), label, score (1..8, last missing), genre
    public static readonly string[] FieldRows =
    [
        "sentence\tlabel\tscore\tgenre",
        "great\t1\t1\ta",
        "truly awful\t0\t2\ta",
        "a fine film\t1\t3\ta",
        "it was very dull\t0\t4\tb",
        "one of the best films\t1\t5\tb",
        "the plot made no sense whatsoever\t0\t6\tb",
        "a warm funny and moving story overall\t1\t7\tb",
        "a tedious mess that never finds its way\t0\t8\tb",
        "lovely\t1\t\tc",
    ];

    public async Task InitializeAsync()
    {
        File.WriteAllLines(Path.Combine(Folder, "fields.tsv"), FieldRows);
        File.WriteAllLines(Path.Combine(Folder, "dev60.tsv"), File.ReadLines(Shared.Data("sst2/dev.tsv")).Take(61));
        Server = GlassboxServer.Create(new ServerOptions
        {
            Port = 0,
            Models = [new("sst2", Shared.Model("distilbert-sst2-tiny"))],
            Datasets = [new("fields", Path.Combine(Folder, "fields.tsv")), new("dev60", Path.Combine(Folder, "dev60.tsv")), new("dev", Shared.Data("sst2/dev.tsv"))],
        });
        await Server.StartAsync();
        Http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    public async Task<(int Status, JsonElement Body)> Send(HttpMethod method, string path, object? body = null)
    {
        using var req = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var res = await Http.SendAsync(req);
        string text = await res.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", res.Content.Headers.ContentType?.MediaType ?? "");
        using var doc = JsonDocument.Parse(text);
        return ((int)res.StatusCode, doc.RootElement.Clone());
    }
}

public sealed class ProjectorApiTests(ProjectorFixture f) : IClassFixture<ProjectorFixture>
{
    private static double[][] Points(JsonElement result) =>
        result.GetProperty("points").EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private async Task<(JsonElement Final, List<double> Seen, List<string> Stages)> Poll(string id, TimeSpan limit)
    {
        var seen = new List<double>(); var stages = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var (status, job) = await f.Send(HttpMethod.Get, $"/api/project/jobs/{id}");
            Assert.Equal(200, status);
            seen.Add(job.GetProperty("progress").GetDouble());
            stages.Add(job.GetProperty("stage").GetString()!);
            if (job.GetProperty("state").GetString() != "running") return (job, seen, stages);
            Assert.True(clock.Elapsed < limit, $"job {id} still running after {limit.TotalSeconds} s: {job}");
            await Task.Delay(15);
        }
    }

    [Fact]
    public async Task Umap_job_result_equals_the_library_umap_with_the_same_seed()
    {
        var (status, started) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev60", method = "umap", dimensions = 2 });
        Assert.Equal(202, status);
        Assert.Equal("running", started.GetProperty("state").GetString());
        Assert.True(started.GetProperty("progress").GetDouble() < 1);
        var (final, _, _) = await Poll(started.GetProperty("id").GetString()!, TimeSpan.FromMinutes(2));
        Assert.Equal("done", final.GetProperty("state").GetString());
        Assert.Equal(1.0, final.GetProperty("progress").GetDouble());
        var got = Points(final.GetProperty("result"));

        // The same embeddings (last block, first token) through the library's UMAP with umap-learn's defaults and seed 0.
        var host = ModelHost.Load(new ModelSource("sst2", Shared.Model("distilbert-sst2-tiny")));
        var texts = File.ReadLines(Path.Combine(f.Folder, "dev60.tsv")).Skip(1).Select(l => l.Split('\t')[0].Trim()).ToArray();
        var embeddings = texts.Select(t => ModelAnalysis.Embedding(host, new Datapoint { Text = t })).ToArray();
        var expected = Umap.Fit(embeddings, new UmapOptions(Neighbors: 15, MinDist: 0.1, Components: 2, Seed: 0)).Embedding;
        Assert.Equal(60, got.Length);
        for (int i = 0; i < 60; i++)
            for (int c = 0; c < 2; c++) Assert.Equal(expected[i][c], got[i][c], 9);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            final.GetProperty("result").GetProperty("ids").EnumerateArray().Select(x => x.GetString()));

        // Asking again gives the finished job (200), not a new computation.
        var (again, same) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev60", method = "umap", dimensions = 2 });
        Assert.Equal(200, again);
        Assert.Equal(started.GetProperty("id").GetString(), same.GetProperty("id").GetString());
        Assert.Equal("done", same.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Umap_job_on_sst2_dev_reports_rising_progress_through_every_stage_to_done()
    {
        var (status, started) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev", method = "umap", dimensions = 2 });
        Assert.Equal(202, status);
        Assert.Equal(872, started.GetProperty("count").GetInt32());
        var (final, seen, stages) = await Poll(started.GetProperty("id").GetString()!, TimeSpan.FromMinutes(3));
        Assert.Equal("done", final.GetProperty("state").GetString());
        Assert.Equal(872, Points(final.GetProperty("result")).Length);
        // progress never goes back, ends at 1, and was seen part-way (embeddings alone are 872 forward passes)
        for (int i = 1; i < seen.Count; i++) Assert.True(seen[i] >= seen[i - 1], $"progress went from {seen[i - 1]} to {seen[i]}");
        Assert.Equal(1.0, seen[^1]);
        Assert.Contains(seen, p => p > 0 && p < 1);
        // polled stages come in order (a fast stage may fall between two polls) ...
        var order = new[] { "queued", "embeddings", "neighbors", "fuzzy-set", "initialisation", "layout", "done" };
        for (int i = 1; i < stages.Count; i++)
            Assert.True(Array.IndexOf(order, stages[i]) >= Array.IndexOf(order, stages[i - 1]), $"stage went from {stages[i - 1]} to {stages[i]}");
        // ... and the job's own history has every stage once, in order, with rising start times
        var history = final.GetProperty("stages").EnumerateArray()
            .Select(s => (Name: s.GetProperty("name").GetString()!, At: s.GetProperty("startedSeconds").GetDouble())).ToList();
        Assert.Equal(["embeddings", "neighbors", "fuzzy-set", "initialisation", "layout"], history.Select(s => s.Name));
        for (int i = 1; i < history.Count; i++) Assert.True(history[i].At >= history[i - 1].At);
    }

    [Fact]
    public async Task A_cancelled_job_stops_and_says_so_and_an_unknown_job_is_a_404()
    {
        var (status, started) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev", method = "umap", dimensions = 3 });
        Assert.Equal(202, status);
        string id = started.GetProperty("id").GetString()!;
        var (del, _) = await f.Send(HttpMethod.Delete, $"/api/project/jobs/{id}");
        Assert.Equal(200, del);
        var (final, _, _) = await Poll(id, TimeSpan.FromSeconds(30));
        Assert.Equal("cancelled", final.GetProperty("state").GetString());
        Assert.False(final.TryGetProperty("result", out _));
        Assert.True(final.GetProperty("progress").GetDouble() < 1);

        // A cancelled job is not reused: the same request starts a new one.
        var (again, fresh) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev", method = "umap", dimensions = 3 });
        Assert.Equal(202, again);
        Assert.NotEqual(id, fresh.GetProperty("id").GetString());
        await f.Send(HttpMethod.Delete, $"/api/project/jobs/{fresh.GetProperty("id").GetString()}");

        var (missing, error) = await f.Send(HttpMethod.Get, "/api/project/jobs/p999999");
        Assert.Equal(404, missing);
        Assert.Equal("unknown_job", error.GetProperty("code").GetString());
        var (bad, badDims) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev60", method = "umap", dimensions = 4 });
        Assert.Equal(400, bad);
        Assert.Contains("dimensions must be 2 or 3", badDims.GetProperty("error").GetString());
        var (few, tooFew) = await f.Send(HttpMethod.Post, "/api/project/jobs", new { model = "sst2", dataset = "dev60", ids = new[] { "0", "1", "2" }, method = "umap", dimensions = 2 });
        Assert.Equal(400, few);
        Assert.Contains("at least 4 examples", tooFew.GetProperty("error").GetString());
    }

    [Fact]
    public void Umap_reports_each_stage_then_every_epoch_and_gives_the_same_embedding()
    {
        var rng = new Random(3);
        var data = Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, 5).Select(_ => rng.NextDouble() + (i % 2) * 3).ToArray()).ToArray();
        var options = new UmapOptions(Neighbors: 8, Epochs: 50, Seed: 7);
        var reports = new List<UmapProgress>();
        var withProgress = Umap.Fit(data, options, new Recorder(reports), CancellationToken.None);
        var plain = Umap.Fit(data, options);
        Assert.Equal(["neighbors", "fuzzy-set", "initialisation"], reports.Take(3).Select(r => r.Stage));
        Assert.Equal(Enumerable.Range(1, 50), reports.Skip(3).Select(r => r.Done));
        Assert.All(reports.Skip(3), r => { Assert.Equal("layout", r.Stage); Assert.Equal(50, r.Total); });
        for (int i = 0; i < data.Length; i++) Assert.Equal(plain.Embedding[i], withProgress.Embedding[i]);

        using var cts = new CancellationTokenSource();
        var stopAt = new Recorder([], r => { if (r.Stage == "layout" && r.Done == 10) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Umap.Fit(data, options, stopAt, cts.Token));
        Assert.Equal(10, stopAt.Seen.Count(r => r.Stage == "layout"));
    }

    private sealed class Recorder(List<UmapProgress> seen, Action<UmapProgress>? then = null) : IProgress<UmapProgress>
    {
        public List<UmapProgress> Seen => seen;
        public void Report(UmapProgress value) { seen.Add(value); then?.Invoke(value); }
    }

    private async Task<(string[] Names, string[][] Ids, JsonElement Body)> Slices(object request)
    {
        var (status, r) = await f.Send(HttpMethod.Post, "/api/metrics", request);
        Assert.True(status == 200, r.ToString());
        var slices = r.GetProperty("slices").EnumerateArray().ToArray();
        return (slices.Select(s => s.GetProperty("slice").GetString()!).ToArray(),
            slices.Select(s => s.GetProperty("ids").EnumerateArray().Select(i => i.GetString()!).ToArray()).ToArray(), r);
    }

    [Fact]
    public async Task Dataset_fields_are_served_with_their_types()
    {
        var info = (await f.Send(HttpMethod.Get, "/api/info")).Body;
        var spec = info.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "fields").GetProperty("spec");
        Assert.Equal("Scalar", spec.GetProperty("score").GetProperty("type").GetString());
        Assert.Equal("CategoryLabel", spec.GetProperty("genre").GetProperty("type").GetString());
        Assert.Equal(["a", "b", "c"], spec.GetProperty("genre").GetProperty("vocab").EnumerateArray().Select(v => v.GetString()));
        var examples = (await f.Send(HttpMethod.Get, "/api/dataset?name=fields")).Body.GetProperty("examples").EnumerateArray().ToArray();
        Assert.Equal("4", examples[3].GetProperty("fields").GetProperty("score").GetString());
        Assert.Equal("", examples[8].GetProperty("fields").GetProperty("score").GetString());
        Assert.Equal("c", examples[8].GetProperty("fields").GetProperty("genre").GetString());
        Assert.False(examples[0].GetProperty("fields").TryGetProperty("label", out _));
    }

    [Fact]
    public async Task Numeric_field_in_quantile_bins_as_pandas_qcut_with_missing_values_apart()
    {
        // scores 1..8: quartile edges 1, 2.75, 4.5, 6.25, 8 (NumPy's linear quantiles); row 8 has none
        var (names, ids, _) = await Slices(new { model = "sst2", dataset = "fields", facet = "field:score" });
        Assert.Equal(["all", "score∈[1, 2.75]", "score∈(2.75, 4.5]", "score∈(4.5, 6.25]", "score∈(6.25, 8]", "score=(missing)"], names);
        Assert.Equal([["0", "1"], ["2", "3"], ["4", "5"], ["6", "7"], ["8"]], ids.Skip(1));
    }

    [Fact]
    public async Task Numeric_fields_in_equal_width_bins_and_the_word_count_facet()
    {
        var (names, ids, _) = await Slices(new { model = "sst2", dataset = "fields", facet = "field:score", binning = "equal-width", bins = 2 });
        Assert.Equal(["all", "score∈[1, 4.5)", "score∈[4.5, 8]", "score=(missing)"], names);
        Assert.Equal([["0", "1", "2", "3"], ["4", "5", "6", "7"], ["8"]], ids.Skip(1));
        // words: 1..8 for rows 0..7, 1 for row 8; equal width over [1, 8] in 2 bins splits at 4.5
        (names, ids, _) = await Slices(new { model = "sst2", dataset = "fields", facet = "length", binning = "equal-width", bins = 2 });
        Assert.Equal(["all", "length∈[1, 4.5)", "length∈[4.5, 8]"], names);
        Assert.Equal([["0", "1", "2", "3", "8"], ["4", "5", "6", "7"]], ids.Skip(1));
    }

    [Fact]
    public async Task Categorical_field_slices_carry_metrics_that_agree_with_the_predictions()
    {
        var (names, ids, body) = await Slices(new { model = "sst2", dataset = "fields", facet = "field:genre" });
        Assert.Equal(["all", "genre=a", "genre=b", "genre=c"], names);
        Assert.Equal([["0", "1", "2"], ["3", "4", "5", "6", "7"], ["8"]], ids.Skip(1));
        var preds = (await f.Send(HttpMethod.Post, "/api/predict", new { model = "sst2", dataset = "fields" })).Body.GetProperty("predictions")
            .EnumerateArray().Select(p => p.GetProperty("labelIndex").GetInt32()).ToArray();
        int[] gold = [1, 0, 1, 0, 1, 0, 1, 0, 1];
        var slices = body.GetProperty("slices").EnumerateArray().ToArray();
        for (int s = 1; s < slices.Length; s++)
        {
            var rows = ids[s].Select(int.Parse).ToArray();
            double accuracy = rows.Count(i => preds[i] == gold[i]) / (double)rows.Length;
            Assert.Equal(accuracy, slices[s].GetProperty("accuracy").GetDouble(), 12);
        }
    }

    [Theory]
    [InlineData("field:nope", null, null, "no extra field 'nope'")]
    [InlineData("field:text", null, null, "no extra field 'text'")]
    [InlineData("field:score", "quantile", 0, "bins must be between 1 and 20")]
    [InlineData("field:score", "quantile", 21, "bins must be between 1 and 20")]
    [InlineData("field:score", "logarithmic", null, "unknown binning 'logarithmic'")]
    [InlineData("field:genre", "quantile", null, "categorical")]
    [InlineData("colour", null, null, "unknown facet 'colour'")]
    public async Task Bad_facets_are_400_errors_that_say_what_is_accepted(string facet, string? binning, int? bins, string message)
    {
        var (status, error) = await f.Send(HttpMethod.Post, "/api/metrics", new { model = "sst2", dataset = "fields", facet, binning, bins });
        Assert.Equal(400, status);
        Assert.Contains(message, error.GetProperty("error").GetString());
    }
}
