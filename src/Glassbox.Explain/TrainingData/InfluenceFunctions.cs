// Influence functions on the classification head (Koh & Liang 2017). With the rest of the network
// fixed, the head is a multinomial logistic regression on features h; its training objective is
//   R(θ) = (1/n) Σ_i loss(z_i, θ) + (λ/2)‖θ‖²        (λ = Damping)
// with Hessian H = (1/n) Σ_i (diag(p_i) − p_i p_iᵀ) ⊗ h̃_i h̃_iᵀ + λI. Koh & Liang's influence of
// up-weighting z on the test loss is I(z) = −∇L(test)ᵀ H⁻¹ ∇L(z); Glassbox reports
//   score(z) = −I(z) = ∇L(test)ᵀ H⁻¹ ∇L(z)
// so that positive = helpful (up-weighting z lowers the test loss). Removing z from the training
// set changes the test loss by about +score(z)/n (the leave-one-out prediction, ε = −1/n).
// H⁻¹∇L(test) is computed once per test example, exactly (Cholesky of the (C·(d+1))² Hessian, in
// double) or by LiSSA (Agarwal et al. 2017, as in Koh & Liang's code): the recursion
//   h_0 = v,  h_j = v + h_{j−1} − H̃_j h_{j−1} / s,   H⁻¹v ≈ h_J / s
// with H̃_j the Hessian of a sampled mini-batch (or the full set), which converges when the scale s
// exceeds H's largest eigenvalue (estimated by power iteration unless given).
// Set Damping to the head's training weight decay when it is known: then H is the true Hessian.
namespace Glassbox.Explain.TrainingData;

public enum InfluenceSolver { Exact, LiSSA }

public sealed class LissaOptions
{
    /// <summary>Recursion steps per repeat (upper bound; stops earlier at Tolerance).</summary>
    public int Depth { get; init; } = 5000;
    /// <summary>Independent recursions averaged (useful with mini-batches).</summary>
    public int Repeats { get; init; } = 1;
    /// <summary>The scale s; null = 1.1 × the largest eigenvalue of H (power iteration).</summary>
    public double? Scale { get; init; }
    /// <summary>Training examples per Hessian-vector product; null = all (deterministic).</summary>
    public int? BatchSize { get; init; }
    public int Seed { get; init; }
    /// <summary>Stop a repeat when ‖h_j − h_{j−1}‖ ≤ Tolerance·‖h_j‖ (full batch only).</summary>
    public double Tolerance { get; init; } = 1e-10;
}

public sealed class InfluenceOptions
{
    /// <summary>λ added to the Hessian (and the L2 term of the objective it describes).</summary>
    public double Damping { get; init; } = 1e-3;
    public InfluenceSolver Solver { get; init; } = InfluenceSolver.Exact;
    public LissaOptions Lissa { get; init; } = new();
    /// <summary>Helpful and harmful examples returned.</summary>
    public int TopK { get; init; } = 10;
}

/// <summary>Influence of each training example on a test example's loss, through the classifier head.</summary>
public sealed class HeadInfluence
{
    private readonly double[][] _w;
    private readonly double[]? _b;
    private readonly double[][] _x;
    private readonly int[] _y;
    private readonly double[][] _p;
    private readonly int _classes, _dim, _params;
    private double[,]? _cholesky;
    private readonly IExplainableModel? _model;
    private readonly ClassifierHead? _head;
    private readonly IReadOnlyList<EncodedExample>? _train;

    public InfluenceOptions Options { get; }
    /// <summary>LiSSA: steps taken by the last solve (per repeat, summed).</summary>
    public int LastLissaSteps { get; private set; }

