// How well an embedding keeps the neighbourhoods of the original space.
// Trustworthiness (Venna & Kaski 2001) exactly as sklearn.manifold.trustworthiness:
//   T(k) = 1 − 2/(n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ Nᵏᵢ(embedding)} max(0, r(i, j) − k),
// where r(i, j) is the rank of j among i's neighbours in the original space (1 = nearest,
// Euclidean, ties broken by index) and Nᵏᵢ the k nearest neighbours in the embedding; k < n/2.
// kNN accuracy: leave-one-out k-nearest-neighbour classification in the embedding (majority vote,
// ties to the nearest neighbour's label): how well classes stay separated.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

public static class ProjectionQuality
{
    /// <summary>sklearn's trustworthiness (default k = 5), in [0, 1]; O(n² log n), meant for evaluation sets.</summary>
    public static double Trustworthiness(double[][] original, double[][] embedding, int k = 5)
    {
        var (n, _) = ProjectionInput.Check("Trustworthiness", original, 3);
        var (ne, _) = ProjectionInput.Check("Trustworthiness", embedding, 3);
        if (n != ne) throw new ArgumentException($"Trustworthiness: original has {n} rows but embedding has {ne}; they must describe the same points.");
        if (k < 1 || k >= n / 2.0)
            throw new ArgumentOutOfRangeException(nameof(k), $"Trustworthiness: k = {k}; sklearn requires 1 ≤ k < n/2 = {n / 2.0}.");
        var embNeighbors = Neighbors.Exact(embedding, k);
        var penalty = new double[n];
        Parallel.For(0, n, i =>
        {
            var dist = new double[n];
            for (int j = 0; j < n; j++) dist[j] = j == i ? double.PositiveInfinity : TensorPrimitives.Distance<double>(original[i], original[j]);
            var order = Enumerable.Range(0, n).OrderBy(j => dist[j]).ThenBy(j => j).ToArray();
            var rank = new int[n];
            for (int r = 0; r < n; r++) rank[order[r]] = r + 1;
            double s = 0;
            foreach (int j in embNeighbors.Indices[i]) s += Math.Max(0, rank[j] - k);
            penalty[i] = s;
        });
        double t = penalty.Sum();
        return 1.0 - t * (2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0)));
    }

    /// <summary>Leave-one-out kNN accuracy of labels in the embedding (default k = 5).</summary>
    public static double KnnAccuracy(double[][] embedding, int[] labels, int k = 5)
    {
        var (n, _) = ProjectionInput.Check("KnnAccuracy", embedding, 2);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != n) throw new ArgumentException($"KnnAccuracy: {labels.Length} labels for {n} points.");
        var knn = Neighbors.Exact(embedding, Math.Min(k, n - 1));
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            var votes = knn.Indices[i].GroupBy(j => labels[j]).Select(g => (Label: g.Key, Count: g.Count(), First: Array.IndexOf(knn.Indices[i], g.First())))
                .OrderByDescending(v => v.Count).ThenBy(v => v.First).First();
            if (votes.Label == labels[i]) correct++;
        }
        return correct / (double)n;
    }

    /// <summary>Mean fraction of the exact k nearest neighbours that an approximate graph found.</summary>
    public static double Recall(KnnGraph approximate, KnnGraph exact)
    {
        ArgumentNullException.ThrowIfNull(approximate);
        ArgumentNullException.ThrowIfNull(exact);
        if (approximate.Count != exact.Count) throw new ArgumentException($"Recall: graphs have {approximate.Count} and {exact.Count} points.");
        double sum = 0;
        for (int i = 0; i < exact.Count; i++)
        {
            var set = new HashSet<int>(exact.Indices[i]);
            sum += approximate.Indices[i].Count(set.Contains) / (double)set.Count;
        }
        return sum / exact.Count;
    }
}
