// What `glassbox serve` was told: the models and datasets by name (the only files the API can
// reach), where to listen, and the limits that keep one client from starving the others.
namespace Glassbox.Server;

/// <summary>A model to serve: a name for the API and a Hugging Face folder or Hub id.</summary>
public sealed record ModelSource(string Name, string Source);

/// <summary>A dataset to serve: a name for the API and a CSV/TSV/JSONL/Parquet file named on the command line.
/// <paramref name="Columns"/> names the columns (--text-column, --label-column, --pair-column); null finds them by their
/// usual names (sentence/text, label, pair/context, id).</summary>
public sealed record DatasetSource(string Name, string Path, Glassbox.Models.Data.DataColumns? Columns = null);

/// <summary>Everything the server needs; defaults are the command line's.</summary>
public sealed class ServerOptions
{
    public IReadOnlyList<ModelSource> Models { get; init; } = [];
    public IReadOnlyList<DatasetSource> Datasets { get; init; } = [];
    /// <summary>Interface to bind; 127.0.0.1 unless the user asks otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 5432;
    /// <summary>Largest request body accepted (bytes); larger ones get 413 with a JSON error.</summary>
    public long MaxRequestBytes { get; init; } = 2_000_000;
    /// <summary>Most inputs in one predict request.</summary>
    public int MaxBatch { get; init; } = 1000;
    /// <summary>Longest text field accepted (characters).</summary>
    public int MaxTextChars { get; init; } = 20_000;
    /// <summary>Predictions kept in the cache (least recently used are dropped).</summary>
    public int CacheEntries { get; init; } = 100_000;
    /// <summary>Model requests running or waiting at once; beyond this the server answers 429 instead of queueing without bound.</summary>
    public int MaxPendingRequests { get; init; } = 64;
    /// <summary>How many model computations run at once across all models (each model runs one at a time).</summary>
    public int MaxConcurrentWork { get; init; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Upper bound on tokens generated per request for language models.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Upper bounds on costly explainer parameters a request may ask for.</summary>
    public int MaxSteps { get; init; } = 300;
    public int MaxSamples { get; init; } = 2000;
    /// <summary>Saved datapoints kept per dataset.</summary>
    public int MaxSavedDatapoints { get; init; } = 10_000;
    /// <summary>TCAV (/api/tcav): most runs, layers per request, and class examples scored (a seeded sample beyond it).</summary>
    public int MaxTcavRuns { get; init; } = 50;
    public int MaxTcavLayers { get; init; } = 12;
    public int MaxTcavClassExamples { get; init; } = 500;
    /// <summary>Phrase trees (/api/hierarchy): most SOC samples per phrase and words per text.</summary>
    public int MaxHierarchySamples { get; init; } = 100;
    public int MaxHierarchyWords { get; init; } = 128;

    /// <summary>Parses NAME=VALUE (a bare VALUE is named after its last path segment).</summary>
    public static (string Name, string Value) ParseNamed(string arg, string option)
    {
        ArgumentNullException.ThrowIfNull(arg);
        int eq = arg.IndexOf('=');
        string name, value;
        if (eq < 0) { value = arg; name = System.IO.Path.GetFileNameWithoutExtension(arg.TrimEnd('/', '\\')); }
        else { name = arg[..eq].Trim(); value = arg[(eq + 1)..].Trim(); }
        if (name.Length == 0 || value.Length == 0)
            throw new ArgumentException($"{option} '{arg}' is not NAME=VALUE; for example {option} sst2=models/sst2-distilbert-tiny.");
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"{option} name '{name}' may contain only letters, digits, '-', '_' and '.'.");
        return (name, value);
    }
}
