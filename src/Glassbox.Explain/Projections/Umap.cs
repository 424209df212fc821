// UMAP (McInnes, Healy & Melville 2018) as umap-learn's UMAP(metric="euclidean") computes it:
//  1. k nearest neighbours, the point itself included (exact below 4096 points, NN-descent above);
//  2. smooth_knn_dist: ρᵢ = distance to the nearest neighbour (local_connectivity = 1), σᵢ by
//     bisection so Σⱼ exp(−(dᵢⱼ − ρᵢ)/σᵢ) = log₂ k, floored at 1e-3 × the mean neighbour distance;
//  3. the fuzzy simplicial set: memberships exp(−(d − ρ)/σ), symmetrised by the fuzzy union
//     A + Aᵀ − A∘Aᵀ; edges below max/n_epochs dropped;
//  4. initialisation: spectral (the eigenvectors of the normalised Laplacian with the smallest
//     non-zero eigenvalues, per connected component, components placed as umap-learn's
//     multi_component_layout does) scaled to ±10 plus N(0, 1e-4) noise, or uniform in [−10, 10];
//     then every axis rescaled to [0, 10];
//  5. a, b fitted to the min_dist / spread curve by least squares (find_ab_params);
//  6. SGD over edges sampled in proportion to their weight (epochs_per_sample), attraction
//     −2ab d^{2(b−1)}/(1 + a d^{2b}), negative_sample_rate repulsions 2γb/((0.001 + d²)(1 + a d^{2b})),
//     gradients clipped to ±4, learning rate decaying linearly; both ends of an edge move.
// The layout runs on one thread with one seeded generator, so a seed gives the same embedding on
// every machine (umap-learn likewise turns off parallelism when random_state is set).
// Eigenvectors come from Lanczos with full re-orthogonalisation instead of ARPACK; umap-learn
// itself falls back to random initialisation when ARPACK fails, so the layout only needs good
// approximate vectors.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

public enum UmapInit { Spectral, Random }

/// <summary>UMAP settings; defaults are umap-learn's (n_neighbors 15, min_dist 0.1, spread 1,
/// 500 epochs up to 10 000 points and 200 above, learning rate 1, negative_sample_rate 5,
/// repulsion_strength 1, spectral init). ApproximateNeighbors null means NN-descent from 4096 points.</summary>
public sealed record UmapOptions(
    int Neighbors = 15,
    double MinDist = 0.1,
    double Spread = 1.0,
    int Components = 2,
    int Seed = 0,
    UmapInit Init = UmapInit.Spectral,
    int? Epochs = null,
    double LearningRate = 1.0,
    int NegativeSampleRate = 5,
    double RepulsionStrength = 1.0,
    bool? ApproximateNeighbors = null);

/// <summary>A UMAP embedding [n, components] with the curve parameters a, b it used, the number
/// of epochs, whether neighbours were approximate, and the initialisation actually used.</summary>
public sealed record UmapResult(double[][] Embedding, double A, double B, int Epochs, bool ApproximateNeighbors, string Initialisation);

/// <summary>Where a UMAP fit is: Stage is "neighbors", "fuzzy-set", "initialisation" or "layout";
/// Done of Total steps of that stage (epochs for the layout, 1 of 1 for the others).</summary>
public readonly record struct UmapProgress(string Stage, int Done, int Total);

public static class Umap
{
    /// <summary>Embeds the rows of data ([n, d], n > Neighbors) in 2 or 3 dimensions.</summary>
    public static UmapResult Fit(double[][] data, UmapOptions? options = null) => Fit(data, options, null, CancellationToken.None);

