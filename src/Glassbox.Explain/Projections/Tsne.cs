// t-SNE (van der Maaten & Hinton 2008) as sklearn.manifold.TSNE computes it:
// - affinities: squared Euclidean distances, conditional Pⱼ|ᵢ by bisection on the precision so the
//   entropy equals ln(perplexity) (100 steps, tolerance 1e-5), P = (P + Pᵀ)/ΣP. Exact: over all
//   points; Barnes–Hut: over the ⌊3·perplexity + 1⌋ nearest neighbours, found exactly as sklearn
//   does (a GEMM per block of rows: with ~90 neighbours that is cheaper than NN-descent);
// - Student-t kernel w = (1 + d²/α)^{−(α+1)/2} with α = max(components − 1, 1) degrees of freedom
//   (sklearn's choice: α = 1 in 2-D, 2 in 3-D); gradient (2(α+1)/α) Σⱼ (pᵢⱼ wᵢⱼ − wᵢⱼ²/Z)(yᵢ − yⱼ),
//   Z = Σ w, the same expression sklearn uses in its exact and Barnes–Hut code;
// - Barnes–Hut: a 2ᵈ-tree (quadtree / octree) per iteration, a cell summarised when its width
//   over the distance to its centre of mass is below the angle θ (0.5);
// - optimisation: PCA initialisation scaled to std 1e-4 on the first axis (or N(0, 1e-4²)),
//   learning rate "auto" = max(n / early_exaggeration / 4, 50), 250 iterations with P × 12 and
//   momentum 0.5, then momentum 0.8, delta-bar-delta gains (+0.2 / ×0.8, floor 0.01), stop early
//   when the gradient norm falls below 1e-7. (sklearn also stops after 300 iterations without
//   progress in the KL divergence; we always run the iterations asked for.)
// Per-point gradients run in parallel, each computed by one thread, so results do not depend on
// the thread count.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

public enum TsneMethod
{
    /// <summary>Exact up to <see cref="TsneOptions.ExactUpTo"/> points, Barnes–Hut above.</summary>
    Auto,
    Exact,
    BarnesHut,
}

public enum TsneInit { Pca, Random }

/// <summary>t-SNE settings; defaults are sklearn's (perplexity 30, early exaggeration 12,
/// learning rate "auto" when null, 1000 iterations, angle 0.5, PCA initialisation).</summary>
public sealed record TsneOptions(
    int Components = 2,
    double Perplexity = 30,
    double EarlyExaggeration = 12,
    double? LearningRate = null,
    int Iterations = 1000,
    TsneMethod Method = TsneMethod.Auto,
    double Angle = 0.5,
    TsneInit Init = TsneInit.Pca,
    int Seed = 0,
    int ExactUpTo = 500);

/// <summary>A t-SNE embedding with the method used, the learning rate, iterations run, and the
/// final KL divergence (computed exactly for the exact method, null for Barnes–Hut).</summary>
public sealed record TsneResult(double[][] Embedding, TsneMethod Method, double LearningRate, int Iterations, double? KlDivergence);

public static class Tsne
{
    private const double MachineEpsilon = 2.220446049250313e-16;
    private const int ExplorationIterations = 250;

