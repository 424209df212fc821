// Bad requests get a 4xx JSON error {error, code, status} that names what was wrong, and the
// server keeps serving afterwards; bad command-line input is refused at start-up with the option
// named. No request can make the server read a file: datasets are referred to by name only.
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Glassbox.Server.Tests;

[Collection(nameof(ServerCollection))]
public sealed class BadRequestTests(ServerFixture f)
{
    private async Task<JsonElement> Raw(string path, string body, string contentType, int status)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        using var res = await f.Http.PostAsync(path, content);
        var e = await ServerFixture.Read(res, status);
        Assert.Equal(status, e.GetProperty("status").GetInt32());
        return e;
    }

    private static void Says(JsonElement e, string code, params string[] words)
    {
        Assert.Equal(code, e.GetProperty("code").GetString());
        string msg = e.GetProperty("error").GetString()!;
        foreach (var w in words) Assert.Contains(w, msg);
    }

    [Fact]
    public async Task Unknown_model_dataset_method_target_and_endpoint_are_4xx_naming_the_choices()
    {
        Says(await f.Post("/api/predict", new { model = "nope", inputs = new[] { new { text = "x" } } }, 404), "unknown_model", "'nope'", "sst2", "qa");
        Says(await f.Post("/api/predict", new { inputs = new[] { new { text = "x" } } }, 400), "missing_field", "'model'");
        Says(await f.Get("/api/dataset?name=nope", 404), "unknown_dataset", "'nope'", "sst2-dev");
        Says(await f.Post("/api/predict", new { model = "sst2", dataset = "sst2-dev", ids = new[] { "0", "999" } }, 404), "unknown_id", "'999'");
        Says(await f.Post("/api/interpret", new { model = "sst2", input = new { text = "x" }, methods = new[] { "magic" } }, 400), "unknown_method", "'magic'", "lig");
        Says(await f.Post("/api/interpret", new { model = "sst2", input = new { text = "x" }, target = "NEUTRAL" }, 400), "bad_target", "NEUTRAL", "POSITIVE");
        Says(await f.Post("/api/interpret", new { model = "gpt2", input = new { text = "x" } }, 400), "no_interpreters", "gpt2");
        Says(await f.Post("/api/interpret", new { model = "sst2", input = new { text = "x" }, steps = 100000 }, 400), "bad_input", "steps");
        Says(await f.Get("/api/nothing-here", 404), "unknown_endpoint", "/api/nothing-here");
        Says(await f.Post("/api/generate", new { model = "sst2", generator = "magic", input = new { text = "x" } }, 400), "unknown_generator", "'magic'", "hotflip");
        Says(await f.Post("/api/generate", new { model = "sst2", generator = "word-replacer", input = new { text = "x" } }, 400), "missing_field", "rules");
        Says(await f.Post("/api/generate", new { model = "sst2", generator = "word-replacer", rules = "a b c", input = new { text = "x" } }, 400), "bad_input", "rule");
        Says(await f.Post("/api/generate", new { model = "gpt2", generator = "scrambler", input = new { text = "x" } }, 400), "no_generators", "gpt2");
        Says(await f.Post("/api/metrics", new { model = "ner", dataset = "sst2-dev" }, 400), "no_metrics", "ner");
        Says(await f.Post("/api/metrics", new { model = "sst2", dataset = "sst2-dev", facet = "colour" }, 400), "bad_input", "colour");
        Says(await f.Post("/api/project", new { model = "sst2", dataset = "sst2-dev", method = "tsne" }, 400), "unknown_method", "tsne", "pca, umap");
        Says(await f.Post("/api/project", new { model = "sst2", dataset = "sst2-dev", dimensions = 4 }, 400), "bad_input", "2 or 3");
        Says(await f.Post("/api/predict", new { model = "qa", inputs = new[] { new { text = "Who?" } } }, 400), "bad_input", "'pair'", "context");
        Says(await f.Post("/api/predict", new { model = "sst2", inputs = new[] { new { text = "  " } } }, 400), "bad_input", "'text' is empty");
        Says(await f.Post("/api/predict", new { model = "gpt2", inputs = new[] { new { text = "x" } }, maxNewTokens = 5000 }, 400), "bad_input", "maxNewTokens");
        await StillServing();
    }

    [Fact]
    public async Task Malformed_json_unknown_fields_and_wrong_content_type_are_400_or_415()
    {
        Says(await Raw("/api/predict", "{\"model\": \"sst2\", \"inputs\": [", "application/json", 400), "malformed_json");
        Says(await Raw("/api/predict", "not json at all", "application/json", 400), "malformed_json");
        Says(await Raw("/api/predict", "null", "application/json", 400), "malformed_json", "null");
        Says(await Raw("/api/predict", "{\"model\": \"sst2\", \"inputz\": []}", "application/json", 400), "malformed_json", "inputz");
        Says(await Raw("/api/predict", "{\"model\": 5}", "application/json", 400), "malformed_json");
        Says(await Raw("/api/predict", "model=sst2", "application/x-www-form-urlencoded", 415), "unsupported_media_type");
        Says(await f.Get("/api/dataset?name=sst2-dev&offset=abc", 400), "bad_input", "offset");
        await StillServing();
    }

    [Fact]
    public async Task Oversized_bodies_batches_and_texts_are_413()
    {
        // The fixture's body limit is 200,000 bytes.
        string big = new('a', 300_000);
        Says(await Raw("/api/predict", $"{{\"model\":\"sst2\",\"inputs\":[{{\"text\":\"{big}\"}}]}}", "application/json", 413), "body_too_large", "200,000");
        var many = Enumerable.Range(0, 1001).Select(i => new { text = "x" }).ToArray();
        Says(await f.Post("/api/predict", new { model = "sst2", inputs = many }, 413), "batch_too_large", "1001", "1000");
        Says(await f.Post("/api/predict", new { model = "sst2", inputs = new[] { new { text = new string('b', 25_000) } } }, 413), "text_too_long", "20000");
        await StillServing();
    }

    [Fact]
    public async Task Requests_cannot_name_files()
    {
        // A dataset is a name from the command line; a path is just an unknown name.
        Says(await f.Get("/api/dataset?name=" + Uri.EscapeDataString(Shared.Data("sst2/dev.tsv")), 404), "unknown_dataset");
        Says(await f.Get("/api/dataset?name=../../etc/passwd", 404), "unknown_dataset");
        Says(await f.Post("/api/predict", new { model = Shared.Model("distilbert-sst2-tiny"), inputs = new[] { new { text = "x" } } }, 404), "unknown_model");
        using var traversal = await f.Http.GetAsync("/..%2F..%2Fetc%2Fpasswd");
        Assert.DoesNotContain("root:", await traversal.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Bad_command_line_input_is_refused_naming_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => GlassboxServer.Create(new ServerOptions { Models = [new("m", "/no/such/model")] }));
        Assert.Contains("--model m=/no/such/model", e.Message);
        e = Assert.Throws<ArgumentException>(() => GlassboxServer.Create(new ServerOptions { Models = [new("v", Shared.Model("vit-tiny-random"))] }));
        Assert.Contains("image model", e.Message);
        e = Assert.Throws<ArgumentException>(() => GlassboxServer.Create(new ServerOptions
        {
            Models = [new("sst2", Shared.Model("distilbert-sst2-tiny"))], Datasets = [new("d", "/no/such/file.tsv")],
        }));
        Assert.Contains("--data d=/no/such/file.tsv", e.Message);
        string noText = Path.Combine(f.Folder, "notext.tsv");
        File.WriteAllLines(noText, ["sentense\tlabel", "a\t1"]);
        e = Assert.Throws<ArgumentException>(() => GlassboxServer.Create(new ServerOptions
        {
            Models = [new("sst2", Shared.Model("distilbert-sst2-tiny"))], Datasets = [new("d", noText)],
        }));
        Assert.Contains("no text column", e.Message);
        Assert.Contains("sentense", e.Message);
        string ragged = Path.Combine(f.Folder, "ragged.tsv");
        File.WriteAllLines(ragged, ["sentence\tlabel", "a\t1", "b"]);
        e = Assert.Throws<ArgumentException>(() => GlassboxServer.Create(new ServerOptions
        {
            Models = [new("sst2", Shared.Model("distilbert-sst2-tiny"))], Datasets = [new("d", ragged)],
        }));
        Assert.Contains("--data d=", e.Message);
        Assert.Contains("line 3: 1 field(s) where the header has 2", e.Message);
        Assert.Throws<ArgumentException>(() => GlassboxServer.Create(new ServerOptions()));
        Assert.Throws<ArgumentException>(() => ServerOptions.ParseNamed("=x", "--model"));
        Assert.Equal(("a", "b/c"), ServerOptions.ParseNamed("a=b/c", "--model"));
        Assert.Equal(("sentiment", "data/sentiment.tsv"), ServerOptions.ParseNamed("data/sentiment.tsv", "--data"));
    }

    private async Task StillServing()
    {
        var info = await f.Get("/api/info");
        Assert.True(info.GetProperty("models").GetArrayLength() > 0);
        var p = await f.Post("/api/predict", new { model = "sst2", inputs = new[] { new { text = "still here" } } });
        Assert.Equal(1, p.GetProperty("predictions").GetArrayLength());
    }
}

