// `glassbox serve`: an ASP.NET Core app with a JSON API shaped after LIT's and the single-page
// front end (web/, built by Vite and embedded in this assembly).
//
//   GET    /api/info                 models (input/output spec, task, compatible interpreters,
//                                    generators, metrics, projections), datasets, limits
//   GET    /api/dataset?name=&offset=&limit=   examples of a served dataset
//   POST   /api/predict              {model, inputs:[datapoint]} or {model, dataset, ids?}
//   POST   /api/interpret            {model, input, methods:[...], target?} salience maps
//   POST   /api/attention            {model, input} attention patterns [layer][head][q][k]
//   POST   /api/metrics              {model, dataset, ids?, facet?} metrics per slice, confusion matrix
//   POST   /api/project              {model, dataset, ids?, method: pca|umap, dimensions: 2|3} embeddings projector
//   POST   /api/generate             {model, generator, input, rules?, count?} counterfactuals to review
//   GET/POST/DELETE /api/datapoints  datapoints added in the app (edits, counterfactuals)
//
// Every error is JSON {error, code, status}. Requests are bounded (body size, batch, text length,
// explainer parameters); model work is bounded (one computation per model, a global limit, a
// cap on waiting requests that answers 429 beyond it) and stops when the client goes away.
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Glassbox.Explain.Explainers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Glassbox.Server;

/// <summary>Counters the tests and the load test read.</summary>
public sealed class ServerStats
{
    internal long _predictionsComputed, _cacheHits, _interpretations, _cancelled, _rejectedBusy;
    public long PredictionsComputed => Interlocked.Read(ref _predictionsComputed);
    public long CacheHits => Interlocked.Read(ref _cacheHits);
    public long Interpretations => Interlocked.Read(ref _interpretations);
    public long Cancelled => Interlocked.Read(ref _cancelled);
    public long RejectedBusy => Interlocked.Read(ref _rejectedBusy);
}

