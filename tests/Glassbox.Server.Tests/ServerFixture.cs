// One in-process server for the API tests, on a free port of 127.0.0.1, serving models from
// ../shared/models (a trained SST-2 classifier, random tiny QA, NER, multi-label, regression and
// GPT-2 models) and two small datasets written to a temp folder: SST-2 dev's first 60 rows and a
// three-row QA file.
using System.Net.Http.Json;
using System.Text.Json;
using Glassbox.Server;

namespace Glassbox.Server.Tests;

public sealed class ServerFixture : IAsyncLifetime
{
    public GlassboxServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string Folder { get; } = Directory.CreateTempSubdirectory("glassbox-server-tests-").FullName;
    public string DevFile => Path.Combine(Folder, "dev60.tsv");

    public static ServerOptions Options(string folder, int maxPending = 64) => new()
    {
        Port = 0,
        MaxRequestBytes = 200_000,
        MaxPendingRequests = maxPending,
        Models =
        [
            new("sst2", Shared.Model("distilbert-sst2-tiny")),
            new("random-sst2", Shared.Model("distilbert-tiny-random-sst2")),
            new("qa", Shared.Model("bert-tiny-random-qa")),
            new("ner", Shared.Model("bert-tiny-random-ner")),
            new("multilabel", Shared.Model("bert-tiny-random-multilabel")),
            new("regression", Shared.Model("bert-tiny-random-regression")),
            new("gpt2", Shared.Model("gpt2-tiny-random")),
        ],
        Datasets = [new("sst2-dev", Path.Combine(folder, "dev60.tsv")), new("qa-mini", Path.Combine(folder, "qa.jsonl"))],
    };

    public async Task InitializeAsync()
    {
        File.WriteAllLines(DevFile, File.ReadLines(Shared.Data("sst2/dev.tsv")).Take(61));
        File.WriteAllLines(Path.Combine(Folder, "qa.jsonl"),
        [
            """{"id": "q1", "question": "Where does Macron live?", "context": "Emmanuel Macron lives in Paris.", "answer": "Paris"}""",
            """{"id": "q2", "question": "What is NLP?", "context": "Natural language processing studies language.", "answer": "studies language"}""",
            """{"id": "q3", "question": "Who wrote it?", "context": "It was written by Ada.", "answer": "Ada"}""",
        ]);
        Server = GlassboxServer.Create(Options(Folder));
        await Server.StartAsync();
        Http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    public async Task<JsonElement> Post(string path, object body, int expectStatus = 200)
    {
        using var res = await Http.PostAsJsonAsync(path, body);
        return await Read(res, expectStatus);
    }

    public async Task<JsonElement> Get(string path, int expectStatus = 200)
    {
        using var res = await Http.GetAsync(path);
        return await Read(res, expectStatus);
    }

    public static async Task<JsonElement> Read(HttpResponseMessage res, int expectStatus)
    {
        string text = await res.Content.ReadAsStringAsync();
        Assert.True((int)res.StatusCode == expectStatus, $"expected HTTP {expectStatus}, got {(int)res.StatusCode}: {text}");
        Assert.StartsWith("application/json", res.Content.Headers.ContentType?.MediaType ?? "");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}

[CollectionDefinition(nameof(ServerCollection))]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>;

internal static class Shared
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "golden")) && Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
        }
        throw new DirectoryNotFoundException("../shared (with golden/ and models/) was not found above the test binaries; CI places it beside the repository.");
    });

    public static string Model(string name) => Path.Combine(s_root.Value, "models", name);
    public static string Golden(string relative) => Path.Combine(s_root.Value, "golden", relative);
    public static string Data(string relative) => Path.Combine(s_root.Value, "data", relative);
}
