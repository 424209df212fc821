// Spectral initialisation for UMAP (umap-learn's spectral_layout / multi_component_layout): the
// eigenvectors of the symmetric normalised Laplacian L = I − D^{-1/2} W D^{-1/2} with the smallest
// eigenvalues after the trivial one. A disconnected graph is laid out per component: component
// positions ("meta embedding") are ±unit axes when there are at most 2·dim components, otherwise
// a spectral embedding of exp(−‖centroid distance‖²) between component centroids; each component
// is then scaled to half the distance to its nearest other component.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

internal static class Spectral
{
    public static double[][] Layout(double[][] data, List<KeyValuePair<int, double>>[] graph, int dim, Random rng)
    {
        int n = graph.Length;
        var label = Components(graph, out int count);
        var result = new double[n][];
        if (count == 1) return Normalised(graph, Enumerable.Range(0, n).ToArray(), dim, rng);

        double[][] meta;
        if (count > 2 * dim) meta = MetaEmbedding(data, label, count, dim);
        else
        {
            int k = (count + 1) / 2;
            meta = new double[count][];
            for (int c = 0; c < count; c++)
            {
                meta[c] = new double[dim];
                meta[c][c % k] = c < k ? 1.0 : -1.0;
            }
        }
        for (int c = 0; c < count; c++)
        {
            var members = Enumerable.Range(0, n).Where(i => label[i] == c).ToArray();
            double range = double.PositiveInfinity;
            for (int o = 0; o < count; o++)
            {
                double dist = TensorPrimitives.Distance<double>(meta[c], meta[o]);
                if (dist > 0) range = Math.Min(range, dist);
            }
            range = double.IsPositiveInfinity(range) ? 1.0 : range / 2.0;
            if (members.Length < 2 * dim || members.Length <= dim + 1)
            {
                foreach (var i in members)
                    result[i] = Enumerable.Range(0, dim).Select(d => meta[c][d] + (rng.NextDouble() * 2 - 1) * range).ToArray();
                continue;
            }
            var local = Normalised(graph, members, dim, rng);
            double maxAbs = local.Max(r => r.Max(Math.Abs));
            double expansion = maxAbs > 0 ? range / maxAbs : 0;
            for (int m = 0; m < members.Length; m++)
                result[members[m]] = Enumerable.Range(0, dim).Select(d => local[m][d] * expansion + meta[c][d]).ToArray();
        }
        return result;
    }

    private static int[] Components(List<KeyValuePair<int, double>>[] graph, out int count)
    {
        int n = graph.Length;
        var label = Enumerable.Repeat(-1, n).ToArray();
        count = 0;
        var stack = new Stack<int>();
        for (int s = 0; s < n; s++)
        {
            if (label[s] >= 0) continue;
            label[s] = count;
            stack.Push(s);
            while (stack.Count > 0)
            {
                int u = stack.Pop();
                foreach (var (v, _) in graph[u])
                    if (label[v] < 0) { label[v] = count; stack.Push(v); }
            }
            count++;
        }
        return label;
    }

    // sklearn SpectralEmbedding(affinity="precomputed") of the centroid affinities, scaled by its max.
    private static double[][] MetaEmbedding(double[][] data, int[] label, int count, int dim)
    {
        int d = data[0].Length;
        var centroids = new double[count][];
        var sizes = new int[count];
        for (int c = 0; c < count; c++) centroids[c] = new double[d];
        for (int i = 0; i < data.Length; i++) { TensorPrimitives.Add(centroids[label[i]], data[i], centroids[label[i]]); sizes[label[i]]++; }
        for (int c = 0; c < count; c++) TensorPrimitives.Divide(centroids[c], sizes[c], centroids[c]);
        var w = new double[count][];
        for (int a = 0; a < count; a++)
        {
            w[a] = new double[count];
            for (int b = 0; b < count; b++)
            {
                double dist = TensorPrimitives.Distance<double>(centroids[a], centroids[b]);
                w[a][b] = Math.Exp(-dist * dist);
            }
        }
        // normalised Laplacian with zero diagonal affinity (sklearn's csgraph laplacian ignores self-loops)
        var deg = new double[count];
        for (int a = 0; a < count; a++) for (int b = 0; b < count; b++) if (a != b) deg[a] += w[a][b];
        var dd = deg.Select(v => Math.Sqrt(Math.Max(v, 1e-300))).ToArray();
        var m = new double[count][];
        for (int a = 0; a < count; a++)
        {
            m[a] = new double[count];
            for (int b = 0; b < count; b++) m[a][b] = a == b ? 0 : w[a][b] / (dd[a] * dd[b]);
        }
        var (_, vectors) = SymmetricEigen.Decompose(m); // largest eigenvalues of D^-½WD^-½ = smallest of L
        var emb = new double[count][];
        for (int c = 0; c < count; c++) emb[c] = new double[dim];
        for (int k = 0; k < dim; k++)
        {
            var v = vectors[k + 1].Select((x, c) => x / dd[c]).ToArray();
            int arg = 0;
            for (int c = 1; c < count; c++) if (Math.Abs(v[c]) > Math.Abs(v[arg])) arg = c;
            double sign = v[arg] < 0 ? -1 : 1;
            for (int c = 0; c < count; c++) emb[c][k] = sign * v[c];
        }
        double max = emb.Max(r => r.Max());
        if (max > 0) foreach (var r in emb) for (int k = 0; k < dim; k++) r[k] /= max;
        return emb;
    }