    /// <summary>Fit with progress (called on the fitting thread after each stage and after every
    /// epoch of the layout) and cancellation (checked between stages and epochs). The result is the
    /// same as <see cref="Fit(double[][], UmapOptions?)"/> for the same data and options.</summary>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled.</exception>
    public static UmapResult Fit(double[][] data, UmapOptions? options, IProgress<UmapProgress>? progress, CancellationToken cancellationToken)
    {
        var o = options ?? new UmapOptions();
        var (n, _) = ProjectionInput.Check("Umap", data, 3);
        ProjectionInput.Dimensions("Umap", o.Components);
        if (o.Neighbors < 2 || o.Neighbors > n)
            throw new ArgumentOutOfRangeException(nameof(options), $"Umap: n_neighbors = {o.Neighbors}; it must be between 2 and the number of points ({n}).");
        if (!(o.MinDist >= 0) || !(o.Spread > 0) || o.MinDist > o.Spread)
            throw new ArgumentOutOfRangeException(nameof(options), $"Umap: min_dist = {o.MinDist}, spread = {o.Spread}; need 0 ≤ min_dist ≤ spread and spread > 0.");
        if (o.Epochs is < 1) throw new ArgumentOutOfRangeException(nameof(options), $"Umap: {o.Epochs} epochs; give at least 1.");
        if (o.NegativeSampleRate < 0 || !(o.LearningRate > 0))
            throw new ArgumentOutOfRangeException(nameof(options), "Umap: negative_sample_rate must be ≥ 0 and learning_rate > 0.");

        bool approx = o.ApproximateNeighbors ?? n >= Neighbors.ExactThreshold;
        cancellationToken.ThrowIfCancellationRequested();
        var knn = Neighbors.Build(data, o.Neighbors - 1, o.Seed, approx);
        progress?.Report(new UmapProgress("neighbors", 1, 1));
        cancellationToken.ThrowIfCancellationRequested();
        var graph = FuzzySimplicialSet(knn, o.Neighbors);
        progress?.Report(new UmapProgress("fuzzy-set", 1, 1));
        cancellationToken.ThrowIfCancellationRequested();

        int epochs = o.Epochs ?? (n <= 10000 ? 500 : 200);
        // drop edges that would be sampled less than once (umap-learn uses the default epochs when n_epochs ≤ 10)
        double maxW = graph.Max(row => row.Count == 0 ? 0 : row.Values.Max());
        double cut = maxW / (epochs > 10 ? epochs : (n <= 10000 ? 500 : 200));
        var pruned = graph.Select(row => row.Where(kv => kv.Value >= cut).OrderBy(kv => kv.Key).ToList()).ToArray();

        var rng = new Random(o.Seed);
        string initUsed;
        double[][] embedding;
        if (o.Init == UmapInit.Spectral)
        {
            embedding = Spectral.Layout(data, pruned, o.Components, rng);
            double maxAbs = embedding.Max(r => r.Max(Math.Abs));
            double expansion = maxAbs > 0 ? 10.0 / maxAbs : 1.0;
            foreach (var r in embedding)
                for (int c = 0; c < r.Length; c++) r[c] = r[c] * expansion + 1e-4 * ProjectionInput.Gaussian(rng);
            initUsed = "spectral";
        }
        else
        {
            embedding = new double[n][];
            for (int i = 0; i < n; i++) embedding[i] = Enumerable.Range(0, o.Components).Select(_ => rng.NextDouble() * 20 - 10).ToArray();
            initUsed = "random";
        }
        RescaleTo10(embedding);
        progress?.Report(new UmapProgress("initialisation", 1, 1));

        var (a, b) = FindAbParams(o.Spread, o.MinDist);
        Optimize(embedding, pruned, a, b, epochs, o, rng, progress, cancellationToken);
        return new UmapResult(embedding, a, b, epochs, approx, initUsed);
    }

    /// <summary>umap-learn's smooth_knn_dist: (σ, ρ) per point from its sorted neighbour distances
    /// (the point itself first, at distance 0), target log₂ k.</summary>
    internal static (double[] Sigma, double[] Rho) SmoothKnnDist(double[][] distances, double k, int iterations = 64)
    {
        int n = distances.Length;
        double target = Math.Log2(k);
        var sigma = new double[n]; var rho = new double[n];
        double meanAll = distances.Average(r => r.Average());
        for (int i = 0; i < n; i++)
        {
            var row = distances[i];
            var nonZero = row.Where(d => d > 0).ToArray();
            if (nonZero.Length >= 1) rho[i] = nonZero[0];
            double lo = 0, hi = double.MaxValue, mid = 1.0;
            for (int it = 0; it < iterations; it++)
            {
                double psum = 0;
                for (int j = 1; j < row.Length; j++)
                {
                    double d = row[j] - rho[i];
                    psum += d > 0 ? Math.Exp(-(d / mid)) : 1.0;
                }
                if (Math.Abs(psum - target) < 1e-5) break;
                if (psum > target) { hi = mid; mid = (lo + hi) / 2; }
                else { lo = mid; if (hi == double.MaxValue) mid *= 2; else mid = (lo + hi) / 2; }
            }
            sigma[i] = mid;
            double floor = 1e-3 * (rho[i] > 0 ? row.Average() : meanAll);
            if (sigma[i] < floor) sigma[i] = floor;
        }
        return (sigma, rho);
    }

