// Nearest neighbours in hidden space: an index of the training set's representations at one hook
// point (the [CLS] position, or the mean over all positions — examples are never padded here), searched exactly — every row is
// scored, in chunks that run in parallel, each keeping its own top k, merged at the end. Cosine
// similarity (higher = nearer; a zero vector has similarity 0 to everything) or Euclidean
// distance (lower = nearer). Ties are broken by training-set order, so results are deterministic.
using System.Numerics.Tensors;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.TrainingData;

public enum Pooling { Cls, Mean }

public enum DistanceMetric { Cosine, L2 }

/// <summary>A training example near the query: Score is the cosine similarity or the L2 distance.</summary>
public sealed record Neighbour(int Index, string Id, double Score, int? Label, string? Text);

/// <summary>Training-set representations at a hook point, for exact nearest-neighbour search.</summary>
public sealed class RepresentationIndex
{
    private readonly float[] _vectors;
    private readonly double[] _norms;

    /// <summary>An index over precomputed vectors: row i (of vectors, n × dim, row-major) belongs to examples[i].</summary>
    public RepresentationIndex(IReadOnlyList<EncodedExample> examples, float[] vectors, int dim, string? hookPoint = null, Pooling pooling = Pooling.Cls)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(vectors);
        if (examples.Count == 0) throw new ArgumentException("Nearest neighbours: the index is empty; give at least one training example.", nameof(examples));
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), $"dim must be ≥ 1, got {dim}.");
        if (vectors.Length != examples.Count * dim)
            throw new ArgumentException($"Nearest neighbours: {vectors.Length} values do not make {examples.Count} rows of dimension {dim} (need {examples.Count * dim}).", nameof(vectors));
        foreach (var v in vectors)
            if (!float.IsFinite(v)) throw new ArgumentException("Nearest neighbours: the representations contain NaN or infinity.", nameof(vectors));
        Examples = examples; _vectors = vectors; Dim = dim; HookPoint = hookPoint; Pooling = pooling;
        _norms = new double[examples.Count];
        for (int i = 0; i < examples.Count; i++) _norms[i] = Math.Sqrt(TensorPrimitives.Dot<float>(Row(i), Row(i)));
    }

    public IReadOnlyList<EncodedExample> Examples { get; }
    public int Dim { get; }
    public int Count => Examples.Count;
    public string? HookPoint { get; }
    public Pooling Pooling { get; }

    public ReadOnlySpan<float> Row(int i) => _vectors.AsSpan(i * Dim, Dim);

    /// <summary>Builds the index from a Glassbox model's activations at hookPoint ([batch, positions, d]), pooled.</summary>
    public static RepresentationIndex Build(IExplainableModel model, IReadOnlyList<EncodedExample> train, string hookPoint = "blocks.*.hook_resid_post", Pooling pooling = Pooling.Cls, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("Nearest neighbours: the training set is empty; give at least one example to index.", nameof(train));
        var rows = Represent(model, train, hookPoint, pooling, batchSize);
        int dim = rows[0].Length;
        var flat = new float[train.Count * dim];
        for (int i = 0; i < rows.Length; i++) rows[i].CopyTo(flat, i * dim);
        return new RepresentationIndex(train, flat, dim, hookPoint, pooling);
    }

    /// <summary>Pooled activations at hookPoint for each example. A pattern with '*' picks the last matching hook
    /// (e.g. "blocks.*.hook_resid_post" = the last block's output). Equal-length examples share a forward pass.</summary>
    public static float[][] Represent(IExplainableModel model, IReadOnlyList<EncodedExample> examples, string hookPoint, Pooling pooling, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(hookPoint);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be ≥ 1, got {batchSize}.");
        var hooks = model.Hooks ?? throw new NotSupportedException($"Nearest neighbours read hidden representations at a hook point, but '{model.Name}' is a black-box model without hooks; load the model with AutoModel.");
        var result = new float[examples.Count][];
        using var _ = Tape.NoGrad();
        foreach (var group in Enumerable.Range(0, examples.Count).GroupBy(i => examples[i].Ids.Length))
        {
            var idx = group.ToArray();
            for (int start = 0; start < idx.Length; start += batchSize)
            {
                var chunk = idx.Skip(start).Take(batchSize).ToArray();
                int s = examples[chunk[0]].Ids.Length;
                if (s == 0) throw new ArgumentException($"Example '{examples[chunk[0]].Id}' has no tokens.", nameof(examples));
                bool types = chunk.All(i => examples[i].TypeIds is not null);
                var input = new ModelInput(chunk.Length, s, chunk.SelectMany(i => examples[i].Ids).ToArray(),
                    Enumerable.Repeat(1, chunk.Length * s).ToArray(), types ? chunk.SelectMany(i => examples[i].TypeIds!).ToArray() : null);
                ActivationCache cache;
                using (hooks.Capture(hookPoint, out cache)) model.Predict(input).Dispose();
                if (cache.Count == 0)
                    throw new ArgumentException($"Nearest neighbours: '{model.Name}' has no hook point matching '{hookPoint}'; hook names look like blocks.0.hook_resid_post (see docs/ARCHITECTURE.md).", nameof(hookPoint));
                var act = cache.Values.Last();
                string name = cache.Keys.Last();
                if (act.Rank != 3 || act.Shape[0] != chunk.Length || act.Shape[1] != s)
                    throw new ArgumentException($"Nearest neighbours: hook '{name}' has shape [{string.Join(", ", act.Shape)}]; pooling needs [batch, positions, d] = [{chunk.Length}, {s}, d].", nameof(hookPoint));
                int d = act.Shape[2];
                for (int r = 0; r < chunk.Length; r++)
                {
                    var v = new float[d];
                    var a = act.Span.Slice(r * s * d, s * d);
                    if (pooling == Pooling.Cls) a[..d].CopyTo(v);
                    else
                    {
                        var acc = new double[d];
                        for (int p = 0; p < s; p++) for (int k = 0; k < d; k++) acc[k] += a[p * d + k];
                        for (int k = 0; k < d; k++) v[k] = (float)(acc[k] / s);
                    }
                    result[chunk[r]] = v;
                }
            }
        }
        return result;
    }

    /// <summary>The k nearest training examples to a query vector, nearest first.</summary>
    public IReadOnlyList<Neighbour> Search(ReadOnlySpan<float> query, int k, DistanceMetric metric = DistanceMetric.Cosine, int chunkSize = 1024)
    {
        if (query.Length != Dim) throw new ArgumentException($"Nearest neighbours: the query has dimension {query.Length} but the index holds vectors of dimension {Dim}{(HookPoint is null ? "" : $" (hook {HookPoint})")}.", nameof(query));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), $"k must be ≥ 1, got {k}.");
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), $"chunkSize must be ≥ 1, got {chunkSize}.");
        foreach (var v in query)
            if (!float.IsFinite(v)) throw new ArgumentException("Nearest neighbours: the query contains NaN or infinity.", nameof(query));
        k = Math.Min(k, Count);
        var q = query.ToArray();
        double qNorm = Math.Sqrt(TensorPrimitives.Dot<float>(q, q));
        int chunks = (Count + chunkSize - 1) / chunkSize;
        var partial = new (int Index, double Score)[chunks][];
        bool higherBetter = metric == DistanceMetric.Cosine;
        Parallel.For(0, chunks, c =>
        {
            int start = c * chunkSize, end = Math.Min(Count, start + chunkSize);
            var local = new (int Index, double Score)[end - start];
            for (int i = start; i < end; i++)
            {
                double score;
                if (metric == DistanceMetric.Cosine)
                {
                    double denom = qNorm * _norms[i];
                    score = denom == 0 ? 0 : TensorPrimitives.Dot<float>(q, Row(i)) / denom;
                }
                else score = TensorPrimitives.Distance<float>(q, Row(i));
                local[i - start] = (i, score);
            }
            Array.Sort(local, (a, b) => Compare(a, b, higherBetter));
            partial[c] = local.Take(k).ToArray();
        });
        var merged = partial.SelectMany(p => p).ToArray();
        Array.Sort(merged, (a, b) => Compare(a, b, higherBetter));
        return merged.Take(k).Select(m => new Neighbour(m.Index, Examples[m.Index].Id, m.Score, Examples[m.Index].Label, Examples[m.Index].Text)).ToArray();
    }

    private static int Compare((int Index, double Score) a, (int Index, double Score) b, bool higherBetter)
    {
        int c = higherBetter ? b.Score.CompareTo(a.Score) : a.Score.CompareTo(b.Score);
        return c != 0 ? c : a.Index.CompareTo(b.Index);
    }

    /// <summary>Nearest neighbours of a test example under the same model, hook and pooling: Helpful are the nearest
    /// training examples labelled with the model's prediction (or the test label when given), Harmful the nearest with another label.
    /// Scores are the metric's (cosine similarity, or L2 distance).</summary>
    public TrainingAttribution Explain(IExplainableModel model, EncodedExample test, int k = 10, DistanceMetric metric = DistanceMetric.Cosine)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (HookPoint is null) throw new InvalidOperationException("This index was built from raw vectors; embed the test example yourself and call Search.");
        var q = Represent(model, [test], HookPoint, Pooling)[0];
        int label = test.Label ?? InfluenceArgMaxF(TrainingChecks.Probabilities(model, test));
        var all = Search(q, Count, metric);
        var scores = new double[Count];
        foreach (var n in all) scores[n.Index] = n.Score;
        TrainingInfluence Make(Neighbour n) => new(n.Index, n.Id, n.Score, n.Label, n.Text);
        return new TrainingAttribution(metric == DistanceMetric.Cosine ? "nearest-neighbours-cosine" : "nearest-neighbours-l2", test.Id, label,
            all.Where(n => n.Label == label).Take(k).Select(Make).ToArray(),
            all.Where(n => n.Label != label).Take(k).Select(Make).ToArray(),
            scores,
            new Dictionary<string, string>
            {
                ["hookPoint"] = HookPoint, ["pooling"] = Pooling == Pooling.Cls ? "cls" : "mean",
                ["metric"] = metric == DistanceMetric.Cosine ? "cosine similarity (higher = nearer)" : "L2 distance (lower = nearer)",
                ["helpful"] = "nearest with the test label", ["harmful"] = "nearest with another label",
            });
    }

    private static int InfluenceArgMaxF(float[] p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