    // Eigenvectors 1..dim (by decreasing eigenvalue) of D^{-1/2} W D^{-1/2} on the sub-graph of
    // `members`, by Lanczos with full re-orthogonalisation started from the all-ones vector
    // (umap-learn's v0) against the known top eigenvector D^{1/2}·1.
    private static double[][] Normalised(List<KeyValuePair<int, double>>[] graph, int[] members, int dim, Random rng)
    {
        int n = members.Length;
        var local = new Dictionary<int, int>(n);
        for (int i = 0; i < n; i++) local[members[i]] = i;
        var rows = new (int[] Col, double[] Val)[n];
        var deg = new double[n];
        for (int i = 0; i < n; i++)
        {
            var edges = graph[members[i]].Where(kv => local.ContainsKey(kv.Key)).ToArray();
            rows[i] = (edges.Select(kv => local[kv.Key]).ToArray(), edges.Select(kv => kv.Value).ToArray());
            deg[i] = rows[i].Val.Sum();
        }
        var invSqrt = deg.Select(v => v > 0 ? 1 / Math.Sqrt(v) : 0).ToArray();
        void Apply(double[] x, double[] yOut)
        {
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                var (col, val) = rows[i];
                for (int e = 0; e < col.Length; e++) s += val[e] * invSqrt[col[e]] * x[col[e]];
                yOut[i] = s * invSqrt[i];
            }
        }

        var top = deg.Select(Math.Sqrt).ToArray();
        TensorPrimitives.Divide(top, TensorPrimitives.Norm<double>(top), top);
        int steps = Math.Min(n - 1, Math.Max(4 * dim + 8, Math.Min(300, (int)(4 * Math.Sqrt(n)))));
        var q = new List<double[]>();
        var alpha = new List<double>(); var beta = new List<double>();
        var v = Enumerable.Repeat(1.0, n).ToArray();
        Orthogonalise(v, [top]);
        if (TensorPrimitives.Norm<double>(v) < 1e-8) { for (int i = 0; i < n; i++) v[i] = ProjectionInput.Gaussian(rng); Orthogonalise(v, [top]); }
        TensorPrimitives.Divide(v, TensorPrimitives.Norm<double>(v), v);
        var w = new double[n];
        for (int s = 0; s < steps; s++)
        {
            q.Add((double[])v.Clone());
            Apply(v, w);
            double a = TensorPrimitives.Dot<double>(w, v);
            alpha.Add(a);
            Orthogonalise(w, [top]);
            Orthogonalise(w, q);
            Orthogonalise(w, q); // twice is enough (Kahan–Parlett)
            double bnorm = TensorPrimitives.Norm<double>(w);
            if (bnorm < 1e-10)
            {
                // invariant subspace found: restart with a random vector orthogonal to everything so far
                for (int i = 0; i < n; i++) w[i] = ProjectionInput.Gaussian(rng);
                Orthogonalise(w, [top]); Orthogonalise(w, q); Orthogonalise(w, q);
                bnorm = TensorPrimitives.Norm<double>(w);
                if (bnorm < 1e-10) break;
                beta.Add(0);
            }
            else beta.Add(bnorm);
            TensorPrimitives.Divide(w, bnorm, v);
        }
        int m = q.Count;
        var t = new double[m][];
        for (int i = 0; i < m; i++) { t[i] = new double[m]; t[i][i] = alpha[i]; }
        for (int i = 0; i + 1 < m; i++) { t[i][i + 1] = beta[i]; t[i + 1][i] = beta[i]; }
        var (_, ritz) = SymmetricEigen.Decompose(t);
        var result = new double[n][];
        for (int i = 0; i < n; i++) result[i] = new double[dim];
        for (int k = 0; k < dim && k < ritz.Length; k++)
            for (int s = 0; s < m; s++)
            {
                double c = ritz[k][s];
                var qs = q[s];
                for (int i = 0; i < n; i++) result[i][k] += c * qs[i];
            }
        return result;
    }

    private static void Orthogonalise(double[] w, IReadOnlyList<double[]> basis)
    {
        foreach (var b in basis)
        {
            double c = TensorPrimitives.Dot<double>(w, b);
            TensorPrimitives.MultiplyAdd(b, -c, w, w);
        }
    }
}