    // Fuzzy union of the directed membership graph; row i maps neighbour j to the edge weight.
    private static Dictionary<int, double>[] FuzzySimplicialSet(KnnGraph knn, int k)
    {
        int n = knn.Count;
        // neighbours with the point itself first, as umap-learn's knn_indices
        var dists = new double[n][];
        for (int i = 0; i < n; i++) dists[i] = [0.0, .. knn.Distances[i]];
        var (sigma, rho) = SmoothKnnDist(dists, k);
        var directed = new Dictionary<int, double>[n];
        for (int i = 0; i < n; i++)
        {
            directed[i] = new Dictionary<int, double>(knn.K);
            for (int e = 0; e < knn.K; e++)
            {
                int j = knn.Indices[i][e];
                double d = knn.Distances[i][e];
                double v = d - rho[i] <= 0 || sigma[i] == 0 ? 1.0 : Math.Exp(-((d - rho[i]) / sigma[i]));
                directed[i][j] = v;
            }
        }
        var union = new Dictionary<int, double>[n];
        for (int i = 0; i < n; i++) union[i] = [];
        for (int i = 0; i < n; i++)
            foreach (var (j, v) in directed[i])
            {
                double t = directed[j].GetValueOrDefault(i);
                double w = v + t - v * t;
                union[i][j] = w;
                union[j][i] = w;
            }
        return union;
    }

    private static void RescaleTo10(double[][] y)
    {
        int dim = y[0].Length;
        for (int c = 0; c < dim; c++)
        {
            double lo = y.Min(r => r[c]), hi = y.Max(r => r[c]);
            double span = hi - lo;
            foreach (var r in y) r[c] = span > 0 ? 10.0 * (r[c] - lo) / span : 0.0;
        }
    }

    /// <summary>umap-learn's find_ab_params: least-squares fit of 1/(1 + a x^{2b}) to 1 for x &lt;
    /// min_dist and exp(−(x − min_dist)/spread) beyond, on 300 points in [0, 3·spread]
    /// (Levenberg–Marquardt from (1, 1), as scipy's curve_fit).</summary>
    public static (double A, double B) FindAbParams(double spread, double minDist)
    {
        const int m = 300;
        var x = new double[m]; var y = new double[m];
        for (int i = 0; i < m; i++)
        {
            x[i] = spread * 3 * i / (m - 1);
            y[i] = x[i] < minDist ? 1.0 : Math.Exp(-(x[i] - minDist) / spread);
        }
        double a = 1, b = 1, lambda = 1e-3;
        double Cost(double aa, double bb)
        {
            double s = 0;
            for (int i = 0; i < m; i++) { double r = Curve(x[i], aa, bb) - y[i]; s += r * r; }
            return s;
        }
        double cost = Cost(a, b);
        for (int it = 0; it < 1000; it++)
        {
            // normal equations JᵀJ δ = −Jᵀr with Marquardt's diagonal damping
            double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
            for (int i = 0; i < m; i++)
            {
                double xi = x[i];
                double p = xi > 0 ? Math.Pow(xi, 2 * b) : 0;
                double den = 1 + a * p;
                double r = 1 / den - y[i];
                double da = -p / (den * den);
                double db = xi > 0 ? -a * p * 2 * Math.Log(xi) / (den * den) : 0;
                jaa += da * da; jab += da * db; jbb += db * db; ga += da * r; gb += db * r;
            }
            double a11 = jaa * (1 + lambda), a22 = jbb * (1 + lambda), det = a11 * a22 - jab * jab;
            if (det == 0) break;
            double stepA = -(a22 * ga - jab * gb) / det, stepB = -(a11 * gb - jab * ga) / det;
            double na = a + stepA, nb = b + stepB, nc = Cost(na, nb);
            if (nc < cost)
            {
                bool done = Math.Abs(cost - nc) <= 1e-15 * Math.Max(1, cost) && Math.Abs(stepA) < 1e-12 && Math.Abs(stepB) < 1e-12;
                a = na; b = nb; cost = nc; lambda = Math.Max(lambda / 10, 1e-12);
                if (done) break;
            }
            else
            {
                lambda *= 10;
                if (lambda > 1e12) break;
            }
        }
        return (a, b);

        static double Curve(double xi, double aa, double bb) => 1.0 / (1.0 + aa * (xi > 0 ? Math.Pow(xi, 2 * bb) : 0));
    }

