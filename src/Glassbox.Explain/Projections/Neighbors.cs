// k-nearest-neighbour graphs under the Euclidean distance, for UMAP, t-SNE and trustworthiness.
//
// Exact: every pair, rows split across threads (O(n²d)). Approximate: NN-descent (Dong, Moses &
// Li 2011) started from a random-projection forest, as pynndescent (which umap-learn uses for
// n ≥ 4096): n_trees = min(64, 5 + round(√n / 20)), iterations = max(5, round(log₂ n)), at most
// min(60, k) candidates per point per round, stop when fewer than 0.001·k·n heap updates happen.
// Candidate distances are computed in parallel over blocks of points and applied to the heaps
// serially in point order, so the result depends on the seed only, never on the thread count.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

/// <summary>For each point, its k nearest other points (Indices) and their Euclidean distances
/// (Distances), both sorted by increasing distance (ties by index).</summary>
public sealed record KnnGraph(int[][] Indices, double[][] Distances)
{
    public int Count => Indices.Length;
    public int K => Indices.Length == 0 ? 0 : Indices[0].Length;
}

public static class Neighbors
{
    /// <summary>Point counts from which <see cref="Build"/> switches to NN-descent (umap-learn's 4096).</summary>
    public const int ExactThreshold = 4096;

    /// <summary>Exact below <see cref="ExactThreshold"/> points (or when forced), NN-descent above.</summary>
    public static KnnGraph Build(double[][] data, int k, int seed = 0, bool? approximate = null)
    {
        bool approx = approximate ?? data.Length >= ExactThreshold;
        return approx ? Approximate(data, k, seed) : Exact(data, k);
    }