    /// <summary>Embeds the rows of data ([n, d], n > perplexity) in 2 or 3 dimensions.</summary>
    public static TsneResult Fit(double[][] data, TsneOptions? options = null)
    {
        var o = options ?? new TsneOptions();
        var (n, _) = ProjectionInput.Check("Tsne", data, 3);
        ProjectionInput.Dimensions("Tsne", o.Components);
        if (!(o.Perplexity > 0) || o.Perplexity >= n)
            throw new ArgumentOutOfRangeException(nameof(options), $"Tsne: perplexity {o.Perplexity} must be positive and less than the number of points ({n}); sklearn refuses it likewise.");
        if (o.Iterations < ExplorationIterations)
            throw new ArgumentOutOfRangeException(nameof(options), $"Tsne: {o.Iterations} iterations; at least {ExplorationIterations} are needed (the early-exaggeration phase alone takes {ExplorationIterations}).");
        if (!(o.Angle >= 0 && o.Angle <= 1) || !(o.EarlyExaggeration >= 1))
            throw new ArgumentOutOfRangeException(nameof(options), "Tsne: angle must lie in [0, 1] and early exaggeration be ≥ 1.");
        var method = o.Method == TsneMethod.Auto ? (n <= o.ExactUpTo ? TsneMethod.Exact : TsneMethod.BarnesHut) : o.Method;
        int dim = o.Components;
        double dof = Math.Max(dim - 1, 1);

        // affinities: rows of (neighbour, p) summing (jointly) to 1
        var p = method == TsneMethod.Exact ? ExactAffinities(data, o.Perplexity) : SparseAffinities(data, o.Perplexity);

        var y = Initialise(data, dim, o);
        double lr = o.LearningRate ?? Math.Max(n / o.EarlyExaggeration / 4, 50);
        var update = new double[n][]; var gains = new double[n][]; var grad = new double[n][];
        for (int i = 0; i < n; i++) { update[i] = new double[dim]; gains[i] = Enumerable.Repeat(1.0, dim).ToArray(); grad[i] = new double[dim]; }

        int it = 0;
        for (; it < o.Iterations; it++)
        {
            bool explore = it < ExplorationIterations;
            double exaggeration = explore ? o.EarlyExaggeration : 1.0, momentum = explore ? 0.5 : 0.8;
            if (method == TsneMethod.Exact) ExactGradient(y, p, exaggeration, dof, grad);
            else BarnesHutGradient(y, p, exaggeration, dof, o.Angle, grad);
            double norm2 = 0;
            for (int i = 0; i < n; i++)
                for (int c = 0; c < dim; c++)
                {
                    double g = grad[i][c];
                    norm2 += g * g;
                    gains[i][c] = update[i][c] * g < 0 ? gains[i][c] + 0.2 : gains[i][c] * 0.8;
                    if (gains[i][c] < 0.01) gains[i][c] = 0.01;
                    update[i][c] = momentum * update[i][c] - lr * gains[i][c] * g;
                    y[i][c] += update[i][c];
                }
            if (!explore && Math.Sqrt(norm2) < 1e-7) { it++; break; }
        }
        double? kl = method == TsneMethod.Exact ? ExactKl(y, p, dof) : null;
        return new TsneResult(y, method, lr, it, kl);
    }

    /// <summary>sklearn's _binary_search_perplexity for one point: conditional probabilities over
    /// the given squared distances with entropy ln(perplexity).</summary>
    internal static double[] ConditionalP(ReadOnlySpan<double> sqDistances, double perplexity)
    {
        int m = sqDistances.Length;
        var pr = new double[m];
        double desired = Math.Log(perplexity);
        double beta = 1, betaMin = double.NegativeInfinity, betaMax = double.PositiveInfinity;
        for (int step = 0; step < 100; step++)
        {
            double sum = 0;
            for (int j = 0; j < m; j++) { pr[j] = Math.Exp(-sqDistances[j] * beta); sum += pr[j]; }
            if (sum == 0) sum = 1e-8;
            double sumDP = 0;
            for (int j = 0; j < m; j++) { pr[j] /= sum; sumDP += sqDistances[j] * pr[j]; }
            double entropy = Math.Log(sum) + beta * sumDP;
            double diff = entropy - desired;
            if (Math.Abs(diff) <= 1e-5) break;
            if (diff > 0)
            {
                betaMin = beta;
                beta = double.IsPositiveInfinity(betaMax) ? beta * 2 : (beta + betaMax) / 2;
            }
            else
            {
                betaMax = beta;
                beta = double.IsNegativeInfinity(betaMin) ? beta / 2 : (beta + betaMin) / 2;
            }
        }
        return pr;
    }

