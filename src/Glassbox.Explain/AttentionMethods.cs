// Attention as explanation: raw patterns per layer and head, attention rollout and attention flow
// (Abnar & Zuidema 2020). Both propagate A' = ½(mean over heads of A) + ½I, rows renormalised,
// through the layers; rollout multiplies (R = A'_L ⋯ A'_1), flow computes max-flow in the layered
// graph with A' as capacities.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain;

public static class AttentionMethods
{
    /// <summary>Attention probabilities of example 0: [layer][head][query][key].</summary>
    public static float[][][][] Patterns(IExplainableModel model, ModelInput input, string pattern = "blocks.*.attn.hook_pattern")
    {
        var hooks = model.Hooks ?? throw new NotSupportedException($"Attention explanations need the model's attention patterns; '{model.Name}' is a black box.");
        using var _ = Tape.NoGrad();
        ActivationCache cache;
        using (hooks.Capture(pattern, out cache)) model.Predict(input);
        if (cache.Count == 0) throw new InvalidOperationException($"'{model.Name}' exposed no attention patterns at '{pattern}'.");
        return cache.Values.Select(p =>
        {
            int h = p.Shape[1], q = p.Shape[2], k = p.Shape[3];
            return Enumerable.Range(0, h).Select(hi => Enumerable.Range(0, q).Select(qi => p.Span.Slice((hi * q + qi) * k, k).ToArray()).ToArray()).ToArray();
        }).ToArray();
    }

    /// <summary>½·mean-over-heads + ½·I, rows renormalised (per layer).</summary>
    public static double[][,] ResidualAdjusted(float[][][][] patterns)
    {
        return patterns.Select(layer =>
        {
            int h = layer.Length, n = layer[0].Length;
            var a = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                double rs = 0;
                for (int j = 0; j < n; j++)
                {
                    double m = 0;
                    for (int hi = 0; hi < h; hi++) m += layer[hi][i][j];
                    a[i, j] = 0.5 * m / h + (i == j ? 0.5 : 0);
                    rs += a[i, j];
                }
                for (int j = 0; j < n; j++) a[i, j] /= rs;
            }
            return a;
        }).ToArray();
    }

    /// <summary>Attention rollout matrix [query, key] after the last layer (rows sum to 1).</summary>
    public static double[,] Rollout(float[][][][] patterns)
    {
        var layers = ResidualAdjusted(patterns);
        var r = layers[0];
        for (int l = 1; l < layers.Length; l++) r = MatMul(layers[l], r);
        return r;
    }

    /// <summary>Attention flow: for output position `query` at the top, the max flow from each input
    /// position at the bottom through the layered graph whose edge capacities are the
    /// residual-adjusted attention weights.</summary>
    public static double[] Flow(float[][][][] patterns, int query)
    {
        var layers = ResidualAdjusted(patterns);
        int n = layers[0].GetLength(0), L = layers.Length;
        if ((uint)query >= (uint)n) throw new ArgumentOutOfRangeException(nameof(query), $"Attention flow: query {query} is outside the {n} positions.");
        int nodes = (L + 1) * n;
        var result = new double[n];
        for (int src = 0; src < n; src++)
        {
            // Node (l, i) = l·n + i; layer l+1's node i receives from layer l's node j with capacity A_l[i, j].
            var cap = new Dictionary<(int, int), double>();
            for (int l = 0; l < L; l++)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                        if (layers[l][i, j] > 0) cap[(l * n + j, (l + 1) * n + i)] = layers[l][i, j];
            result[src] = MaxFlow(cap, nodes, src, L * n + query);
        }
        return result;
    }

    private static double MaxFlow(Dictionary<(int, int), double> cap, int nodes, int s, int t)
    {
        var adj = new List<int>[nodes];
        for (int i = 0; i < nodes; i++) adj[i] = [];
        foreach (var (u, v) in cap.Keys) { adj[u].Add(v); adj[v].Add(u); }
        var res = new Dictionary<(int, int), double>(cap);
        double flow = 0;
        while (true)
        {
            var prev = new int[nodes]; Array.Fill(prev, -1); prev[s] = s;
            var q = new Queue<int>(); q.Enqueue(s);
            while (q.Count > 0 && prev[t] < 0)
            {
                int u = q.Dequeue();
                foreach (int v in adj[u])
                    if (prev[v] < 0 && res.GetValueOrDefault((u, v)) > 1e-15) { prev[v] = u; q.Enqueue(v); }
            }
            if (prev[t] < 0) return flow;
            double bottleneck = double.PositiveInfinity;
            for (int v = t; v != s; v = prev[v]) bottleneck = Math.Min(bottleneck, res[(prev[v], v)]);
            for (int v = t; v != s; v = prev[v])
            {
                res[(prev[v], v)] -= bottleneck;
                res[(v, prev[v])] = res.GetValueOrDefault((v, prev[v])) + bottleneck;
            }
            flow += bottleneck;
        }
    }

    private static double[,] MatMul(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), k = a.GetLength(1), m = b.GetLength(1);
        var c = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < k; p++)
                for (int j = 0; j < m; j++) c[i, j] += a[i, p] * b[p, j];
        return c;
    }
}