    /// <summary>From a head's weights and the training set's features and labels (the logistic-regression setting).</summary>
    /// <param name="weight">[classes][d]</param>
    /// <param name="bias">[classes] or null</param>
    /// <param name="trainFeatures">[n][d]</param>
    /// <param name="trainLabels">[n]</param>
    public HeadInfluence(double[][] weight, double[]? bias, double[][] trainFeatures, int[] trainLabels, InfluenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(trainFeatures);
        ArgumentNullException.ThrowIfNull(trainLabels);
        Options = options ?? new InfluenceOptions();
        if (Options.Damping < 0 || !double.IsFinite(Options.Damping)) throw new ArgumentOutOfRangeException(nameof(options), $"Damping must be a finite value ≥ 0, got {Options.Damping}.");
        if (Options.TopK < 1) throw new ArgumentOutOfRangeException(nameof(options), $"TopK must be ≥ 1, got {Options.TopK}.");
        if (weight.Length < 2) throw new ArgumentException($"The head needs at least 2 classes, got {weight.Length}.", nameof(weight));
        _classes = weight.Length; _dim = weight[0].Length;
        if (weight.Any(r => r.Length != _dim)) throw new ArgumentException("The head's weight rows differ in length.", nameof(weight));
        if (bias is not null && bias.Length != _classes) throw new ArgumentException($"Bias has {bias.Length} entries for {_classes} classes.", nameof(bias));
        if (trainFeatures.Length == 0) throw new ArgumentException("Influence functions: the training set is empty.", nameof(trainFeatures));
        if (trainFeatures.Length != trainLabels.Length) throw new ArgumentException($"{trainFeatures.Length} feature rows but {trainLabels.Length} labels.", nameof(trainLabels));
        for (int i = 0; i < trainFeatures.Length; i++)
        {
            if (trainFeatures[i].Length != _dim) throw new ArgumentException($"Training features row {i} has {trainFeatures[i].Length} values; the head reads {_dim}.", nameof(trainFeatures));
            if (trainLabels[i] < 0 || trainLabels[i] >= _classes) throw new ArgumentException($"Training label {trainLabels[i]} (row {i}) is outside 0..{_classes - 1}.", nameof(trainLabels));
        }
        _w = weight; _b = bias; _x = trainFeatures; _y = trainLabels;
        _params = _classes * _dim + (bias is null ? 0 : _classes);
        _p = _x.Select(h => ClassifierHead.Softmax(_w, _b, h)).ToArray();
    }

    private HeadInfluence(IExplainableModel model, ClassifierHead head, IReadOnlyList<EncodedExample> train, double[][] features, InfluenceOptions? options)
        : this(head.Weights(), head.BiasValues(), features, train.Select(e => e.Label!.Value).ToArray(), options)
    {
        _model = model; _head = head; _train = train;
    }

    /// <summary>Prepares influence scores for a model's classifier head over a labelled training set.</summary>
    public static HeadInfluence Build(IExplainableModel model, IReadOnlyList<EncodedExample> train, InfluenceOptions? options = null)
    {
        TrainingChecks.Examples(train, "Influence functions");
        var head = ClassifierHead.Of(model);
        foreach (var e in train) TrainingChecks.Label(model, e.Label!.Value, head.Classes, e.Id);
        var features = head.Features(train);
        head.Verify(model, train, features);
        return new HeadInfluence(model, head, train, features, options);
    }

    public int ParameterCount => _params;
    public int TrainCount => _x.Length;

    /// <summary>The Hessian of the damped training objective with respect to the flattened head parameters.</summary>
    public double[,] Hessian()
    {
        var h = new double[_params, _params];
        var xt = new double[_dim + 1];
        int n = _x.Length;
        for (int i = 0; i < n; i++)
        {
            var p = _p[i];
            for (int c1 = 0; c1 < _classes; c1++)
                for (int c2 = 0; c2 < _classes; c2++)
                {
                    double a = ((c1 == c2 ? p[c1] : 0) - p[c1] * p[c2]) / n;
                    if (a == 0) continue;
                    for (int k1 = 0; k1 < Aug; k1++)
                    {
                        int r = Index(c1, k1);
                        double ak = a * X(i, k1);
                        for (int k2 = 0; k2 < Aug; k2++) h[r, Index(c2, k2)] += ak * X(i, k2);
                    }
                }
        }
        for (int j = 0; j < _params; j++) h[j, j] += Options.Damping;
        return h;
    }