    /// <summary>Exact k nearest neighbours (self excluded) by brute force. Candidate distances come
    /// from one single-precision GEMM per block of rows (‖x‖² + ‖y‖² − 2x·y on centred data); the
    /// k + 8 best candidates are then re-measured in double and the k nearest kept, so float
    /// rounding can only matter between neighbours whose distances agree to about 1e-6.</summary>
    public static KnnGraph Exact(double[][] data, int k)
    {
        var (n, d) = ProjectionInput.Check("Neighbors.Exact", data, 2);
        CheckK(k, n);
        var mean = new double[d];
        foreach (var row in data) TensorPrimitives.Add(mean, row, mean);
        TensorPrimitives.Divide(mean, n, mean);
        var xf = new float[(long)n * d > int.MaxValue ? throw new ArgumentException($"Neighbors.Exact: {n} × {d} values do not fit one array; use Neighbors.Approximate.") : n * d];
        var norms = new float[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < d; j++) { float v = (float)(data[i][j] - mean[j]); xf[i * d + j] = v; s += (double)v * v; }
            norms[i] = (float)s;
        }
        int take = Math.Min(n - 1, k + 8);
        int block = Math.Clamp((1 << 24) / n, 16, 512);
        var dots = new float[block * n];
        var idx = new int[n][]; var dist = new double[n][];
        for (int r0 = 0; r0 < n; r0 += block)
        {
            int rows = Math.Min(block, n - r0);
            Glassbox.Tensors.Kernels.Gemm.Sgemm(false, true, rows, n, d, 1f, xf.AsSpan(r0 * d, rows * d), d, xf, d, 0f, dots.AsSpan(0, rows * n), n);
            Parallel.For(0, rows, r =>
            {
                int i = r0 + r;
                var approx = new Heap(take);
                var dotRow = dots.AsSpan(r * n, n);
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    double d2 = (double)norms[i] + norms[j] - 2.0 * dotRow[j];
                    if (d2 < approx.Worst) approx.PushReplace(j, d2, false);
                }
                var exact = new Heap(k);
                for (int e = 0; e < approx.Size; e++)
                {
                    int j = approx.Index[e];
                    double dd = TensorPrimitives.Distance<double>(data[i], data[j]);
                    if (dd < exact.Worst || (dd == exact.Worst && j < exact.WorstIndex)) exact.PushReplace(j, dd, false);
                }
                (idx[i], dist[i]) = exact.Sorted();
            });
        }
        return new KnnGraph(idx, dist);
    }

    /// <summary>Approximate k nearest neighbours (self excluded): NN-descent from a random-projection forest.</summary>
    public static KnnGraph Approximate(double[][] data, int k, int seed = 0)
    {
        var (n, d) = ProjectionInput.Check("Neighbors.Approximate", data, 2);
        CheckK(k, n);
        var rng = new Random(seed);
        var heaps = new Heap[n];
        for (int i = 0; i < n; i++) heaps[i] = new Heap(k);

        // 1. random-projection forest: all pairs within each leaf
        int trees = Math.Min(64, 5 + (int)Math.Round(Math.Sqrt(n) / 20.0));
        int leafSize = Math.Max(10, k);
        var leaves = new List<int[]>();
        for (int t = 0; t < trees; t++) BuildTree(data, Enumerable.Range(0, n).ToArray(), leafSize, new Random(rng.Next()), leaves, d);
        ApplyPairs(data, heaps, leaves.Count, l => LeafPairs(leaves[l]));

        // points whose heap is not yet full get random candidates
        for (int i = 0; i < n; i++)
            while (heaps[i].Size < k)
            {
                int j = rng.Next(n);
                if (j != i && !heaps[i].Contains(j)) heaps[i].Push(j, TensorPrimitives.Distance<double>(data[i], data[j]), true);
            }

        // 2. NN-descent rounds
        int iterations = Math.Max(5, (int)Math.Round(Math.Log2(n)));
        int maxCandidates = Math.Min(60, k);
        for (int it = 0; it < iterations; it++)
        {
            var (newC, oldC) = Candidates(heaps, n, maxCandidates, new Random(rng.Next()));
            int updates = ApplyPairs(data, heaps, n, u =>
            {
                var pairs = new List<(int, int)>();
                var nu = newC[u]; var ou = oldC[u];
                for (int a = 0; a < nu.Count; a++)
                {
                    for (int b = a + 1; b < nu.Count; b++) pairs.Add((nu[a], nu[b]));
                    foreach (var o in ou) if (o != nu[a]) pairs.Add((nu[a], o));
                }
                return pairs;
            });
            if (updates <= 0.001 * k * n) break;
        }

        var idx = new int[n][]; var dist = new double[n][];
        for (int i = 0; i < n; i++) (idx[i], dist[i]) = heaps[i].Sorted();
        return new KnnGraph(idx, dist);
    }

    private static void CheckK(int k, int n)
    {
        if (k < 1 || k >= n)
            throw new ArgumentOutOfRangeException(nameof(k), $"Neighbors: k = {k}, but with {n} points each has at most {n - 1} neighbours; choose 1 ≤ k < n.");
    }

    // Splits by the hyperplane equidistant from two random points (pynndescent's Euclidean RP tree);
    // a degenerate split (all on one side) falls back to a random halving.
    private static void BuildTree(double[][] data, int[] points, int leafSize, Random rng, List<int[]> leaves, int d)
    {
        if (points.Length <= leafSize) { leaves.Add(points); return; }
        int a = points[rng.Next(points.Length)], b = points[rng.Next(points.Length)];
        var left = new List<int>(); var right = new List<int>();
        if (a != b)
        {
            var normal = new double[d]; var mid = new double[d];
            TensorPrimitives.Subtract(data[a], data[b], normal);
            TensorPrimitives.Add(data[a], data[b], mid);
            TensorPrimitives.Multiply(mid, 0.5, mid);
            double offset = -TensorPrimitives.Dot<double>(normal, mid);
            foreach (var p in points)
            {
                double margin = offset + TensorPrimitives.Dot<double>(normal, data[p]);
                if (margin > 0) left.Add(p);
                else if (margin < 0) right.Add(p);
                else (rng.Next(2) == 0 ? left : right).Add(p);
            }
        }
        if (left.Count == 0 || right.Count == 0)
        {
            left.Clear(); right.Clear();
            foreach (var p in points) (rng.Next(2) == 0 ? left : right).Add(p);
            if (left.Count == 0 || right.Count == 0) { leaves.Add(points); return; }
        }
        BuildTree(data, [.. left], leafSize, rng, leaves, d);
        BuildTree(data, [.. right], leafSize, rng, leaves, d);
    }

    private static List<(int, int)> LeafPairs(int[] leaf)
    {
        var pairs = new List<(int, int)>(leaf.Length * (leaf.Length - 1) / 2);
        for (int a = 0; a < leaf.Length; a++)
            for (int b = a + 1; b < leaf.Length; b++) pairs.Add((leaf[a], leaf[b]));
        return pairs;
    }

    // Computes the distances of the pairs each source yields (in parallel within a block) and
    // pushes them into both heaps serially in source order; returns how many heap entries changed.
    private static int ApplyPairs(double[][] data, Heap[] heaps, int sources, Func<int, List<(int, int)>> pairsOf)
    {
        const int Block = 512;
        int updates = 0;
        var found = new List<(int P, int Q, double D)>[Block];
        for (int start = 0; start < sources; start += Block)
        {
            int count = Math.Min(Block, sources - start);
            Parallel.For(0, count, s =>
            {
                var list = new List<(int, int, double)>();
                foreach (var (p, q) in pairsOf(start + s))
                {
                    if (p == q) continue;
                    double d = TensorPrimitives.Distance<double>(data[p], data[q]);
                    if (d < heaps[p].Worst || d < heaps[q].Worst) list.Add((p, q, d));
                }
                found[s] = list;
            });
            for (int s = 0; s < count; s++)
                foreach (var (p, q, d) in found[s])
                {
                    if (heaps[p].TryPush(q, d)) updates++;
                    if (heaps[q].TryPush(p, d)) updates++;
                }
        }
        return updates;
    }

    // New and old candidates per point (forward and reverse), each capped at maxCandidates by
    // random priority; sampled new entries are marked old in the heaps.
    private static (List<int>[] New, List<int>[] Old) Candidates(Heap[] heaps, int n, int maxCandidates, Random rng)
    {
        var newC = new PriorityList[n]; var oldC = new PriorityList[n];
        for (int i = 0; i < n; i++) { newC[i] = new PriorityList(maxCandidates); oldC[i] = new PriorityList(maxCandidates); }
        for (int i = 0; i < n; i++)
        {
            var h = heaps[i];
            for (int e = 0; e < h.Size; e++)
            {
                int j = h.Index[e];
                double pr = rng.NextDouble();
                var target = h.IsNew[e] ? newC : oldC;
                target[i].Add(j, pr);
                target[j].Add(i, pr);
            }
        }
        for (int i = 0; i < n; i++)
        {
            var h = heaps[i];
            for (int e = 0; e < h.Size; e++)
                if (h.IsNew[e] && newC[i].Contains(h.Index[e])) h.IsNew[e] = false;
        }
        return (newC.Select(c => c.Items()).ToArray(), oldC.Select(c => c.Items()).ToArray());
    }

    // Keeps the `capacity` entries of smallest priority, without duplicates.
    private sealed class PriorityList(int capacity)
    {
        private readonly List<(int Item, double Priority)> _items = [];
        public void Add(int item, double priority)
        {
            for (int i = 0; i < _items.Count; i++) if (_items[i].Item == item) return;
            if (_items.Count < capacity) { _items.Add((item, priority)); return; }
            int worst = 0;
            for (int i = 1; i < _items.Count; i++) if (_items[i].Priority > _items[worst].Priority) worst = i;
            if (priority < _items[worst].Priority) _items[worst] = (item, priority);
        }
        public bool Contains(int item) => _items.Exists(x => x.Item == item);
        public List<int> Items() => _items.Select(x => x.Item).ToList();
    }

    /// <summary>A bounded max-heap of (index, distance): the root is the worst kept neighbour.</summary>
    internal sealed class Heap(int capacity)
    {
        public readonly int[] Index = new int[capacity];
        public readonly double[] Dist = new double[capacity];
        public readonly bool[] IsNew = new bool[capacity];
        public int Size { get; private set; }
        public double Worst => Size < capacity ? double.PositiveInfinity : Dist[0];
        public int WorstIndex => Size < capacity ? int.MaxValue : Index[0];

        public bool Contains(int j)
        {
            for (int e = 0; e < Size; e++) if (Index[e] == j) return true;
            return false;
        }

        /// <summary>Adds j when it is closer than the worst kept neighbour and not already kept.</summary>
        public bool TryPush(int j, double d)
        {
            if (d >= Worst || Contains(j)) return false;
            if (Size < capacity) Push(j, d, true); else PushReplace(j, d, true);
            return true;
        }

        public void Push(int j, double d, bool isNew)
        {
            int e = Size++;
            Index[e] = j; Dist[e] = d; IsNew[e] = isNew;
            while (e > 0)
            {
                int parent = (e - 1) / 2;
                if (!Greater(e, parent)) break;
                Swap(e, parent); e = parent;
            }
        }

        public void PushReplace(int j, double d, bool isNew)
        {
            if (Size < capacity) { Push(j, d, isNew); return; }
            Index[0] = j; Dist[0] = d; IsNew[0] = isNew;
            int e = 0;
            while (true)
            {
                int l = 2 * e + 1, r = l + 1, m = e;
                if (l < Size && Greater(l, m)) m = l;
                if (r < Size && Greater(r, m)) m = r;
                if (m == e) break;
                Swap(e, m); e = m;
            }
        }

        public (int[] Index, double[] Dist) Sorted()
        {
            var order = Enumerable.Range(0, Size).OrderBy(e => Dist[e]).ThenBy(e => Index[e]).ToArray();
            return (order.Select(e => Index[e]).ToArray(), order.Select(e => Dist[e]).ToArray());
        }

        // heap order: larger distance first, larger index first on ties (so ties keep the smaller index)
        private bool Greater(int a, int b) => Dist[a] > Dist[b] || (Dist[a] == Dist[b] && Index[a] > Index[b]);
        private void Swap(int a, int b)
        {
            (Index[a], Index[b]) = (Index[b], Index[a]);
            (Dist[a], Dist[b]) = (Dist[b], Dist[a]);
            (IsNew[a], IsNew[b]) = (IsNew[b], IsNew[a]);
        }
    }
}
