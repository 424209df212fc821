// The extension API's entry point: register models and datasets in code and run the web app, as a
// LIT launcher does.
//
//   await GlassboxApp.Create()
//       .AddModel("lexicon", new LexiconSentiment())          // any ITextModel (its spec decides the modules)
//       .AddModel("sst2", "models/sst2-distilbert-tiny")       // a Hugging Face folder or Hub id
//       .AddDataset("reviews", Reviews.Load("reviews.csv"))    // a TextDataset (declared fields)
//       .RunAsync();
//
// Or host the app inside an existing ASP.NET Core application: app.MapGlassbox(glassboxApp).
using Glassbox.Explain;
using Glassbox.Explain.Extensions;
using Glassbox.Models.Data;
using Glassbox.Tokenizers;
using Microsoft.AspNetCore.Builder;

namespace Glassbox.Server;

/// <summary>Builds the Glassbox web app from models and datasets registered in code.</summary>
public sealed class GlassboxApp
{
    private readonly List<ModelSource> _modelSources = [];
    private readonly List<DatasetSource> _datasetSources = [];
    private readonly List<(string Name, Func<ModelHost> Make)> _models = [];
    private readonly List<(string Name, Func<ServedDataset> Make)> _datasets = [];
    private ServerOptions _options;

    private GlassboxApp(ServerOptions options) => _options = options;

    /// <summary>A new app with <paramref name="options"/> (limits, host, port; default: 127.0.0.1:5432). Models and
    /// datasets in the options are served too.</summary>
    public static GlassboxApp Create(ServerOptions? options = null) => new(options ?? new ServerOptions());

    /// <summary>The options the server will run with (models and datasets registered here come on top).</summary>
    public ServerOptions Options => _options;

