// Projections as background jobs, so a UMAP of a whole dataset (seconds of work) never holds a
// request open and the page stays usable while it runs:
//
//   POST   /api/project/jobs          {model, dataset, ids?, method: pca|umap, dimensions: 2|3}
//                                    → 202 {id, state, stage, progress, ...}; the same request while
//                                    a job for it is running or done gives that job (200)
//   GET    /api/project/jobs/{id}    the job: state running|done|failed|cancelled, stage
//                                    (queued, embeddings, neighbors, fuzzy-set, initialisation,
//                                    layout), done/total of the stage, progress 0…1, and when done
//                                    the same ProjectResponse as POST /api/project
//   DELETE /api/project/jobs/{id}    cancels a running job (it stops at the next row or epoch)
//
// Embeddings are computed one row at a time through the model's gate, so predictions and salience
// requests for a clicked row interleave with the job; the UMAP fit itself runs on the thread pool
// under the global work limit, reports every epoch and checks for cancellation between epochs.
// Jobs are bounded: MaxRunningJobs at once (more get 429), the most recent MaxKeptJobs kept.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Glassbox.Explain.Projections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Glassbox.Server;

/// <summary>The state of a projection job as GET /api/project/jobs/{id} returns it. <c>Stages</c> lists every stage the
/// job has entered so far, in order, with the seconds since the job started at which it began (a poller that
/// misses a short stage still sees it there).</summary>
public sealed record ProjectionJobStatus(string Id, string Model, string Dataset, string Method, int Dimensions, int Count, string State, string Stage,
    int Done, int Total, double Progress, double Seconds, IReadOnlyList<ProjectionJobStage> Stages, ProjectResponse? Result, ApiError? Error);

/// <summary>A stage of a projection job and when it began (seconds since the job started).</summary>
public sealed record ProjectionJobStage(string Name, double StartedSeconds);

public sealed partial class GlassboxServer
{
    /// <summary>Projection jobs running at once; a further POST is answered 429.</summary>
    internal const int MaxRunningJobs = 4;

    /// <summary>Finished jobs kept for GET (oldest dropped first).</summary>
    internal const int MaxKeptJobs = 32;

    private readonly ConcurrentDictionary<string, ProjectionJob> _jobs = new(StringComparer.Ordinal);
    private long _nextJobId;