    private static void Optimize(double[][] y, List<KeyValuePair<int, double>>[] graph, double a, double b, int epochs, UmapOptions o, Random rng,
        IProgress<UmapProgress>? progress, CancellationToken cancellationToken)
    {
        int n = y.Length, dim = o.Components;
        var head = new List<int>(); var tail = new List<int>(); var weight = new List<double>();
        for (int i = 0; i < n; i++)
            foreach (var (j, w) in graph[i]) { head.Add(i); tail.Add(j); weight.Add(w); }
        int m = head.Count;
        if (m == 0) return;
        double maxW = weight.Max();
        var epochsPerSample = new double[m];
        for (int e = 0; e < m; e++) { double samples = epochs * (weight[e] / maxW); epochsPerSample[e] = samples > 0 ? epochs / samples : -1; }
        var nextSample = (double[])epochsPerSample.Clone();
        var perNegative = epochsPerSample.Select(v => v / Math.Max(o.NegativeSampleRate, 1e-300)).ToArray();
        var nextNegative = (double[])perNegative.Clone();
        ulong state = (ulong)rng.NextInt64() | 1UL;
        double alpha = o.LearningRate, gamma = o.RepulsionStrength;
        var grad = new double[dim];

        for (int epoch = 0; epoch < epochs; epoch++)
        {
            for (int e = 0; e < m; e++)
            {
                if (nextSample[e] > epoch) continue;
                int j = head[e], k = tail[e];
                var cur = y[j]; var other = y[k];
                double d2 = 0;
                for (int c = 0; c < dim; c++) { double t = cur[c] - other[c]; d2 += t * t; }
                double pb = d2 > 0 ? Math.Pow(d2, b) : 0; // d^{2(b−1)} = d^{2b}/d² saves a Pow
                double coeff = d2 > 0 ? -2.0 * a * b * (pb / d2) / (a * pb + 1.0) : 0.0;
                for (int c = 0; c < dim; c++)
                {
                    double g = Clip(coeff * (cur[c] - other[c]));
                    cur[c] += g * alpha;
                    other[c] -= g * alpha;
                }
                nextSample[e] += epochsPerSample[e];

                int negatives = o.NegativeSampleRate == 0 ? 0 : (int)((epoch - nextNegative[e]) / perNegative[e]);
                for (int p = 0; p < negatives; p++)
                {
                    // xorshift64*: cheap, seeded, identical on every platform
                    state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
                    int kk = (int)((state * 0x2545F4914F6CDD1DUL) >> 33) % n;
                    if (kk < 0) kk += n;
                    var neg = y[kk];
                    d2 = 0;
                    for (int c = 0; c < dim; c++) { double t = cur[c] - neg[c]; d2 += t * t; }
                    if (d2 > 0) coeff = 2.0 * gamma * b / ((0.001 + d2) * (a * Math.Pow(d2, b) + 1));
                    else if (j == kk) continue;
                    else coeff = 0.0;
                    if (coeff <= 0) continue;
                    for (int c = 0; c < dim; c++) cur[c] += Clip(coeff * (cur[c] - neg[c])) * alpha;
                }
                nextNegative[e] += negatives * perNegative[e];
            }
            alpha = o.LearningRate * (1.0 - (double)epoch / epochs);
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new UmapProgress("layout", epoch + 1, epochs));
        }
    }

    private static double Clip(double v) => v > 4 ? 4 : v < -4 ? -4 : v;
}
