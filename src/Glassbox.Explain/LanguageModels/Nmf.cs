// Non-negative matrix factorisation as Ecco runs it: scikit-learn's
// NMF(n_components, init="random", random_state=0, max_iter=500) with its defaults (solver "cd",
// Frobenius loss, tol 1e-4, no regularisation, no shuffling), on X = max(activations, 0)ᵀ
// ([positions, neurons]); Ecco keeps W (positions × components) transposed as its "components".
//
// To land on the same local minimum as scikit-learn, everything that decides the trajectory is
// reproduced: the random start (NumPy's legacy RandomState: MT19937 seeded by init_genrand, polar
// Box–Muller gaussians, H drawn before W, |·| scaled by sqrt(mean(X)/k)), float32 storage as
// scikit-learn keeps for float32 input, the coordinate-descent sweep order of
// _update_cdnmf_fast (W then H, component by component, sample by sample) and its stopping rule
// (summed projected-gradient violation ≤ tol × the first iteration's). Products (HHᵀ, XHᵀ) are
// accumulated in double and rounded to float32, where NumPy's sgemm rounds in its own order; the
// difference is at float32 rounding level.
namespace Glassbox.Explain.LanguageModels;

/// <summary>NumPy's legacy np.random.RandomState (MT19937): the doubles and gaussians it draws.</summary>
public sealed class NumpyRandomState
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _pos;
    private bool _hasGauss;
    private double _gauss;

    /// <summary>np.random.RandomState(seed) for an integer seed in [0, 2³²).</summary>
    public NumpyRandomState(uint seed)
    {
        uint s = seed;
        for (int i = 0; i < N; i++)
        {
            _mt[i] = s;
            s = unchecked(1812433253u * (s ^ (s >> 30)) + (uint)i + 1u);
        }
        _pos = N;
    }

    private void Generate()
    {
        for (int k = 0; k < N; k++)
        {
            uint y = (_mt[k] & 0x80000000u) | (_mt[(k + 1) % N] & 0x7fffffffu);
            _mt[k] = _mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
        }
        _pos = 0;
    }

    public uint NextUInt32()
    {
        if (_pos >= N) Generate();
        uint y = _mt[_pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>random_sample(): 53-bit double in [0, 1).</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>standard_normal(): the legacy polar method, which returns the second value of each pair first.</summary>
    public double NextGaussian()
    {
        if (_hasGauss)
        {
            _hasGauss = false;
            double t = _gauss;
            _gauss = 0;
            return t;
        }
        double x1, x2, r2;
        do
        {
            x1 = 2.0 * NextDouble() - 1.0;
            x2 = 2.0 * NextDouble() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _gauss = f * x1;
        _hasGauss = true;
        return f * x2;
    }
}

/// <summary>A fitted factorisation X ≈ W·H of a [samples, features] matrix.</summary>
public sealed class NmfFit
{
    /// <summary>[samples, components], row-major.</summary>
    public required float[] W { get; init; }
    /// <summary>[components, features], row-major.</summary>
    public required float[] H { get; init; }
    public required int Samples { get; init; }
    public required int Features { get; init; }
    public required int Components { get; init; }
    /// <summary>‖X − W·H‖_F (scikit-learn's reconstruction_err_).</summary>
    public required double ReconstructionError { get; init; }
    public required int Iterations { get; init; }
    /// <summary>False when MaxIterations ran out before the tolerance was met (scikit-learn warns).</summary>
    public required bool Converged { get; init; }
}

public static class Nmf
{
    /// <summary>scikit-learn NMF(n_components, init="random", solver="cd", beta_loss="frobenius",
    /// tol, max_iter, random_state=seed).fit_transform(X) for X [samples, features] ≥ 0 (row-major).</summary>
    public static NmfFit Fit(float[] x, int samples, int features, int components, uint seed = 0, int maxIterations = 500, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (samples < 1 || features < 1 || x.Length != (long)samples * features)
            throw new ArgumentException($"NMF: the matrix has {x.Length} entries; {samples} samples × {features} features were announced (both ≥ 1).");
        if (components < 1) throw new ArgumentOutOfRangeException(nameof(components), $"NMF: {components} components asked; give at least 1.");
        if (maxIterations < 1) throw new ArgumentOutOfRangeException(nameof(maxIterations), $"NMF: MaxIterations is {maxIterations}; it must be ≥ 1.");
        for (int i = 0; i < x.Length; i++)
            if (!(x[i] >= 0) || float.IsInfinity(x[i]))
                throw new ArgumentException($"NMF: entry {i} (sample {i / features}, feature {i % features}) is {x[i]}; the matrix must be finite and non-negative.");

        int n = samples, m = features, k = components;
        // _initialize_nmf(init="random"): avg = sqrt(X.mean() / k); H first, then W; absolute values.
        double mean = 0;
        foreach (float v in x) mean += v;
        mean = (float)(mean / x.Length);
        float avg = (float)Math.Sqrt((float)mean / k);
        var rng = new NumpyRandomState(seed);
        var h = new float[k * m];
        for (int i = 0; i < h.Length; i++) h[i] = MathF.Abs(avg * (float)rng.NextGaussian());
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = MathF.Abs(avg * (float)rng.NextGaussian());
        var ht = new float[m * k]; // Hᵀ, C order, as _fit_coordinate_descent keeps it
        for (int r = 0; r < k; r++)
            for (int c = 0; c < m; c++) ht[c * k + r] = h[r * m + c];

        double violationInit = 0;
        int iter;
        bool converged = false;
        for (iter = 1; iter <= maxIterations; iter++)
        {
            double violation = 0;
            violation += UpdateCoordinateDescent(x, n, m, w, ht, k, transposeX: false);
            violation += UpdateCoordinateDescent(x, n, m, ht, w, k, transposeX: true);
            if (iter == 1) violationInit = violation;
            if (violationInit == 0) { converged = true; break; }
            if (violation / violationInit <= tolerance) { converged = true; break; }
        }
        if (iter > maxIterations) iter = maxIterations;

        for (int r = 0; r < k; r++)
            for (int c = 0; c < m; c++) h[r * m + c] = ht[c * k + r];
        // _beta_divergence(X, W, H, "frobenius", square_root=True) = ‖X − WH‖_F.
        double err = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int r = 0; r < k; r++) s += (double)w[i * k + r] * h[r * m + j];
                double dlt = x[i * m + j] - (float)s;
                err += dlt * dlt;
            }
        return new NmfFit { W = w, H = h, Samples = n, Features = m, Components = k, ReconstructionError = Math.Sqrt(err), Iterations = iter, Converged = converged };
    }

    /// <summary>One sweep of scikit-learn's _update_coordinate_descent + _update_cdnmf_fast on the
    /// factor `a` ([rows, k]) with the other factor `b` ([cols, k]): X·b (or Xᵀ·b) and bᵀ·b first,
    /// then each component t, each row i: a[i,t] ← max(a[i,t] − grad/hess, 0). Returns the summed
    /// |projected gradient| (float32, as the Cython loop keeps it).</summary>
    private static float UpdateCoordinateDescent(float[] x, int n, int m, float[] a, float[] b, int k, bool transposeX)
    {
        int rows = transposeX ? m : n, cols = transposeX ? n : m;
        var hht = new float[k * k];
        for (int r = 0; r < k; r++)
            for (int s = 0; s < k; s++)
            {
                double acc = 0;
                for (int c = 0; c < cols; c++) acc += (double)b[c * k + r] * b[c * k + s];
                hht[r * k + s] = (float)acc;
            }
        var xht = new float[rows * k];
        var accRow = new double[k];
        for (int i = 0; i < rows; i++)
        {
            Array.Clear(accRow);
            for (int c = 0; c < cols; c++)
            {
                double xv = transposeX ? x[c * m + i] : x[i * m + c];
                if (xv == 0) continue;
                for (int r = 0; r < k; r++) accRow[r] += xv * b[c * k + r];
            }
            for (int r = 0; r < k; r++) xht[i * k + r] = (float)accRow[r];
        }

        float violation = 0;
        for (int t = 0; t < k; t++)
            for (int i = 0; i < rows; i++)
            {
                float grad = -xht[i * k + t];
                for (int r = 0; r < k; r++) grad += hht[t * k + r] * a[i * k + r];
                float pg = a[i * k + t] == 0 ? Math.Min(0f, grad) : grad;
                violation += MathF.Abs(pg);
                float hess = hht[t * k + t];
                if (hess != 0) a[i * k + t] = Math.Max(a[i * k + t] - grad / hess, 0f);
            }
        return violation;
    }
}