    // Dense joint P as rows of (j, p_ij) over all j ≠ i, floored at machine epsilon (sklearn's exact path).
    private static (int[] Col, double[] Val)[] ExactAffinities(double[][] x, double perplexity)
    {
        int n = x.Length;
        var cond = new double[n][];
        Parallel.For(0, n, i =>
        {
            var d = new double[n - 1];
            for (int j = 0, t = 0; j < n; j++)
                if (j != i) { double dist = TensorPrimitives.Distance<double>(x[i], x[j]); d[t++] = dist * dist; }
            cond[i] = ConditionalP(d, perplexity);
        });
        double Cond(int i, int j) => cond[i][j < i ? j : j - 1];
        double total = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (j != i) total += Cond(i, j) + Cond(j, i);
        total = Math.Max(total, MachineEpsilon);
        var rows = new (int[] Col, double[] Val)[n];
        for (int i = 0; i < n; i++)
        {
            var col = new int[n - 1]; var val = new double[n - 1];
            for (int j = 0, t = 0; j < n; j++)
                if (j != i) { col[t] = j; val[t] = Math.Max((Cond(i, j) + Cond(j, i)) / total, MachineEpsilon); t++; }
            rows[i] = (col, val);
        }
        return rows;
    }

    // Sparse joint P over the ⌊3·perplexity + 1⌋ nearest neighbours, symmetrised and normalised.
    private static (int[] Col, double[] Val)[] SparseAffinities(double[][] x, double perplexity)
    {
        int n = x.Length;
        int k = Math.Min(n - 1, (int)(3 * perplexity + 1));
        var knn = Neighbors.Exact(x, k);
        var sym = new Dictionary<int, double>[n];
        for (int i = 0; i < n; i++) sym[i] = [];
        for (int i = 0; i < n; i++)
        {
            var cp = ConditionalP(knn.Distances[i].Select(d => d * d).ToArray(), perplexity);
            for (int e = 0; e < k; e++)
            {
                int j = knn.Indices[i][e];
                sym[i][j] = sym[i].GetValueOrDefault(j) + cp[e];
                sym[j][i] = sym[j].GetValueOrDefault(i) + cp[e];
            }
        }
        double total = Math.Max(sym.Sum(r => r.Values.Sum()), MachineEpsilon);
        return sym.Select(r =>
        {
            var kv = r.OrderBy(e => e.Key).ToArray();
            return (kv.Select(e => e.Key).ToArray(), kv.Select(e => e.Value / total).ToArray());
        }).ToArray();
    }

    private static double[][] Initialise(double[][] x, int dim, TsneOptions o)
    {
        int n = x.Length;
        if (o.Init == TsneInit.Pca && Math.Min(n, x[0].Length) >= dim)
        {
            var y = Pca.Fit(x, dim).Embedding;
            double mean = y.Average(r => r[0]);
            double std = Math.Sqrt(y.Average(r => (r[0] - mean) * (r[0] - mean)));
            if (std > 0)
            {
                foreach (var r in y) for (int c = 0; c < dim; c++) r[c] = r[c] / std * 1e-4;
                return y;
            }
        }
        var rng = new Random(o.Seed);
        var z = new double[n][];
        for (int i = 0; i < n; i++) z[i] = Enumerable.Range(0, dim).Select(_ => 1e-4 * ProjectionInput.Gaussian(rng)).ToArray();
        return z;
    }

    private static double Kernel(double d2, double dof) => dof == 1 ? 1 / (1 + d2) : Math.Pow(dof / (dof + d2), (dof + 1) / 2);