    private int Aug => _b is null ? _dim : _dim + 1;
    private int Index(int c, int k) => k < _dim ? c * _dim + k : _classes * _dim + c;
    private double X(int i, int k) => k < _dim ? _x[i][k] : 1.0;

    /// <summary>(H + λI) v for the damped Hessian over the given training rows (null = all).</summary>
    public double[] HessianVectorProduct(double[] v, IReadOnlyList<int>? rows = null)
    {
        if (v.Length != _params) throw new ArgumentException($"The vector has {v.Length} entries; the head has {_params} parameters.", nameof(v));
        var result = new double[_params];
        int count = rows?.Count ?? _x.Length;
        var u = new double[_classes];
        for (int t = 0; t < count; t++)
        {
            int i = rows?[t] ?? t;
            var p = _p[i];
            // u = V h̃_i; w = (diag(p) − p pᵀ) u; result += w ⊗ h̃_i
            for (int c = 0; c < _classes; c++)
            {
                double s = 0;
                for (int k = 0; k < Aug; k++) s += v[Index(c, k)] * X(i, k);
                u[c] = s;
            }
            double pu = 0;
            for (int c = 0; c < _classes; c++) pu += p[c] * u[c];
            for (int c = 0; c < _classes; c++)
            {
                double w = p[c] * (u[c] - pu) / count;
                for (int k = 0; k < Aug; k++) result[Index(c, k)] += w * X(i, k);
            }
        }
        for (int j = 0; j < _params; j++) result[j] += Options.Damping * v[j];
        return result;
    }

    /// <summary>H⁻¹ v with the configured solver.</summary>
    public double[] InverseHvp(double[] v) => Options.Solver == InfluenceSolver.Exact ? SolveExact(v) : SolveLissa(v);