/// <summary>The Glassbox web app: load models and datasets, then StartAsync and open Url.</summary>
public sealed partial class GlassboxServer : IAsyncDisposable
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private readonly ServerOptions _options;
    private readonly Dictionary<string, ModelHost> _models;
    private readonly DatasetStore _data;
    private readonly PredictionCache _cache;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, double[]> _embeddings = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _work;
    private readonly EmbeddedAssets _assets;
    private WebApplication? _app;
    private int _pending;

    private GlassboxServer(ServerOptions options, Dictionary<string, ModelHost> models, DatasetStore data)
    {
        _options = options; _models = models; _data = data;
        _cache = new PredictionCache(options.CacheEntries);
        _work = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentWork));
        _assets = EmbeddedAssets.Load();
    }

    public ServerStats Stats { get; } = new();

    /// <summary>The address the server listens on (after StartAsync).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Loads every model and dataset; a bad --model or --data is an ArgumentException naming it.</summary>
    public static GlassboxServer Create(ServerOptions options, TextWriter? log = null) => Create(options, [], [], log);

    /// <summary>Loads the models and datasets of <paramref name="options"/> and adds those registered in code (GlassboxApp).</summary>
    internal static GlassboxServer Create(ServerOptions options, IReadOnlyList<Func<ModelHost>> extraModels, IReadOnlyList<Func<ServedDataset>> extraDatasets, TextWriter? log)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Models.Count + extraModels.Count == 0) throw new ArgumentException("no model to serve; pass --model NAME=DIR_OR_ID (for example --model sst2=models/sst2-distilbert-tiny).");
        var dupModel = options.Models.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (dupModel is not null) throw new ArgumentException($"--model name '{dupModel.Key}' is given twice; names must be unique.");
        var dupData = options.Datasets.GroupBy(d => d.Name).FirstOrDefault(g => g.Count() > 1);
        if (dupData is not null) throw new ArgumentException($"--data name '{dupData.Key}' is given twice; names must be unique.");
        var models = new Dictionary<string, ModelHost>(StringComparer.Ordinal);
        foreach (var make in extraModels)
        {
            var host = make();
            if (!models.TryAdd(host.Name, host)) throw new ArgumentException($"model name '{host.Name}' is given twice; names must be unique.");
            log?.WriteLine($"model {host.Name}: {host.Architecture} ({host.Task})");
        }
        foreach (var m in options.Models)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var host = ModelHost.Load(m);
            if (!models.TryAdd(m.Name, host)) throw new ArgumentException($"model name '{m.Name}' is given twice; names must be unique.");
            log?.WriteLine($"model {m.Name}: {host.Model.ArchitectureName} ({host.Task}) from {host.Folder} in {started.Elapsed.TotalSeconds:F1} s");
        }
        var datasets = new List<ServedDataset>();
        foreach (var d in options.Datasets)
        {
            var ds = DatasetLoader.Load(d);
            datasets.Add(ds);
            log?.WriteLine($"dataset {d.Name}: {ds.Examples.Count} examples from {ds.File}");
        }
        foreach (var make in extraDatasets)
        {
            var ds = make();
            if (datasets.Any(x => x.Name == ds.Name)) throw new ArgumentException($"dataset name '{ds.Name}' is given twice; names must be unique.");
            datasets.Add(ds);
            log?.WriteLine($"dataset {ds.Name}: {ds.Examples.Count} examples");
        }
        return new GlassboxServer(options, models, new DatasetStore(datasets, options.MaxSavedDatapoints));
    }

    /// <summary>True when the host is a loopback address (the default); anything else exposes the models to the network.</summary>
    public static bool IsLoopback(string host) =>
        host is "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_hosted) throw new InvalidOperationException("this Glassbox server is mapped into another WebApplication (MapGlassbox); start that application instead.");
        _app ??= Build();
        await _app.StartAsync(ct);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var url = new Uri(addresses.First());
        // Kestrel reports the bound address; show loopback as 127.0.0.1 so the URL can be opened.
        Url = new UriBuilder(url) { Host = url.Host is "[::]" or "0.0.0.0" or "+" or "*" ? "127.0.0.1" : url.Host }.Uri;
        await WarmUpAsync(ct);
    }

    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app?.WaitForShutdownAsync(ct) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    private bool _hosted;

    /// <summary>Maps the API and the front end into <paramref name="app"/> (an application the caller builds and runs):
    /// the API under /api, the page for paths the application does not map itself. Errors, security headers and the
    /// request size limit apply to Glassbox's paths only.</summary>
    internal void MapInto(WebApplication app)
    {
        if (_app is not null || _hosted) throw new InvalidOperationException("this Glassbox server is already started or mapped; create another for another application.");
        _hosted = true;
        Configure(app);
    }

    private WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Glassbox.Server", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = _options.MaxRequestBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.AddServerHeader = false;
            var ip = _options.Host == "localhost" ? IPAddress.Loopback
                : IPAddress.TryParse(_options.Host, out var parsed) ? parsed
                : throw new ArgumentException($"--host '{_options.Host}' is not an IP address; use 127.0.0.1 (the default), 0.0.0.0 or a specific address.");
            k.Listen(ip, _options.Port);
        });
        var app = builder.Build();
        Configure(app);
        return app;
    }

    private void Configure(WebApplication app)
    {
        // Standalone, Glassbox owns every path; mapped into a host application, only /api and the paths nothing else handles.
        app.UseWhen(c => !_hosted || c.Request.Path.StartsWithSegments("/api") || c.GetEndpoint() is null, b =>
        {
            b.Use(Errors);
            b.Use(SecurityHeaders);
            b.Use((c, next) =>
            {
                if (c.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = _options.MaxRequestBytes;
                return next(c);
            });
        });
        // Anything no API endpoint matched is the front end: a file of the built app, or the page itself.
        app.Use((c, next) => c.GetEndpoint() is null && !c.Request.Path.StartsWithSegments("/api") ? ServeAsset(c) : next(c));

        app.MapGet("/api/info", () => Results.Json(Info(), Json));
        app.MapGet("/api/dataset", (HttpContext c) => Results.Json(Dataset(c.Request.Query), Json));
        app.MapPost("/api/predict", Handle(async c => await Predict(await Body<PredictRequest>(c), c.RequestAborted)));
        app.MapPost("/api/interpret", Handle(async c => await Interpret(await Body<InterpretRequest>(c), c.RequestAborted)));
        app.MapPost("/api/attention", Handle(async c => await Attention(await Body<AttentionRequest>(c), c.RequestAborted)));
        app.MapPost("/api/metrics", Handle(async c => await Metrics(await Body<MetricsRequest>(c), c.RequestAborted)));
        app.MapPost("/api/project", Handle(async c => await Project(await Body<ProjectRequest>(c), c.RequestAborted)));
        MapProjectionJobs(app);
        app.MapPost("/api/generate", Handle(async c => await Generate(await Body<GenerateRequest>(c), c.RequestAborted)));
        app.MapConcepts(_models.Values, new ConceptServices(Model, _data, _options, (m, work, ct) => Run(m, work, ct), PredictSelection));
        app.MapCompare(_models, _data, PredictSelection);
        app.MapGet("/api/datapoints", (HttpContext c) =>
        {
            var d = _data.Get(c.Request.Query["dataset"]);
            return Results.Json(new DatapointsResponse(d.Name, _data.Saved(d.Name)), Json);
        });
        app.MapPost("/api/datapoints", Handle(async c =>
        {
            var req = await Body<SaveDatapointsRequest>(c);
            var d = _data.Get(req.Dataset);
            if (req.Datapoints is not { Count: > 0 } points) throw new ApiException(400, "missing_field", "'datapoints' is missing or empty; send {dataset, datapoints:[{text, pair?, label?}]}.");
            if (points.Count > _options.MaxBatch) throw new ApiException(413, "batch_too_large", $"{points.Count} datapoints in one request; the limit is {_options.MaxBatch}.");
            for (int i = 0; i < points.Count; i++) CheckText(points[i], $"datapoints[{i}]");
            return new DatapointsResponse(d.Name, _data.Save(d, points));
        }));
        app.MapDelete("/api/datapoints", (HttpContext c) =>
        {
            var d = _data.Get(c.Request.Query["dataset"]);
            string id = c.Request.Query["id"].ToString();
            if (!_data.Delete(d.Name, id)) throw new ApiException(404, "unknown_id", $"dataset '{d.Name}' has no saved datapoint '{id}'.");
            return Results.Json(new DatapointsResponse(d.Name, _data.Saved(d.Name)), Json);
        });
        app.MapExampleAnalysis(new AnalysisContext(_models, _data, _options, (m, work, ct) => Run(m, work, ct)));
        app.Map("/api/{**rest}", (HttpContext c) =>
        {
            throw new ApiException(404, "unknown_endpoint", $"no API endpoint {c.Request.Method} {c.Request.Path}; see GET /api/info and the README's API section.");
        });
    }

    /// <summary>An async handler whose result is written as JSON (a lambda returning Task&lt;IResult&gt; would bind as a RequestDelegate and drop it).</summary>
    private static RequestDelegate Handle<T>(Func<HttpContext, Task<T>> handler) => async c =>
    {
        var result = await handler(c);
        await c.Response.WriteAsJsonAsync(result, Json, c.RequestAborted);
    };

    private async Task Errors(HttpContext c, RequestDelegate next)
    {
        try
        {
            await next(c);
        }
        catch (OperationCanceledException) when (c.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref Stats._cancelled);
            // The client is gone; there is no one to answer.
        }
        catch (Exception e) when (!c.Response.HasStarted)
        {
            var (status, code, message) = e switch
            {
                ApiException a => (a.Status, a.Code, a.Message),
                Microsoft.AspNetCore.Http.BadHttpRequestException b => (b.StatusCode, b.StatusCode == 413 ? "body_too_large" : "bad_request",
                    b.StatusCode == 413 ? $"the request body is larger than {_options.MaxRequestBytes:N0} bytes; send fewer inputs per request." : b.Message),
                JsonException j => (400, "malformed_json", $"the request body is not valid JSON for this endpoint: {j.Message}"),
                ArgumentException a => (400, "bad_input", a.Message),
                NotSupportedException n => (400, "not_supported", n.Message),
                _ => (500, "internal_error", $"{e.GetType().Name}: {e.Message}"),
            };
            c.Response.Clear();
            c.Response.StatusCode = status;
            await c.Response.WriteAsJsonAsync(new ApiError(message, code, status), Json);
        }
    }

    private static Task SecurityHeaders(HttpContext c, RequestDelegate next)
    {
        c.Response.Headers.XContentTypeOptions = "nosniff";
        c.Response.Headers.XFrameOptions = "DENY";
        c.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";
        return next(c);
    }

    private static async Task<T> Body<T>(HttpContext c) where T : class
    {
        if (c.Request.ContentType is { } ct && !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(415, "unsupported_media_type", $"send the body as application/json, not {ct}.");
        T? body;
        try { body = await JsonSerializer.DeserializeAsync<T>(c.Request.Body, Json, c.RequestAborted); }
        catch (JsonException e) { throw new ApiException(400, "malformed_json", $"the request body is not valid JSON for {c.Request.Path}: {e.Message}"); }
        return body ?? throw new ApiException(400, "malformed_json", $"the request body of {c.Request.Path} is empty or null; send a JSON object.");
    }

    private InfoResponse Info()
    {
        var models = _models.Values.Select(m => new ModelInfo(
            m.Name, m.Source, m.Architecture, m.Task, m.Labels, m.InputSpec, m.OutputSpec,
            m.Interpreters, m.HasAttention, ModelAnalysis.Generators(m), ModelAnalysis.Metrics(m), ModelAnalysis.Projections(m), m.MaxTokens)
            { Analysis = AnalysisEndpoints.Modules(m, _data.All), Concepts = ConceptEndpoints.Modules(m) }).ToArray();
        var datasets = _data.All.Select(d => new DatasetInfo(d.Name, Path.GetFileName(d.File), d.Examples.Count, d.Spec, d.Labels,
            _models.Values.Where(m => Compatible(m, d)).Select(m => m.Name).ToArray())).ToArray();
        return new InfoResponse(Version, models, datasets,
            new ServerLimits(_options.MaxRequestBytes, _options.MaxBatch, _options.MaxTextChars, _options.MaxNewTokens, _options.MaxSteps, _options.MaxSamples));
    }

    /// <summary>A dataset fits a model when it has every field the model requires.</summary>
    private static bool Compatible(ModelHost m, ServedDataset d) =>
        m.InputSpec.Where(kv => kv.Value.Required).All(kv => kv.Key == "text" || (kv.Key == "pair" && d.HasPair));

    private static string Version { get; } = typeof(GlassboxServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    private DatasetResponse Dataset(IQueryCollection q)
    {
        var d = _data.Get(q["name"]);
        int offset = QueryInt(q, "offset", 0), limit = QueryInt(q, "limit", 100_000);
        if (offset < 0 || limit < 0) throw new ApiException(400, "bad_input", "offset and limit must be non-negative.");
        var slice = d.Examples.Skip(offset).Take(limit).ToArray();
        return new DatasetResponse(d.Name, d.Spec, d.Examples.Count, offset, slice);
    }

    private static int QueryInt(IQueryCollection q, string name, int fallback)
    {
        string? v = q[name];
        if (string.IsNullOrEmpty(v)) return fallback;
        return int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int r) ? r
            : throw new ApiException(400, "bad_input", $"query parameter '{name}' must be an integer, not '{v}'.");
    }

    private ModelHost Model(string? name)
    {
        if (string.IsNullOrEmpty(name)) throw new ApiException(400, "missing_field", $"'model' is missing; served models: {string.Join(", ", _models.Keys)}.");
        return _models.TryGetValue(name, out var m) ? m
            : throw new ApiException(404, "unknown_model", $"unknown model '{name}'; served models: {string.Join(", ", _models.Keys)}.");
    }

    private void CheckText(Datapoint d, string where)
    {
        if (d.Text is null) throw new ApiException(400, "missing_field", $"{where}: 'text' is missing.");
        if (d.Text.Length > _options.MaxTextChars || (d.Pair?.Length ?? 0) > _options.MaxTextChars)
            throw new ApiException(413, "text_too_long", $"{where}: a text field is longer than {_options.MaxTextChars} characters.");
    }

    /// <summary>Runs model work under the bounds: at most MaxPendingRequests waiting or running, one computation per model, MaxConcurrentWork in all.</summary>
    private async Task<T> Run<T>(ModelHost m, Func<T> work, CancellationToken ct)
    {
        if (Interlocked.Increment(ref _pending) > _options.MaxPendingRequests)
        {
            Interlocked.Decrement(ref _pending);
            Interlocked.Increment(ref Stats._rejectedBusy);
            throw new ApiException(429, "busy", $"the server is busy ({_options.MaxPendingRequests} model requests running or waiting); retry shortly.");
        }
        try
        {
            await m.Gate.WaitAsync(ct);
            try
            {
                await _work.WaitAsync(ct);
                try
                {
                    ct.ThrowIfCancellationRequested();
                    return await Task.Run(work, ct);
                }
                finally { _work.Release(); }
            }
            finally { m.Gate.Release(); }
        }
        finally { Interlocked.Decrement(ref _pending); }
    }

    /// <summary>Predictions for a dataset selection (cached), as metrics and projections need them.</summary>
    private async Task<(IReadOnlyList<Datapoint> Points, Prediction[] Predictions)> PredictSelection(ModelHost m, string? dataset, IReadOnlyList<string>? ids, CancellationToken ct)
    {
        var d = _data.Get(dataset);
        var points = _data.Resolve(d, ids);
        var r = await Predict(new PredictRequest { Model = m.Name, Inputs = points, MaxNewTokens = 1 }, ct, allowLarge: true);
        return (points, r.Predictions.ToArray());
    }

    private async Task<MetricsResponse> Metrics(MetricsRequest req, CancellationToken ct)
    {
        var m = Model(req.Model);
        if (ModelAnalysis.Metrics(m).Count == 0) throw new ApiException(400, "no_metrics", $"model '{m.Name}' ({m.Task}) has no metrics in the app; see /api/info.");
        var (points, predictions) = await PredictSelection(m, req.Dataset, req.Ids, ct);
        return ModelAnalysis.ComputeMetrics(m, req.Dataset!, points, predictions, req, _data.Get(req.Dataset).Spec);
    }

    private async Task<ProjectResponse> Project(ProjectRequest req, CancellationToken ct)
    {
        var (m, _, points, method, dims) = ResolveProjection(req);
        var embeddings = new double[points.Count][];
        for (int i = 0; i < points.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var p = points[i];
            string key = PredictionCache.Key(m.Name, p, -1);
            if (_embeddings.TryGetValue(key, out var e)) { embeddings[i] = e; continue; }
            embeddings[i] = await Run(m, () => ModelAnalysis.Embedding(m, p), ct);
            if (_embeddings.Count < _options.CacheEntries) _embeddings[key] = embeddings[i];
        }
        var ids = points.Select((p, i) => p.Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        // UMAP takes seconds on a few thousand rows: off the request thread, counted against the work limit.
        await _work.WaitAsync(ct);
        try { return await Task.Run(() => ModelAnalysis.Project(m, ids, embeddings, method, dims), ct); }
        finally { _work.Release(); }
    }

    private async Task<GenerateResponse> Generate(GenerateRequest req, CancellationToken ct)
    {
        var m = Model(req.Model);
        if (ModelAnalysis.Generators(m).Count == 0) throw new ApiException(400, "no_generators", $"model '{m.Name}' ({m.Task}) has no counterfactual generators; see /api/info.");
        var d = req.Input ?? throw new ApiException(400, "missing_field", "'input' is missing; send {model, generator, input:{text}}.");
        CheckText(d, "input");
        m.CheckInput(d, _options.MaxTextChars, "input");
        if (!string.IsNullOrEmpty(d.Pair)) throw new ApiException(400, "bad_input", "the counterfactual generators edit single texts; remove 'pair'.");
        if (!ModelAnalysis.Generators(m).Contains(req.Generator ?? ""))
            throw new ApiException(400, "unknown_generator", $"unknown generator '{req.Generator}' for model '{m.Name}'; available: {string.Join(", ", ModelAnalysis.Generators(m))}.");
        return await Run(m, () => ModelAnalysis.Generate(m, req, d), ct);
    }

    private Task<PredictResponse> Predict(PredictRequest req, CancellationToken ct) => Predict(req, ct, allowLarge: false);

    private async Task<PredictResponse> Predict(PredictRequest req, CancellationToken ct, bool allowLarge)
    {
        var m = Model(req.Model);
        IReadOnlyList<Datapoint> inputs;
        if (req.Inputs is not null && req.Dataset is not null)
            throw new ApiException(400, "bad_input", "give either 'inputs' or 'dataset' (with optional 'ids'), not both.");
        if (req.Inputs is not null) inputs = req.Inputs;
        else if (req.Dataset is not null) inputs = _data.Resolve(_data.Get(req.Dataset), req.Ids);
        else throw new ApiException(400, "missing_field", "'inputs' is missing; send {model, inputs:[{text, pair?}]} or {model, dataset, ids?}.");
        if (inputs.Count > _options.MaxBatch && !allowLarge)
            throw new ApiException(413, "batch_too_large", $"{inputs.Count} inputs in one request; the limit is {_options.MaxBatch}. Send them in chunks.");
        int maxNew = req.MaxNewTokens ?? 20;
        if (maxNew < 1 || maxNew > _options.MaxNewTokens)
            throw new ApiException(400, "bad_input", $"maxNewTokens must be between 1 and {_options.MaxNewTokens}, not {maxNew}.");
        if (m.Task != ServedTasks.Generation) maxNew = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is null) throw new ApiException(400, "bad_input", $"inputs[{i}] is null.");
            CheckText(inputs[i], $"inputs[{i}]");
            m.CheckInput(inputs[i], _options.MaxTextChars, $"inputs[{i}]");
        }
        var results = new Prediction[inputs.Count];
        int cached = 0;
        if (!m.IsNative) cached = await PredictCustom(m, inputs, results, ct);
        else for (int i = 0; i < inputs.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var d = inputs[i];
            string key = PredictionCache.Key(m.Name, d, maxNew);
            if (_cache.TryGet(key, out var hit)) { results[i] = hit; cached++; Interlocked.Increment(ref Stats._cacheHits); continue; }
            var p = await Run(m, () => m.Predict(d, maxNew), ct);
            Interlocked.Increment(ref Stats._predictionsComputed);
            _cache.Add(key, p);
            results[i] = p;
        }
        return new PredictResponse(m.Name, inputs.Select(d => d.Id).ToArray(), results, cached);
    }

    /// <summary>A model given by its spec predicts the uncached inputs in batches (one call per batch: an HTTP model
    /// sends one request per batch instead of one per example).</summary>
    private async Task<int> PredictCustom(ModelHost m, IReadOnlyList<Datapoint> inputs, Prediction[] results, CancellationToken ct)
    {
        const int Batch = 32;
        int cached = 0;
        var misses = new List<int>();
        for (int i = 0; i < inputs.Count; i++)
        {
            if (_cache.TryGet(PredictionCache.Key(m.Name, inputs[i], 0), out var hit)) { results[i] = hit; cached++; Interlocked.Increment(ref Stats._cacheHits); }
            else misses.Add(i);
        }
        for (int start = 0; start < misses.Count; start += Batch)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = misses.Skip(start).Take(Batch).ToArray();
            var predicted = await Run(m, () => m.PredictBatch(chunk.Select(i => inputs[i]).ToArray()), ct);
            for (int k = 0; k < chunk.Length; k++)
            {
                results[chunk[k]] = predicted[k];
                _cache.Add(PredictionCache.Key(m.Name, inputs[chunk[k]], 0), predicted[k]);
                Interlocked.Increment(ref Stats._predictionsComputed);
            }
        }
        return cached;
    }

    private async Task<InterpretResponse> Interpret(InterpretRequest req, CancellationToken ct)
    {
        var m = Model(req.Model);
        var d = req.Input ?? throw new ApiException(400, "missing_field", "'input' is missing; send {model, input:{text, pair?}, methods:[...]}.");
        CheckText(d, "input");
        m.CheckInput(d, _options.MaxTextChars, "input");
        if (m.Interpreters.Count == 0)
            throw new ApiException(400, "no_interpreters", $"model '{m.Name}' ({m.Task}) has no salience methods; see /api/info.");
        var methods = req.Methods is { Count: > 0 } ms ? ms : ["lig"];
        if (methods.Count > AttributionMethods.Names.Count) throw new ApiException(400, "bad_input", $"at most {AttributionMethods.Names.Count} methods per request.");
        var parsed = methods.Select(name =>
        {
            if (!m.Interpreters.Contains(name))
                throw m.Unavailable(name) is { } why
                    ? new ApiException(400, "needs_gradients", why)
                    : new ApiException(400, "unknown_method", $"unknown interpreter '{name}' for model '{m.Name}'; compatible: {string.Join(", ", m.Interpreters)}.");
            return (Name: name, Method: AttributionMethods.Parse(name));
        }).ToArray();
        int steps = req.Steps ?? 50, samples = req.Samples ?? 200;
        if (steps < 1 || steps > _options.MaxSteps) throw new ApiException(400, "bad_input", $"steps must be between 1 and {_options.MaxSteps}, not {steps}.");
        if (samples < 1 || samples > _options.MaxSamples) throw new ApiException(400, "bad_input", $"samples must be between 1 and {_options.MaxSamples}, not {samples}.");

        // The prediction decides the default target (and the valid ones for token classification).
        string key = PredictionCache.Key(m.Name, d, 0);
        if (!_cache.TryGet(key, out var prediction))
        {
            prediction = await Run(m, () => m.Predict(d, 0), ct);
            _cache.Add(key, prediction);
        }
        var (targets, fallback) = m.Targets(prediction);
        string target = req.Target ?? fallback;
        if (!targets.Contains(target))
            throw new ApiException(400, "bad_target", $"target '{target}' is not one of model '{m.Name}''s targets: {string.Join(", ", targets.Take(50))}.");
        var results = new List<SalienceResult>();
        foreach (var (name, method) in parsed)
        {
            ct.ThrowIfCancellationRequested();
            var options = new ExplainerOptions { Method = method, Steps = steps, Samples = samples, PerturbWords = req.PerturbWords ?? false, InternalBatchSize = 25 };
            results.Add(await Run(m, () => m.Interpret(d, name, target, options), ct));
            Interlocked.Increment(ref Stats._interpretations);
        }
        return new InterpretResponse(m.Name, targets, target, results);
    }

    private async Task<AttentionResponse> Attention(AttentionRequest req, CancellationToken ct)
    {
        var m = Model(req.Model);
        var d = req.Input ?? throw new ApiException(400, "missing_field", "'input' is missing; send {model, input:{text, pair?}}.");
        CheckText(d, "input");
        m.CheckInput(d, _options.MaxTextChars, "input");
        if (!m.HasAttention) throw new ApiException(400, "not_supported", m.IsNative
            ? $"model '{m.Name}' ({m.Architecture}) exposes no attention patterns to the app."
            : $"model '{m.Name}' ({m.Architecture}) is a black box: attention needs a Glassbox transformer's hook points, which its spec does not give; /api/info lists its attention as false.");
        return await Run(m, () => m.Attention(d), ct);
    }

    private async Task ServeAsset(HttpContext c)
    {
        if (!HttpMethods.IsGet(c.Request.Method) && !HttpMethods.IsHead(c.Request.Method))
        {
            c.Response.StatusCode = 405;
            return;
        }
        string path = c.Request.Path.Value is { Length: > 1 } p ? p.TrimStart('/') : "index.html";
        if (!_assets.TryGet(path, out var asset))
        {
            // Paths without an extension are app routes: the single page handles them.
            if (Path.HasExtension(path)) { c.Response.StatusCode = 404; return; }
            asset = _assets.Index;
            path = "index.html";
        }
        c.Response.ContentType = asset.ContentType;
        c.Response.Headers.CacheControl = path.StartsWith("assets/", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache";
        c.Response.ContentLength = asset.Bytes.Length;
        if (HttpMethods.IsGet(c.Request.Method)) await c.Response.Body.WriteAsync(asset.Bytes, c.RequestAborted);
    }
}