/// <summary>Work stops when the client goes away, and waiting work is bounded (429 beyond the limit).</summary>
public sealed class WorkBoundsTests
{
    [Fact]
    public async Task Aborted_request_stops_its_work()
    {
        string folder = Directory.CreateTempSubdirectory("glassbox-cancel-").FullName;
        await using var server = GlassboxServer.Create(new ServerOptions { Port = 0, Models = [new("gpt2", Shared.Model("gpt2-tiny-random"))] });
        await server.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Url };
        var inputs = Enumerable.Range(0, 300).Select(i => new { text = $"request {i} {Guid.NewGuid()}" }).ToArray();
        using var cts = new CancellationTokenSource();
        var call = http.PostAsJsonAsync("/api/predict", new { model = "gpt2", inputs, maxNewTokens = 64 }, cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (server.Stats.PredictionsComputed < 2 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(server.Stats.PredictionsComputed >= 2, "the request started computing");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        // Give the server time to notice, then check that nothing more is computed.
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (server.Stats.Cancelled == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, server.Stats.Cancelled);
        long stopped = server.Stats.PredictionsComputed;
        await Task.Delay(1500);
        Assert.Equal(stopped, server.Stats.PredictionsComputed);
        Assert.True(stopped < 300, $"{stopped} of 300 inputs computed after the client went away");
        // And the server still answers.
        using var res = await http.PostAsJsonAsync("/api/predict", new { model = "gpt2", inputs = new[] { new { text = "hello" } }, maxNewTokens = 2 });
        Assert.Equal(200, (int)res.StatusCode);
        Directory.Delete(folder, true);
    }

    [Fact]
    public async Task Requests_beyond_the_pending_limit_get_429_json()
    {
        await using var server = GlassboxServer.Create(new ServerOptions { Port = 0, MaxPendingRequests = 1, Models = [new("gpt2", Shared.Model("gpt2-tiny-random"))] });
        await server.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Url };
        var inputs = Enumerable.Range(0, 40).Select(i => new { text = $"long {i} {Guid.NewGuid()}" }).ToArray();
        var slow = http.PostAsJsonAsync("/api/predict", new { model = "gpt2", inputs, maxNewTokens = 64 });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (server.Stats.PredictionsComputed < 1 && DateTime.UtcNow < deadline) await Task.Delay(10);
        // The slow request holds the only slot between its inputs most of the time; retry until one is refused.
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 200 && refused is null && !slow.IsCompleted; i++)
        {
            var r = await http.PostAsJsonAsync("/api/predict", new { model = "gpt2", inputs = new[] { new { text = $"other {Guid.NewGuid()}" } }, maxNewTokens = 64 });
            if ((int)r.StatusCode == 429) refused = r; else r.Dispose();
        }
        Assert.NotNull(refused);
        var e = await ServerFixture.Read(refused!, 429);
        Assert.Equal("busy", e.GetProperty("code").GetString());
        refused!.Dispose();
        using var done = await slow;
        Assert.Equal(200, (int)done.StatusCode);
        Assert.True(server.Stats.RejectedBusy >= 1);
    }
}