    private double[] SolveExact(double[] v)
    {
        if (v.Length != _params) throw new ArgumentException($"The vector has {v.Length} entries; the head has {_params} parameters.", nameof(v));
        _cholesky ??= Cholesky(Hessian());
        int n = _params;
        var L = _cholesky;
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = v[i];
            for (int k = 0; k < i; k++) s -= L[i, k] * y[k];
            y[i] = s / L[i, i];
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int k = i + 1; k < n; k++) s -= L[k, i] * x[k];
            x[i] = s / L[i, i];
        }
        return x;
    }

    private double[,] Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            double d = a[j, j];
            for (int k = 0; k < j; k++) d -= l[j, k] * l[j, k];
            if (!(d > 1e-12 * Math.Max(1, Math.Abs(a[j, j]))))
                throw new InvalidOperationException($"Influence functions: the head's Hessian is not positive definite (pivot {j} is {d:G3}); the softmax loss is flat along some directions — increase InfluenceOptions.Damping (now {Options.Damping}).");
            l[j, j] = Math.Sqrt(d);
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = s / l[j, j];
            }
        }
        return l;
    }

    /// <summary>The largest eigenvalue of the damped Hessian, by power iteration.</summary>
    public double LargestEigenvalue(int iterations = 100)
    {
        var v = Enumerable.Range(0, _params).Select(i => 1.0 + 0.01 * (i % 7)).ToArray();
        double lambda = 0;
        for (int it = 0; it < iterations; it++)
        {
            double norm = Math.Sqrt(v.Sum(x => x * x));
            for (int i = 0; i < v.Length; i++) v[i] /= norm;
            var hv = HessianVectorProduct(v);
            double next = 0;
            for (int i = 0; i < v.Length; i++) next += v[i] * hv[i];
            v = hv;
            if (Math.Abs(next - lambda) <= 1e-9 * Math.Abs(next)) { lambda = next; break; }
            lambda = next;
        }
        return lambda;
    }

    private double[] SolveLissa(double[] v)
    {
        var o = Options.Lissa;
        if (o.Depth < 1 || o.Repeats < 1 || o.BatchSize is < 1 || o.Scale is <= 0)
            throw new ArgumentOutOfRangeException(nameof(Options), $"LiSSA options: Depth {o.Depth}, Repeats {o.Repeats} and BatchSize {o.BatchSize} must be ≥ 1, Scale {o.Scale} > 0.");
        if (v.Length != _params) throw new ArgumentException($"The vector has {v.Length} entries; the head has {_params} parameters.", nameof(v));
        double scale = o.Scale ?? 1.1 * LargestEigenvalue();
        var rng = new Random(o.Seed);
        var sum = new double[_params];
        int steps = 0;
        for (int r = 0; r < o.Repeats; r++)
        {
            var h = (double[])v.Clone();
            for (int j = 0; j < o.Depth; j++)
            {
                int[]? rows = o.BatchSize is { } bs && bs < _x.Length ? Enumerable.Range(0, bs).Select(_ => rng.Next(_x.Length)).ToArray() : null;
                var hv = HessianVectorProduct(h, rows);
                double diff = 0, norm = 0;
                for (int i = 0; i < _params; i++)
                {
                    double next = v[i] + h[i] - hv[i] / scale;
                    diff += (next - h[i]) * (next - h[i]);
                    norm += next * next;
                    h[i] = next;
                }
                steps++;
                if (!double.IsFinite(norm))
                    throw new InvalidOperationException($"LiSSA diverged at step {j}: the scale {scale:G4} is below the Hessian's largest eigenvalue; raise LissaOptions.Scale.");
                if (rows is null && diff <= o.Tolerance * o.Tolerance * norm) break;
            }
            for (int i = 0; i < _params; i++) sum[i] += h[i] / scale;
        }
        LastLissaSteps = steps;
        for (int i = 0; i < _params; i++) sum[i] /= o.Repeats;
        return sum;
    }

    /// <summary>score(z_j) = ∇L(test)ᵀ H⁻¹ ∇L(z_j) for every training row (positive = helpful).</summary>
    public double[] Scores(double[] testFeatures, int testLabel)
    {
        ArgumentNullException.ThrowIfNull(testFeatures);
        if (testFeatures.Length != _dim) throw new ArgumentException($"The test features have {testFeatures.Length} values; the head reads {_dim}.", nameof(testFeatures));
        if (testLabel < 0 || testLabel >= _classes) throw new ArgumentOutOfRangeException(nameof(testLabel), $"Test label {testLabel} is outside 0..{_classes - 1}.");
        var gTest = ClassifierHead.Gradient(ClassifierHead.Softmax(_w, _b, testFeatures), testFeatures, testLabel, _b is not null);
        var s = InverseHvp(gTest);
        var scores = new double[_x.Length];
        for (int j = 0; j < _x.Length; j++)
        {
            var g = ClassifierHead.Gradient(_p[j], _x[j], _y[j], _b is not null);
            double dot = 0;
            for (int i = 0; i < _params; i++) dot += s[i] * g[i];
            scores[j] = dot;
        }
        return scores;
    }

    /// <summary>The most helpful and harmful training examples for a test example (label: given, else the model's prediction).</summary>
    public TrainingAttribution Explain(EncodedExample test)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (_model is null || _head is null || _train is null)
            throw new InvalidOperationException("Explain needs a HeadInfluence made by Build(model, train); with raw features call Scores(features, label).");
        var h = _head.Features([test])[0];
        int label = test.Label ?? ArgMax(_head.Probabilities(h));
        TrainingChecks.Label(_model, label, _classes, test.Id);
        var scores = Scores(h, label);
        return TrainingAttribution.Rank(Options.Solver == InfluenceSolver.Exact ? "influence-exact" : "influence-lissa", test, label, _train, scores, Options.TopK, new()
        {
            ["damping"] = Options.Damping.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["solver"] = Options.Solver == InfluenceSolver.Exact ? "exact" : "lissa",
            ["parameters"] = $"{_head.WeightName}{(_head.BiasName is null ? "" : ", " + _head.BiasName)}",
            ["score"] = "grad L(test)^T H^-1 grad L(train); positive = helpful",
        });
    }

    internal static int ArgMax(double[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