    /// <summary>Maps the projection job endpoints (one registration line in Build).</summary>
    private void MapProjectionJobs(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/project/jobs", async c =>
        {
            var (job, created) = StartProjectionJob(await Body<ProjectRequest>(c));
            c.Response.StatusCode = created ? 202 : 200;
            c.Response.Headers.Location = $"/api/project/jobs/{job.Id}";
            await c.Response.WriteAsJsonAsync(job.Status(), Json, c.RequestAborted);
        });
        app.MapGet("/api/project/jobs/{id}", (string id) => Results.Json(Job(id).Status(), Json));
        app.MapDelete("/api/project/jobs/{id}", (string id) =>
        {
            var job = Job(id);
            job.Cancel();
            return Results.Json(job.Status(), Json);
        });
    }

    private ProjectionJob Job(string id) => _jobs.TryGetValue(id, out var j) ? j
        : throw new ApiException(404, "unknown_job", $"no projection job '{id}'; start one with POST /api/project/jobs (finished jobs are kept for the {MaxKeptJobs} most recent).");

    /// <summary>The model, dataset, rows, method and dimensions a projection request names, checked (POST /api/project
    /// and the projection jobs share it); errors say what is available.</summary>
    private (ModelHost Model, ServedDataset Dataset, IReadOnlyList<Datapoint> Points, string Method, int Dimensions) ResolveProjection(ProjectRequest req)
    {
        var m = Model(req.Model);
        if (ModelAnalysis.Projections(m).Count == 0) throw new ApiException(400, "no_projections", $"model '{m.Name}' ({m.Task}) has no projections; see /api/info.");
        var d = _data.Get(req.Dataset);
        var points = _data.Resolve(d, req.Ids);
        string method = req.Method ?? "pca";
        int dims = req.Dimensions ?? 2;
        if (!ModelAnalysis.Projections(m).Contains(method)) throw new ApiException(400, "unknown_method", $"unknown projection '{method}'; available: {string.Join(", ", ModelAnalysis.Projections(m))}.");
        if (dims is not (2 or 3)) throw new ApiException(400, "bad_input", $"dimensions must be 2 or 3, not {dims}.");
        int minimum = method == "umap" ? 4 : dims + 1;
        if (points.Count < minimum) throw new ApiException(400, "bad_input", $"{method.ToUpperInvariant()} to {dims}-D needs at least {minimum} examples; the selection has {points.Count}.");
        return (m, d, points, method, dims);
    }

    private (ProjectionJob Job, bool Created) StartProjectionJob(ProjectRequest req)
    {
        var (m, d, points, method, dims) = ResolveProjection(req);

        string key = string.Join("\u0000", m.Name, d.Name, method, dims.ToString(CultureInfo.InvariantCulture), string.Join("\u0001", points.Select(p => p.Id)));
        lock (_jobs)
        {
            var same = _jobs.Values.Where(j => j.Key == key && j.State is "running" or "done").OrderByDescending(j => j.Created).FirstOrDefault();
            if (same is not null) return (same, false);
            int running = _jobs.Values.Count(j => j.State == "running");
            if (running >= MaxRunningJobs)
                throw new ApiException(429, "busy", $"{running} projection jobs are running; wait for one to finish or cancel one (DELETE /api/project/jobs/ID).");
            foreach (var old in _jobs.Values.Where(j => j.State != "running").OrderByDescending(j => j.Created).Skip(MaxKeptJobs - 1).ToArray())
                _jobs.TryRemove(old.Id, out _);
            string id = $"p{Interlocked.Increment(ref _nextJobId)}";
            var job = new ProjectionJob(id, key, m.Name, d.Name, method, dims, points.Count);
            _jobs[id] = job;
            job.Task = Task.Run(() => RunProjectionJob(job, m, points));
            return (job, true);
        }
    }

    private async Task RunProjectionJob(ProjectionJob job, ModelHost m, IReadOnlyList<Datapoint> points)
    {
        var ct = job.Token;
        try
        {
            job.Report("embeddings", 0, points.Count);
            var embeddings = new double[points.Count][];
            for (int i = 0; i < points.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var p = points[i];
                string key = PredictionCache.Key(m.Name, p, -1);
                if (!_embeddings.TryGetValue(key, out var e))
                {
                    e = await RunJobStep(m, () => ModelAnalysis.Embedding(m, p), ct);
                    if (_embeddings.Count < _options.CacheEntries) _embeddings[key] = e;
                }
                embeddings[i] = e;
                job.Report("embeddings", i + 1, points.Count);
            }
            var ids = points.Select((p, i) => p.Id ?? i.ToString(CultureInfo.InvariantCulture)).ToArray();
            await _work.WaitAsync(ct);
            try
            {
                job.Complete(await Task.Run(() => ModelAnalysis.Project(m, ids, embeddings, job.Method, job.Dimensions, job, ct), ct));
            }
            finally { _work.Release(); }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { job.Cancelled(); }
        catch (ApiException e) { job.Fail(new ApiError(e.Message, e.Code, e.Status)); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            job.Fail(new ApiError($"{e.GetType().Name}: {e.Message}", "projection_failed", 500));
        }
    }

    /// <summary>
    /// Runs the page's first requests once before the server is announced, so their one-time costs
    /// (JIT of routing, JSON and the model's forward pass) are not paid while the user waits for the
    /// first prediction: GET / and /api/info, one row of the first dataset, and one prediction per native
    /// non-generative model (called directly, so the server's counters and cache are untouched).
    /// Failures are ignored: the real requests report them.
    /// </summary>
    private async Task WarmUpAsync(CancellationToken ct)
    {
        try
        {
            using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
            using (await http.GetAsync("/", ct)) { }
            using (await http.GetAsync("/api/info", ct)) { }
            if (_data.All.FirstOrDefault() is { } first)
                using (await http.GetAsync($"/api/dataset?name={Uri.EscapeDataString(first.Name)}&limit=1", ct)) { }
            foreach (var m in _models.Values.Where(m => m.IsNative && m.Task != ServedTasks.Generation))
            {
                await m.Gate.WaitAsync(ct);
                try
                {
                    var p = await Task.Run(() => m.Predict(new Datapoint { Text = "a warm up sentence ." }, 0), ct);
                    _ = System.Text.Json.JsonSerializer.Serialize(new PredictResponse(m.Name, [null], [p], 0), Json);
                }
                finally { m.Gate.Release(); }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ApiException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // the warm-up is an optimisation only
        }
    }

    /// <summary>One row of the job under the model's gate and the global work limit, but not the pending-request cap (a job is one client).</summary>
    private async Task<T> RunJobStep<T>(ModelHost m, Func<T> work, CancellationToken ct)
    {
        await m.Gate.WaitAsync(ct);
        try
        {
            await _work.WaitAsync(ct);
            try { return work(); }
            finally { _work.Release(); }
        }
        finally { m.Gate.Release(); }
    }
}

/// <summary>One projection in the background: its progress, result or error, and its cancellation.</summary>
internal sealed class ProjectionJob(string id, string key, string model, string dataset, string method, int dimensions, int count) : IProgress<UmapProgress>
{
    // Share of the progress bar the embeddings take (the rest is the projection itself).
    private const double EmbeddingShare = 0.4;
    private readonly CancellationTokenSource _cts = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();
    private string _state = "running", _stage = "queued";
    private int _done, _total;
    private double _progress;
    private double? _seconds;
    private ProjectResponse? _result;
    private ApiError? _error;
    private readonly List<ProjectionJobStage> _stages = [];

    public string Id { get; } = id;
    public string Key { get; } = key;
    public string Method { get; } = method;
    public int Dimensions { get; } = dimensions;
    public DateTime Created { get; } = DateTime.UtcNow;
    public CancellationToken Token => _cts.Token;
    public Task? Task { get; set; }
    public string State { get { lock (_lock) return _state; } }

    public void Report(string stage, int done, int total)
    {
        lock (_lock)
        {
            if (_state != "running") return;
            if (_stages.Count == 0 || _stages[^1].Name != stage) _stages.Add(new ProjectionJobStage(stage, Math.Round(_clock.Elapsed.TotalSeconds, 3)));
            _stage = stage; _done = done; _total = total;
            double within = total > 0 ? (double)done / total : 1;
            // embeddings fill the first share; UMAP's stages 5% each, its layout the rest; PCA is one step
            double p = stage switch
            {
                "embeddings" => EmbeddingShare * within,
                "neighbors" => EmbeddingShare + 0.05,
                "fuzzy-set" => EmbeddingShare + 0.10,
                "initialisation" => EmbeddingShare + 0.15,
                "layout" => EmbeddingShare + 0.15 + (1 - EmbeddingShare - 0.15) * within,
                _ => _progress,
            };
            _progress = Math.Max(_progress, Math.Min(p, 0.999));
        }
    }

    void IProgress<UmapProgress>.Report(UmapProgress value) => Report(value.Stage, value.Done, value.Total);

    public void Complete(ProjectResponse result)
    {
        lock (_lock)
        {
            if (_state != "running") return;
            _result = result; _state = "done"; _stage = "done"; _progress = 1; _done = _total = 1; _seconds = _clock.Elapsed.TotalSeconds;
        }
    }

    public void Fail(ApiError error)
    {
        lock (_lock) { if (_state == "running") { _error = error; _state = "failed"; _seconds = _clock.Elapsed.TotalSeconds; } }
    }

    public void Cancelled()
    {
        lock (_lock) { if (_state == "running") { _state = "cancelled"; _seconds = _clock.Elapsed.TotalSeconds; } }
    }

    /// <summary>Asks the job to stop; it reports "cancelled" once the running step notices.</summary>
    public void Cancel()
    {
        lock (_lock) { if (_state != "running") return; }
        _cts.Cancel();
    }

    public ProjectionJobStatus Status()
    {
        lock (_lock)
            return new ProjectionJobStatus(Id, model, dataset, Method, Dimensions, count, _state, _stage, _done, _total, Math.Round(_progress, 4),
                Math.Round(_seconds ?? _clock.Elapsed.TotalSeconds, 3), [.. _stages], _result, _error);
    }
}
