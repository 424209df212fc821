// The datasets named on the command line, loaded once at start-up, and the datapoints users add in
// the app (edits, counterfactuals), kept in memory per dataset. The API never opens a file: a
// request names a dataset, and only the files given to `glassbox serve --data` were ever read.
using System.Collections.Concurrent;

namespace Glassbox.Server;

internal sealed class ServedDataset
{
    public required string Name { get; init; }
    public required string File { get; init; }
    public required IReadOnlyList<Datapoint> Examples { get; init; }
    public required bool HasPair { get; init; }
    public required bool HasLabel { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public Dictionary<string, Datapoint> ById { get; } = [];
    /// <summary>The file's extra columns: "Scalar" when every non-empty value is a finite number, else "CategoryLabel" with its values.</summary>
    public IReadOnlyDictionary<string, FieldSpec> FieldSpecs { get; init; } = new Dictionary<string, FieldSpec>();

    public IReadOnlyDictionary<string, FieldSpec> Spec
    {
        get
        {
            var s = new Dictionary<string, FieldSpec> { ["id"] = new("Id"), ["text"] = new("TextSegment") };
            if (HasPair) s["pair"] = new("TextSegment");
            if (HasLabel) s["label"] = new("CategoryLabel", Labels.Count > 0 ? Labels : null);
            foreach (var (name, spec) in FieldSpecs) s.TryAdd(name, spec);
            return s;
        }
    }
}

internal sealed class DatasetStore
{
    private readonly Dictionary<string, ServedDataset> _datasets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<Datapoint>> _saved = new(StringComparer.Ordinal);
    private readonly int _maxSaved;
    private long _nextSavedId;

    public DatasetStore(IEnumerable<ServedDataset> datasets, int maxSaved)
    {
        foreach (var d in datasets)
        {
            foreach (var e in d.Examples) d.ById[e.Id!] = e;
            _datasets.Add(d.Name, d);
        }
        _maxSaved = maxSaved;
    }

    public IEnumerable<ServedDataset> All => _datasets.Values;

    public ServedDataset Get(string? name)
    {
        if (string.IsNullOrEmpty(name))
            throw new ApiException(400, "missing_field", $"'dataset' is missing; served datasets: {Names()}.");
        return _datasets.TryGetValue(name, out var d) ? d
            : throw new ApiException(404, "unknown_dataset", $"unknown dataset '{name}'; served datasets: {Names()}.");
    }

    private string Names() => _datasets.Count == 0 ? "(none; start the server with --data NAME=FILE)" : string.Join(", ", _datasets.Keys);

    /// <summary>The examples with the given ids (all when null), saved datapoints included; unknown ids are a 404 naming them.</summary>
    public IReadOnlyList<Datapoint> Resolve(ServedDataset d, IReadOnlyList<string>? ids)
    {
        if (ids is null) return d.Examples;
        var saved = Saved(d.Name).ToDictionary(p => p.Id!, StringComparer.Ordinal);
        var result = new List<Datapoint>(ids.Count);
        var missing = new List<string>();
        foreach (var id in ids)
        {
            if (d.ById.TryGetValue(id, out var e) || saved.TryGetValue(id, out e)) result.Add(e);
            else missing.Add(id);
        }
        if (missing.Count > 0)
            throw new ApiException(404, "unknown_id", $"dataset '{d.Name}' has no example with id {string.Join(", ", missing.Take(5).Select(m => $"'{m}'"))}{(missing.Count > 5 ? $" (and {missing.Count - 5} more)" : "")}.");
        return result;
    }

    public IReadOnlyList<Datapoint> Saved(string dataset)
    {
        var list = _saved.GetOrAdd(dataset, _ => []);
        lock (list) return list.ToArray();
    }

    /// <summary>Adds datapoints to a dataset's saved list, giving each a fresh id.</summary>
    public IReadOnlyList<Datapoint> Save(ServedDataset d, IReadOnlyList<Datapoint> points)
    {
        var list = _saved.GetOrAdd(d.Name, _ => []);
        lock (list)
        {
            if (list.Count + points.Count > _maxSaved)
                throw new ApiException(413, "too_many_saved", $"dataset '{d.Name}' already has {list.Count} saved datapoints; at most {_maxSaved} are kept.");
            var added = points.Select(p => p with { Id = $"saved-{Interlocked.Increment(ref _nextSavedId)}", Source = p.Source ?? "edit" }).ToArray();
            list.AddRange(added);
            return added;
        }
    }

    public bool Delete(string dataset, string id)
    {
        var list = _saved.GetOrAdd(dataset, _ => []);
        lock (list) return list.RemoveAll(p => p.Id == id) > 0;
    }
}