    /// <summary>Listens on <paramref name="port"/> (0: any free port).</summary>
    public GlassboxApp UsePort(int port)
    {
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), $"the port must be between 0 and 65535, not {port}.");
        _options = Copy(_options, port: port);
        return this;
    }

    /// <summary>Binds <paramref name="host"/> (an IP address; the default 127.0.0.1 keeps the models off the network).</summary>
    public GlassboxApp UseHost(string host)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        _options = Copy(_options, host: host);
        return this;
    }

    /// <summary>Serves a model written in C#: its <see cref="ITextModel.Spec"/> decides the interpreters, metrics and
    /// modules. A spec the server cannot serve is an ArgumentException naming the field.</summary>
    public GlassboxApp AddModel(string name, ITextModel model)
    {
        CheckName(name, "model");
        ArgumentNullException.ThrowIfNull(model);
        string kind = model switch
        {
            TokenizedTextModel t => Describe(t.Model),
            HttpTextModel => "http (black box)",
            _ => $"custom: {model.GetType().Name}",
        };
        // Validate now, so a bad spec fails at registration rather than at start.
        var host = ModelHost.FromSpec(name, model, model.GetType().FullName ?? model.GetType().Name, kind);
        _models.Add((name, () => host));
        return this;
    }

    /// <summary>Serves a token-level model (an ONNX export, an HTTP classifier, any <see cref="IExplainableModel"/>) with its
    /// tokenizer: perturbation methods run on its tokens; gradient methods only if it supports gradients.</summary>
    public GlassboxApp AddModel(string name, IExplainableModel model, Tokenizer tokenizer, int maxTokens = 512)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        return AddModel(name, new TokenizedTextModel(model, tokenizer, maxTokens));
    }

    /// <summary>Serves a Glassbox transformer from a Hugging Face folder or a Hub id in the cache (loaded when the app starts).</summary>
    public GlassboxApp AddModel(string name, string folderOrHubId)
    {
        CheckName(name, "model");
        ArgumentException.ThrowIfNullOrWhiteSpace(folderOrHubId);
        _modelSources.Add(new ModelSource(name, folderOrHubId));
        return this;
    }

    /// <summary>Serves a dataset built in code.</summary>
    public GlassboxApp AddDataset(string name, TextDataset dataset)
    {
        CheckName(name, "dataset");
        ArgumentNullException.ThrowIfNull(dataset);
        var served = ToServed(name, dataset);
        _datasets.Add((name, () => served));
        return this;
    }

    /// <summary>Serves a CSV, TSV, JSONL or Parquet file (loaded when the app starts); <paramref name="columns"/> names
    /// the columns, or null to find them by their usual names (sentence/text, label, pair/context, id).</summary>
    public GlassboxApp AddDataset(string name, string path, DataColumns? columns = null)
    {
        CheckName(name, "dataset");
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _datasetSources.Add(new DatasetSource(name, path, columns));
        return this;
    }

    /// <summary>Loads everything and builds the server (not started). A bad model or dataset is an ArgumentException naming it.</summary>
    public GlassboxServer Build(TextWriter? log = null)
    {
        var names = _modelSources.Select(m => m.Name).Concat(_options.Models.Select(m => m.Name)).Concat(_models.Select(m => m.Name));
        if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } dup)
            throw new ArgumentException($"model name '{dup.Key}' is registered twice; names must be unique.");
        var dataNames = _datasetSources.Select(d => d.Name).Concat(_options.Datasets.Select(d => d.Name)).Concat(_datasets.Select(d => d.Name));
        if (dataNames.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } dupData)
            throw new ArgumentException($"dataset name '{dupData.Key}' is registered twice; names must be unique.");
        var options = Copy(_options, models: [.. _options.Models, .. _modelSources], datasets: [.. _options.Datasets, .. _datasetSources]);
        return GlassboxServer.Create(options, _models.Select(m => m.Make).ToArray(), _datasets.Select(d => d.Make).ToArray(), log);
    }

    /// <summary>Builds and starts the server; its Url says where it listens.</summary>
    public async Task<GlassboxServer> StartAsync(TextWriter? log = null, CancellationToken cancellation = default)
    {
        var server = Build(log);
        try
        {
            await server.StartAsync(cancellation);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server, prints its URL to <paramref name="log"/> (standard output by default) and serves until
    /// <paramref name="cancellation"/> is cancelled or the process is stopped (Ctrl+C).</summary>
    public async Task RunAsync(CancellationToken cancellation = default, TextWriter? log = null)
    {
        log ??= Console.Out;
        await using var server = await StartAsync(log, cancellation);
        log.WriteLine($"Glassbox is serving at {server.Url} (Ctrl+C to stop)");
        log.Flush();
        try { await server.WaitForShutdownAsync(cancellation); }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { }
    }

    /// <summary><see cref="RunAsync"/>, blocking.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Maps the app into <paramref name="app"/> (see <see cref="GlassboxHosting.MapGlassbox"/>).</summary>
    internal GlassboxServer MapInto(WebApplication app, TextWriter? log)
    {
        var server = Build(log);
        server.MapInto(app);
        return server;
    }

    private static string Describe(IExplainableModel model) => model.GetType().Name switch
    {
        "OnnxClassifier" => "onnx",
        "HttpModel" => "http",
        var n => $"custom: {n}",
    } + (model.SupportsGradients ? "" : " (black box)");

    private void CheckName(string name, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"{what} name '{name}' may contain only letters, digits, '-', '_' and '.'.", nameof(name));
    }

    internal static ServedDataset ToServed(string name, TextDataset dataset)
    {
        string text = dataset.TextField;
        string? pair = dataset.PairField, label = dataset.LabelField, id = dataset.IdField;
        var examples = new List<Datapoint>(dataset.Examples.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < dataset.Examples.Count; i++)
        {
            var e = dataset.Examples[i];
            if (examples.Count == DatasetLoader.MaxExamples)
                throw new ArgumentException($"dataset '{name}' has more than {DatasetLoader.MaxExamples:N0} examples; the app holds a dataset in the page. Sample it first.");
            string exampleId = id is not null && e.TryGetValue(id, out var v) && v is not null ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!
                : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!seen.Add(exampleId)) throw new ArgumentException($"dataset '{name}': id '{exampleId}' appears twice; ids must be unique.");
            string t = e.Text(text);
            if (string.IsNullOrWhiteSpace(t)) throw new ArgumentException($"dataset '{name}': example '{exampleId}' has no '{text}'.");
            string? gold = label is not null && e.TryGetValue(label, out var g) && g is not null ? Convert.ToString(g, System.Globalization.CultureInfo.InvariantCulture) : null;
            examples.Add(new Datapoint { Id = exampleId, Text = t.Trim(), Pair = pair is null ? null : e.Text(pair) is { Length: > 0 } p ? p.Trim() : null, Label = gold?.Trim() });
        }
        if (examples.Count == 0) throw new ArgumentException($"dataset '{name}' has no examples.");
        var vocab = label is not null ? dataset.Spec[label].Vocab : null;
        string[] labels = label is null || dataset.Spec[label].Type == FieldType.ScalarType ? []
            : vocab is { Count: > 0 } ? vocab.ToArray()
            : examples.Select(x => x.Label ?? "").Where(l => l.Length > 0).Distinct().Order(StringComparer.Ordinal).Take(1001).ToArray();
        return new ServedDataset
        {
            Name = name, File = $"(registered in code: {dataset.Examples.Count} examples)", Examples = examples, HasPair = pair is not null, HasLabel = label is not null,
            Labels = labels.Length <= 1000 ? labels : [],
        };
    }

    private static ServerOptions Copy(ServerOptions o, int? port = null, string? host = null, IReadOnlyList<ModelSource>? models = null, IReadOnlyList<DatasetSource>? datasets = null) => new()
    {
        Models = models ?? o.Models, Datasets = datasets ?? o.Datasets, Host = host ?? o.Host, Port = port ?? o.Port,
        MaxRequestBytes = o.MaxRequestBytes, MaxBatch = o.MaxBatch, MaxTextChars = o.MaxTextChars, CacheEntries = o.CacheEntries,
        MaxPendingRequests = o.MaxPendingRequests, MaxConcurrentWork = o.MaxConcurrentWork, MaxNewTokens = o.MaxNewTokens,
        MaxSteps = o.MaxSteps, MaxSamples = o.MaxSamples, MaxSavedDatapoints = o.MaxSavedDatapoints,
    };
}

/// <summary>Hosting Glassbox inside an existing ASP.NET Core application.</summary>
public static class GlassboxHosting
{
    /// <summary>Maps the Glassbox API (/api/...) and its page into <paramref name="app"/>: the page answers the paths the
    /// application does not map itself, the application's own endpoints keep precedence. Call before app.Run(). The app's
    /// Kestrel settings (address, port) apply; Glassbox's request limits apply to its own paths.</summary>
    /// <returns>The server, for its statistics.</returns>
    public static GlassboxServer MapGlassbox(this WebApplication app, GlassboxApp glassbox, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(glassbox);
        return glassbox.MapInto(app, log);
    }
}
