using Glassbox.Models.Checkpoints;
using Glassbox.Models.Hub;

namespace Glassbox.Models.Tests;

public sealed class HubTests
{
    private static Dictionary<string, byte[]> FilesOf(string model, params string[] names) =>
        names.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(SharedData.Model(model), n)));

    private static Dictionary<string, byte[]> BertRepo() =>
        FilesOf("bert-tiny-random-mlm", "config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json");

    private static HubOptions Options(HubTestServer server, TempDir cache, bool offline = false, string? token = null, List<DownloadProgress>? progress = null) => new()
    {
        CacheDir = cache.Path,
        Endpoint = server.Endpoint,
        Offline = offline,
        Token = token,
        Progress = progress is null ? null : p => { lock (progress) progress.Add(p); },
        MaxAttempts = 4,
    };

    [Fact]
    public void FirstDownloadFillsTheCacheInTheRealLayoutAndTheSecondRunIsOffline()
    {
        using var server = new HubTestServer();
        using var cache = new TempDir();
        var files = BertRepo();
        server.AddRepo("glassbox-test/tiny-bert", files);
        var repo = server.Get("glassbox-test/tiny-bert");
        var progress = new List<DownloadProgress>();

        string folder = HubClient.ResolveModelFolder("glassbox-test/tiny-bert", Options(server, cache, progress: progress));

        string repoDir = Path.Combine(cache.Path, "models--glassbox-test--tiny-bert");
        Assert.Equal(Path.Combine(repoDir, "snapshots", repo.Commit), folder);
        Assert.Equal(repo.Commit, File.ReadAllText(Path.Combine(repoDir, "refs", "main")));
        // safetensors preferred: the .bin is never fetched.
        Assert.False(File.Exists(Path.Combine(folder, "pytorch_model.bin")));
        Assert.Equal(0, server.Count("GET", "/cdn/" + HubTestServer.Sha256(files["pytorch_model.bin"])));
        foreach (var name in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
        {
            string pointer = Path.Combine(folder, name);
            var link = new FileInfo(pointer).LinkTarget;
            string etag = HubTestServer.IsLfs(name) ? HubTestServer.Sha256(files[name]) : HubTestServer.GitSha1(files[name]);
            Assert.Equal(Path.Combine("..", "..", "blobs", etag), link); // relative symlink, as huggingface_hub makes it
            Assert.Equal(files[name], File.ReadAllBytes(Path.Combine(repoDir, "blobs", etag)));
            Assert.Equal(files[name], File.ReadAllBytes(pointer));
        }
        // Files the repo lacks are remembered, as huggingface_hub does.
        Assert.True(File.Exists(Path.Combine(repoDir, ".no_exist", repo.Commit, "vocab.txt")));
        Assert.Empty(Directory.GetFiles(Path.Combine(repoDir, "blobs"), "*.incomplete"));
        // Progress reached the full size of the weights.
        Assert.Contains(progress, p => p.FileName == "model.safetensors" && p.BytesDone == files["model.safetensors"].Length && p.TotalBytes == files["model.safetensors"].Length);
        using (var c = Checkpoint.Open(folder)) Assert.Equal(42, c.Names.Count);

        // Second run, offline: same folder, not one request.
        int before = server.Requests.Count;
        string again = HubClient.ResolveModelFolder("glassbox-test/tiny-bert", Options(server, cache, offline: true));
        Assert.Equal(folder, again);
        Assert.Equal(before, server.Requests.Count);
        // A pinned commit is served from the cache without the network even when online.
        using (var client = new HubClient(Options(server, cache)))
            Assert.Equal(Path.Combine(folder, "config.json"), client.DownloadFile("glassbox-test/tiny-bert", "config.json", repo.Commit));
        Assert.Equal(before, server.Requests.Count);
        // Online again: only metadata requests, no downloads.
        HubClient.ResolveModelFolder("glassbox-test/tiny-bert", Options(server, cache));
        Assert.Equal(0, server.Requests.Skip(before).Count(r => r.Method == "GET"));
    }

    [Fact]
    public void ADroppedConnectionResumesWithARangeRequest()
    {
        using var server = new HubTestServer { DropAfterBytes = 1_000_000 };
        using var cache = new TempDir();
        var files = BertRepo();
        server.AddRepo("glassbox-test/tiny-bert", files);
        server.DropConnection(files["model.safetensors"], times: 2);
        string folder = HubClient.ResolveModelFolder("glassbox-test/tiny-bert", Options(server, cache));
        Assert.Equal(files["model.safetensors"], File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        var gets = server.Requests.Where(r => r.Method == "GET" && r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, gets.Count);
        Assert.Null(gets[0].Range);
        Assert.Equal("bytes=1000000-", gets[1].Range);
        Assert.Equal("bytes=2000000-", gets[2].Range);
    }

    [Fact]
    public void APartialFileLeftByAnEarlierRunIsResumed()
    {
        using var server = new HubTestServer();
        using var cache = new TempDir();
        var files = BertRepo();
        server.AddRepo("glassbox-test/tiny-bert", files);
        var weights = files["model.safetensors"];
        string sha = HubTestServer.Sha256(weights);
        string blobs = Path.Combine(cache.Path, "models--glassbox-test--tiny-bert", "blobs");
        Directory.CreateDirectory(blobs);
        File.WriteAllBytes(Path.Combine(blobs, sha + ".incomplete"), weights.AsSpan(0, 123_456).ToArray());
        string path;
        using (var client = new HubClient(Options(server, cache)))
            path = client.DownloadFile("glassbox-test/tiny-bert", "model.safetensors");
        Assert.Equal(weights, File.ReadAllBytes(path));
        Assert.Equal("bytes=123456-", Assert.Single(server.Requests, r => r.Method == "GET").Range);
    }

    [Fact]
    public void ShardedCheckpointsDownloadTheIndexAndEveryShard()
    {
        using var server = new HubTestServer();
        using var cache = new TempDir();
        var files = FilesOf("roberta-tiny-random-nli", "config.json", "model.safetensors.index.json",
            "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "tokenizer.json");
        server.AddRepo("glassbox-test/tiny-roberta", files);
        string folder = HubClient.ResolveModelFolder("glassbox-test/tiny-roberta@main", Options(server, cache));
        using var c = Assert.IsType<ShardedCheckpoint>(Checkpoint.Open(folder));
        Assert.Equal(3, c.ShardFiles.Count);
        Assert.Equal(41, c.Names.Count);
    }

    [Fact]
    public void PrivateReposNeedTheToken()
    {
        using var server = new HubTestServer();
        using var cache = new TempDir();
        server.AddRepo("glassbox-test/private-bert", BertRepo(), isPrivate: true);
        var e = Assert.Throws<HubException>(() => HubClient.ResolveModelFolder("glassbox-test/private-bert", Options(server, cache)));
        Assert.Equal(HubErrorKind.Unauthorized, e.Kind);
        Assert.Contains("401", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Contains("glassbox-test/private-bert", e.Message);

        string folder = HubClient.ResolveModelFolder("glassbox-test/private-bert", Options(server, cache, token: server.Token));
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.All(server.Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)).Skip(1), r => Assert.Equal("Bearer " + server.Token, r.Authorization));
    }

    [Fact]
    public void MissingReposRevisionsAndFilesGiveClearErrors()
    {
        using var server = new HubTestServer();
        using var cache = new TempDir();
        server.AddRepo("glassbox-test/tiny-bert", BertRepo());
        var notFound = Assert.Throws<HubException>(() => HubClient.ResolveModelFolder("glassbox-test/no-such-model", Options(server, cache, token: server.Token)));
        Assert.Equal(HubErrorKind.RepoNotFound, notFound.Kind);
        Assert.Contains("404", notFound.Message);
        Assert.Contains("check the model id", notFound.Message);

        var rev = Assert.Throws<HubException>(() => HubClient.ResolveModelFolder("glassbox-test/tiny-bert@v9", Options(server, cache)));
        Assert.Equal(HubErrorKind.RevisionNotFound, rev.Kind);
        Assert.Contains("'v9'", rev.Message);

        using var client = new HubClient(Options(server, cache));
        var entry = Assert.Throws<HubException>(() => client.DownloadFile("glassbox-test/tiny-bert", "nope.json"));
        Assert.Equal(HubErrorKind.EntryNotFound, entry.Kind);
        Assert.Contains("'nope.json'", entry.Message);
        Assert.Null(client.TryDownloadFile("glassbox-test/tiny-bert", "nope.json"));

        Assert.Equal(HubErrorKind.InvalidId, Assert.Throws<HubException>(() => HubClient.ResolveModelFolder("bad id with spaces", Options(server, cache))).Kind);
        Assert.Throws<DirectoryNotFoundException>(() => HubClient.ResolveModelFolder("./no/such/folder", Options(server, cache)));
    }

    [Fact]
    public void OfflineWithAnEmptyCacheSaysWhatToDo()
    {
        using var cache = new TempDir();
        var options = new HubOptions { CacheDir = cache.Path, Endpoint = "http://127.0.0.1:9", Offline = true };
        var e = Assert.Throws<HubException>(() => HubClient.ResolveModelFolder("glassbox-test/tiny-bert", options));
        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Contains("Unset HF_HUB_OFFLINE", e.Message);
        Assert.Contains("pre-download", e.Message);
        Assert.Contains(cache.Path, e.Message);
    }

    [Fact]
    public void AnUnreachableHubFallsBackToTheCacheOrSaysSo()
    {
        using var cache = new TempDir();
        string folder;
        using (var server = new HubTestServer())
        {
            server.AddRepo("glassbox-test/tiny-bert", BertRepo());
            folder = HubClient.ResolveModelFolder("glassbox-test/tiny-bert", Options(server, cache));
        }
        // Nothing listens on port 9 of loopback: connection refused.
        var online = new HubOptions { CacheDir = cache.Path, Endpoint = "http://127.0.0.1:9" };
        Assert.Equal(folder, HubClient.ResolveModelFolder("glassbox-test/tiny-bert", online));
        var e = Assert.Throws<HubException>(() => HubClient.ResolveModelFolder("glassbox-test/other", online));
        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
    }

    [Fact]
    public void ACacheLaidOutByPythonIsReused()
    {
        // Build the cache exactly as huggingface_hub would: blobs by etag, relative symlinks, refs/main.
        using var cache = new TempDir();
        const string commit = "0123456789abcdef0123456789abcdef01234567";
        string repoDir = Path.Combine(cache.Path, "models--someone--python-made");
        var files = FilesOf("gpt2-tiny-random", "config.json", "model.safetensors", "tokenizer.json");
        foreach (var (name, bytes) in files)
        {
            string etag = HubTestServer.IsLfs(name) ? HubTestServer.Sha256(bytes) : HubTestServer.GitSha1(bytes);
            Directory.CreateDirectory(Path.Combine(repoDir, "blobs"));
            File.WriteAllBytes(Path.Combine(repoDir, "blobs", etag), bytes);
            Directory.CreateDirectory(Path.Combine(repoDir, "snapshots", commit));
            File.CreateSymbolicLink(Path.Combine(repoDir, "snapshots", commit, name), $"../../blobs/{etag}");
        }
        Directory.CreateDirectory(Path.Combine(repoDir, "refs"));
        File.WriteAllText(Path.Combine(repoDir, "refs", "main"), commit);
        var offline = new HubOptions { CacheDir = cache.Path, Endpoint = "http://127.0.0.1:9", Offline = true };
        string folder = HubClient.ResolveModelFolder("someone/python-made", offline);
        Assert.Equal(Path.Combine(repoDir, "snapshots", commit), folder);
        Assert.Equal(folder, HubClient.ResolveModelFolder($"someone/python-made@{commit}", offline));
        using var c = Checkpoint.Open(folder);
        Assert.Equal(DType.F16, c.GetInfo("transformer.wte.weight").DType);
    }

    [Fact]
    public void ARenamedRepoIsFollowedThroughItsRelativeRedirect()
    {
        using var server = new HubTestServer();
        using var cache = new TempDir();
        server.AddRepo("glassbox-test/tiny-bert", BertRepo());
        server.Renamed["old-org/tiny-bert"] = "glassbox-test/tiny-bert";
        using var client = new HubClient(Options(server, cache));
        string p = client.DownloadFile("old-org/tiny-bert", "config.json");
        Assert.Contains("models--old-org--tiny-bert", p);
        Assert.Equal(BertRepo()["config.json"], File.ReadAllBytes(p));
    }

    [Fact]
    public void OptionsFollowTheHuggingFaceEnvironmentVariables()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var none = HubOptions.FromEnvironment(_ => null);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), none.CacheDir);
        Assert.Equal("https://huggingface.co", none.Endpoint);
        Assert.False(none.Offline);

        using var hfHome = new TempDir();
        File.WriteAllText(Path.Combine(hfHome.Path, "token"), "hf_from_file\n");
        var env = new Dictionary<string, string> { ["HF_HOME"] = hfHome.Path, ["HF_HUB_OFFLINE"] = "1", ["HF_ENDPOINT"] = "http://127.0.0.1:1234/" };
        var o = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal(Path.Combine(hfHome.Path, "hub"), o.CacheDir);
        Assert.Equal("hf_from_file", o.Token);
        Assert.True(o.Offline);
        Assert.Equal("http://127.0.0.1:1234", o.Endpoint);

        env["HF_HUB_CACHE"] = "/somewhere/else";
        env["HF_TOKEN"] = "hf_env";
        env["HF_HUB_OFFLINE"] = "0";
        o = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("/somewhere/else", o.CacheDir);
        Assert.Equal("hf_env", o.Token);
        Assert.False(o.Offline);
    }

    [Fact]
    public void ModelIdsParseLikeTheHub()
    {
        Assert.Equal(new ModelId("org/name", "main"), ModelId.Parse("org/name"));
        Assert.Equal(new ModelId("gpt2", "main"), ModelId.Parse("gpt2"));
        Assert.Equal(new ModelId("org/name", "v1.0"), ModelId.Parse("org/name@v1.0"));
        foreach (var bad in new[] { "", "a/b/c", "org/na me", "org--x/name", "../x", "org/name@", "org/..name" })
            Assert.False(ModelId.TryParse(bad, out _), bad);
        // A local folder wins over an id.
        Assert.Equal(Path.GetFullPath(SharedData.Model("gpt2-tiny-random")), HubClient.ResolveModelFolder(SharedData.Model("gpt2-tiny-random"), new HubOptions { CacheDir = "/nonexistent", Offline = true }));
    }

    [Fact]
    public void PretrainedFolderOpensConfigAndPreferredWeights()
    {
        using (var local = PretrainedFolder.Open(SharedData.Model("llama-tiny-random"), new HubOptions { CacheDir = "/nonexistent", Offline = true }))
        {
            Assert.IsType<Glassbox.Models.Configs.LlamaConfig>(local.Config);
            Assert.Equal(DType.BF16, local.Weights.GetInfo("lm_head.weight").DType);
            Assert.NotNull(local.File("tokenizer.json"));
            Assert.Null(local.File("vocab.txt"));
        }
        using var server = new HubTestServer();
        using var cache = new TempDir();
        server.AddRepo("glassbox-test/tiny-bert", BertRepo());
        using var hub = PretrainedFolder.Open("glassbox-test/tiny-bert", Options(server, cache));
        Assert.IsType<SafetensorsFile>(hub.Weights);
        Assert.Equal("bert", hub.Config.ModelType);
    }
}