    internal static void ExactGradient(double[][] y, (int[] Col, double[] Val)[] p, double exaggeration, double dof, double[][] grad)
    {
        int n = y.Length, dim = y[0].Length;
        var zParts = new double[n];
        Parallel.For(0, n, i =>
        {
            double z = 0;
            for (int j = 0; j < n; j++) if (j != i) z += Kernel(Sq(y[i], y[j]), dof);
            zParts[i] = z;
        });
        double zTotal = zParts.Sum();
        double c = 2 * (dof + 1) / dof;
        Parallel.For(0, n, i =>
        {
            var g = grad[i];
            Array.Clear(g);
            // repulsion over every other point, attraction over the non-zero entries of P's row
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double w = Kernel(Sq(y[i], y[j]), dof);
                double coeff = -w * w / zTotal;
                for (int d = 0; d < dim; d++) g[d] += coeff * (y[i][d] - y[j][d]);
            }
            var (col, val) = p[i];
            for (int t = 0; t < col.Length; t++)
            {
                int j = col[t];
                double w = Kernel(Sq(y[i], y[j]), dof);
                double coeff = exaggeration * val[t] * w;
                for (int d = 0; d < dim; d++) g[d] += coeff * (y[i][d] - y[j][d]);
            }
            for (int d = 0; d < dim; d++) g[d] *= c;
        });
    }

    private static double ExactKl(double[][] y, (int[] Col, double[] Val)[] p, double dof)
    {
        int n = y.Length;
        double z = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) if (j != i) z += Kernel(Sq(y[i], y[j]), dof);
        double kl = 0;
        for (int i = 0; i < n; i++)
        {
            var (col, val) = p[i];
            for (int t = 0; t < col.Length; t++)
            {
                double q = Math.Max(Kernel(Sq(y[i], y[col[t]]), dof) / z, MachineEpsilon);
                kl += val[t] * Math.Log(Math.Max(val[t], MachineEpsilon) / q);
            }
        }
        return kl;
    }

    internal static void BarnesHutGradient(double[][] y, (int[] Col, double[] Val)[] p, double exaggeration, double dof, double angle, double[][] grad)
    {
        int n = y.Length, dim = y[0].Length;
        var tree = new SpaceTree(y);
        var zParts = new double[n];
        var neg = new double[n][];
        Parallel.For(0, n, i =>
        {
            neg[i] = new double[dim];
            zParts[i] = tree.Repulsion(i, y[i], angle, dof, neg[i]);
        });
        double zTotal = zParts.Sum();
        double c = 2 * (dof + 1) / dof;
        Parallel.For(0, n, i =>
        {
            var g = grad[i];
            var (col, val) = p[i];
            for (int d = 0; d < dim; d++) g[d] = -neg[i][d] / zTotal;
            for (int t = 0; t < col.Length; t++)
            {
                int j = col[t];
                double w = Kernel(Sq(y[i], y[j]), dof);
                double coeff = exaggeration * val[t] * w;
                for (int d = 0; d < dim; d++) g[d] += coeff * (y[i][d] - y[j][d]);
            }
            for (int d = 0; d < dim; d++) g[d] *= c;
        });
    }

    private static double Sq(double[] a, double[] b)
    {
        double s = 0;
        for (int d = 0; d < a.Length; d++) { double t = a[d] - b[d]; s += t * t; }
        return s;
    }

    /// <summary>A 2ᵈ-ary space-partitioning tree (quadtree in 2-D, octree in 3-D) with centres of mass.</summary>
    internal sealed class SpaceTree
    {
        private readonly int _dim;
        private readonly List<double[]> _center = [];   // cell centre
        private readonly List<double> _width = [];       // cell side length
        private readonly List<double[]> _com = [];       // sum of positions, divided at the end
        private readonly List<int> _count = [];
        private readonly List<int> _point = [];          // a leaf's point (−1 when internal or empty)
        private readonly List<int[]?> _children = [];
        private readonly double[][] _y;

        public SpaceTree(double[][] y)
        {
            _y = y; _dim = y[0].Length;
            var lo = new double[_dim]; var hi = new double[_dim];
            for (int d = 0; d < _dim; d++) { lo[d] = y.Min(r => r[d]); hi[d] = y.Max(r => r[d]); }
            double width = 0;
            for (int d = 0; d < _dim; d++) width = Math.Max(width, hi[d] - lo[d]);
            width = width * (1 + 1e-6) + 1e-12;
            NewNode(Enumerable.Range(0, _dim).Select(d => (lo[d] + hi[d]) / 2).ToArray(), width);
            for (int i = 0; i < y.Length; i++) Insert(0, i, 0);
            for (int node = 0; node < _count.Count; node++)
                if (_count[node] > 0) TensorPrimitives.Divide(_com[node], _count[node], _com[node]);
        }

        private int NewNode(double[] center, double width)
        {
            _center.Add(center); _width.Add(width); _com.Add(new double[_dim]); _count.Add(0); _point.Add(-1); _children.Add(null);
            return _count.Count - 1;
        }

        private void Insert(int node, int i, int depth)
        {
            while (true)
            {
                TensorPrimitives.Add(_com[node], _y[i], _com[node]);
                _count[node]++;
                if (_children[node] is null)
                {
                    if (_count[node] == 1) { _point[node] = i; return; }
                    // duplicates (or depth exhausted) stay together in one leaf
                    int other = _point[node];
                    if (other >= 0 && (Same(_y[other], _y[i]) || depth > 50)) return;
                    Split(node);
                    // the leaf held `other` and its duplicates: all but i move down together
                    if (other >= 0) { int ch = Child(node, _y[other]); PushDown(ch, other, _count[node] - 1); }
                    _point[node] = -1;
                }
                node = Child(node, _y[i]);
                depth++;
            }
        }

        private void PushDown(int node, int i, int multiplicity)
        {
            TensorPrimitives.MultiplyAdd(_y[i], multiplicity, _com[node], _com[node]);
            _count[node] += multiplicity;
            _point[node] = i;
        }

        private void Split(int node)
        {
            int k = 1 << _dim;
            var ch = new int[k];
            double w = _width[node] / 2;
            for (int c = 0; c < k; c++)
            {
                var center = new double[_dim];
                for (int d = 0; d < _dim; d++) center[d] = _center[node][d] + ((c >> d & 1) == 1 ? w / 2 : -w / 2);
                ch[c] = NewNode(center, w);
            }
            _children[node] = ch;
        }

        private int Child(int node, double[] p)
        {
            int c = 0;
            for (int d = 0; d < _dim; d++) if (p[d] > _center[node][d]) c |= 1 << d;
            return _children[node]![c];
        }

        private static bool Same(double[] a, double[] b)
        {
            for (int d = 0; d < a.Length; d++) if (a[d] != b[d]) return false;
            return true;
        }

        /// <summary>Adds Σ w²(yᵢ − y_cell)·N to neg and returns Σ w·N over all other points (θ-approximated).</summary>
        public double Repulsion(int i, double[] yi, double angle, double dof, double[] neg)
        {
            double z = 0;
            var stack = new Stack<int>();
            stack.Push(0);
            var delta = new double[_dim];
            while (stack.Count > 0)
            {
                int node = stack.Pop();
                int count = _count[node];
                if (count == 0) continue;
                var children = _children[node];
                if (children is null && _point[node] == i && count == 1) continue;
                double d2 = 0;
                for (int d = 0; d < _dim; d++) { delta[d] = yi[d] - _com[node][d]; d2 += delta[d] * delta[d]; }
                if (children is null || _width[node] * _width[node] < angle * angle * d2)
                {
                    // a leaf holding i among duplicates: the duplicates are at distance 0 and contribute w = 1 each
                    int others = children is null && ContainsSelf(node, i) ? count - 1 : count;
                    if (others == 0) continue;
                    double w = Kernel(d2, dof);
                    z += others * w;
                    double f = others * w * w;
                    for (int d = 0; d < _dim; d++) neg[d] += f * delta[d];
                    continue;
                }
                foreach (var c in children) stack.Push(c);
            }
            return z;
        }

        // a leaf contains i when i sits at the leaf's position (leaves hold one point or duplicates of it)
        private bool ContainsSelf(int node, int i) => _point[node] >= 0 && Same(_y[_point[node]], _y[i]);
    }
}
