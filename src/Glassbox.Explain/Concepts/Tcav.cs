// TCAV (Kim et al. 2018, "Interpretability Beyond Feature Attribution"), as LIT runs it.
//
// A concept is a set of examples. At a hook point (CLS or mean-pooled), a logistic regression
// separates the concept's activations from a random set's; its weight vector, normalised, is the
// concept activation vector (CAV) v. For an example x of the explained class k, the directional
// derivative S(x) = ∇ₕ logit_k(h(x)) · v says whether moving the representation toward the concept
// raises the class's logit; the TCAV score is the fraction of examples with S > 0.
//
// One CAV could separate the concept from one random set by chance, so the procedure is repeated
// against `Runs` different random sets, and as many random-vs-random CAVs give the null distribution
// of scores: each null run pairs a fresh random "concept" of the concept's size with a fresh random set
// (independent pairs, as LIT draws them). A two-sided Student t-test (scipy.stats.ttest_ind, equal
// variances) between the concept's scores and the random ones gives the score p-value, as in Kim et al.
// and LIT.
//
// That test alone calls a fixed set of random examples "significant" far more often than Alpha: the
// concept's runs share one set, so its CAVs all lean the same way (toward that set's own sampling noise),
// while each null run has a new random set; the t-test takes the runs for independent samples of the
// concept and rejects. Measured on a trained model, 17 of 30 random concepts passed it. So, by default,
// a concept must also be *learned* at the layer: its CAVs' mean held-out accuracy (what Kim et al. and LIT
// report as the CAV's accuracy) must exceed that of random concepts of its size, tested with the concept
// as one observation against the null runs (each its own random concept), so the test is valid for a
// fixed set. The reported p-value is the larger of the two (an intersection-union test: significant
// only when both reject).
// Everything random is drawn from one seeded generator, so a seed reproduces every number.
//
// Pooling and the derivative agree: with CLS pooling v is added to the first position's activation;
// with mean pooling v is added to every position (the mean moves by v), so S sums the positions' gradients.
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Concepts;

/// <summary>How a hook point's [sequence, width] activation becomes one vector.</summary>
public enum Pooling
{
    /// <summary>The first position (the [CLS] token).</summary>
    Cls,
    /// <summary>The mean over non-padding positions.</summary>
    Mean,
}

/// <summary>TCAV settings.</summary>
public sealed record TcavOptions
{
    /// <summary>Hook point whose activation is used (e.g. <c>blocks.1.hook_resid_post</c>).</summary>
    public required string Layer { get; init; }
    /// <summary>CLS or mean pooling (default CLS).</summary>
    public Pooling Pooling { get; init; } = Pooling.Cls;
    /// <summary>Concept-vs-random runs, and as many random-vs-random runs (default 20). On a sharp model every class
    /// example's gradient points the same way, so each run scores 0 or 1 and the null is a coin toss; with 10 runs a
    /// perfect concept then misses p &lt; 0.05 whenever 7 of the 10 null runs land on 1 (17% of seeds), with 20 runs in 0.1%.</summary>
    public int Runs { get; init; } = 20;
    /// <summary>Examples per random set (default: as many as the concept has).</summary>
    public int? RandomSetSize { get; init; }
    /// <summary>Significance level of the t-test (default 0.05).</summary>
    public double Alpha { get; init; } = 0.05;
    /// <summary>Seed for the random sets and the held-out split.</summary>
    public int Seed { get; init; }
    /// <summary>Inverse L2 strength of the logistic regression, as sklearn's C (default 1).</summary>
    public double C { get; init; } = 1.0;
    /// <summary>Share of each CAV's training examples held out to measure its accuracy (default 0.33).</summary>
    public double TestFraction { get; init; } = 0.33;
    /// <summary>Fewest concept examples accepted (default 10).</summary>
    public int MinConceptExamples { get; init; } = 10;
    /// <summary>When true (default), a concept is significant only if its CAVs are also more accurate on held-out examples
    /// than random-vs-random CAVs (one-sided t-test at <see cref="Alpha"/>), i.e. the layer represents the concept; the
    /// reported p-value is then the larger of the score and accuracy p-values. False gives Kim et al.'s and LIT's score
    /// t-test alone, which also passes for a fixed set of random examples far more often than <see cref="Alpha"/>.</summary>
    public bool RequireLearnedConcept { get; init; } = true;
}

/// <summary>The TCAV result for one concept, class and layer.</summary>
/// <param name="Concept">The concept's name.</param>
/// <param name="Layer">The hook point.</param>
/// <param name="ClassName">The explained class.</param>
/// <param name="ClassIndex">Its index.</param>
/// <param name="Score">Mean TCAV score over the concept-vs-random runs (fraction of examples whose directional derivative is positive).</param>
/// <param name="ScoreStd">Standard deviation of those scores.</param>
/// <param name="RunScores">The score of each concept-vs-random run.</param>
/// <param name="RandomScores">The score of each random-vs-random run (the null distribution).</param>
/// <param name="PValue">The significance p-value: <see cref="ScorePValue"/>, or with <see cref="TcavOptions.RequireLearnedConcept"/>
/// the larger of <see cref="ScorePValue"/> and <see cref="CavPValue"/>.</param>
/// <param name="Significant">PValue &lt; Alpha.</param>
/// <param name="CavAccuracy">Mean held-out accuracy of the concept CAVs.</param>
/// <param name="ConceptExamples">Concept examples used.</param>
/// <param name="ClassExamples">Examples whose directional derivatives were counted.</param>
public sealed record TcavResult(string Concept, string Layer, string ClassName, int ClassIndex, double Score, double ScoreStd,
    double[] RunScores, double[] RandomScores, double PValue, bool Significant, double CavAccuracy, int ConceptExamples, int ClassExamples)
{
    /// <summary>Two-sided Student t-test p-value of <see cref="TcavResult.RunScores"/> against <see cref="TcavResult.RandomScores"/> (Kim et al.'s test).</summary>
    public double ScorePValue { get; init; } = double.NaN;
    /// <summary>One-sided p-value that the concept is more linearly separable from random examples than a random concept of its size:
    /// the concept CAVs' mean held-out accuracy against the random-vs-random CAVs' accuracies (one per random concept), by the
    /// single-case t-test (<see cref="Statistics.SingleCaseTTest"/>).</summary>
    public double CavPValue { get; init; } = double.NaN;
    /// <summary>Held-out accuracy of each concept CAV (one per run).</summary>
    public double[] RunCavAccuracies { get; init; } = [];
    /// <summary>Held-out accuracy of each random-vs-random CAV (one per run).</summary>
    public double[] RandomCavAccuracies { get; init; } = [];
    /// <summary>Mean of <see cref="RandomCavAccuracies"/>: what a CAV of no concept reaches (about 0.5).</summary>
    public double RandomCavAccuracy => RandomCavAccuracies.Length == 0 ? double.NaN : RandomCavAccuracies.Average();
}

/// <summary>Concept activation vectors and TCAV scores for a text classifier.</summary>
public sealed class Tcav
{
    private readonly TransformerModel _model;
    private readonly Tokenizer _tokenizer;
    private readonly TransformerExplainable _logits;

    /// <summary>The classifier's labels.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>TCAV for <paramref name="model"/> (a sequence classifier) with <paramref name="labels"/> as its classes.</summary>
    public Tcav(TransformerModel model, Tokenizer tokenizer, IReadOnlyList<string> labels)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Labels = labels ?? throw new ArgumentNullException(nameof(labels));
        // Kim et al. differentiate the class logit, not its probability.
        _logits = new TransformerExplainable(model, "tcav", labels, OutputTransform.None);
    }

    /// <summary>The index of <paramref name="className"/>, or an error listing the labels.</summary>
    public int ClassIndex(string className)
    {
        for (int i = 0; i < Labels.Count; i++) if (Labels[i] == className) return i;
        throw new ArgumentException($"Unknown class '{className}'; this model's classes are: {string.Join(", ", Labels)}.", nameof(className));
    }

    /// <summary>Every hook point name of the model, in forward order.</summary>
    public IReadOnlyList<string> HookPoints()
    {
        using var _ = Tape.NoGrad();
        ActivationCache all;
        using (_model.Hooks.Capture("*", out all)) _model.Forward(Encode("a"));
        return all.Keys.ToList();
    }

    /// <summary>Throws, listing the valid names, when <paramref name="layer"/> is not a hook point of the model.</summary>
    public void CheckLayer(string layer)
    {
        var names = HookPoints();
        if (!names.Contains(layer))
            throw new ArgumentException($"'{layer}' is not a hook point of this model; valid ones are: {string.Join(", ", names)}.", nameof(layer));
    }

    /// <summary>Pooled activations [examples][width] of <paramref name="texts"/> at <paramref name="layer"/>.</summary>
    public double[][] Activations(IReadOnlyList<string> texts, string layer, Pooling pooling)
    {
        var result = new double[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            using var _ = Tape.NoGrad();
            ActivationCache cache;
            using (_model.Hooks.Capture(layer, out cache)) _model.Forward(Encode(texts[i]));
            if (!cache.TryGetValue(layer, out var x)) { CheckLayer(layer); throw new InvalidOperationException($"'{layer}' was not captured."); }
            result[i] = Pool(x.ToArray(), x.Shape, pooling);
        }
        return result;
    }

    /// <summary>The directional derivative ∇ₕ logit_k · v of one text at the layer (v of the layer's width).</summary>
    public double DirectionalDerivative(string text, double[] cav, int classIndex, string layer, Pooling pooling)
    {
        var (_, gradient, shape, _) = GradientMethods.LayerGradient(_logits, Encode(text), classIndex, layer);
        return Directional(gradient, shape, cav, pooling);
    }

    /// <summary>logit_k with <paramref name="epsilon"/>·v added to the layer's activation as the pooling defines (for finite-difference checks).</summary>
    public double LogitAlong(string text, double[] cav, int classIndex, string layer, Pooling pooling, double epsilon)
    {
        using var _ = Tape.NoGrad();
        Tensor scores;
        using (_model.Hooks.Replace(layer, (_, x) =>
        {
            var data = x.ToArray();
            int width = x.Shape[^1], positions = data.Length / width;
            for (int p = 0; p < (pooling == Pooling.Cls ? 1 : positions); p++)
                for (int j = 0; j < width; j++) data[p * width + j] += (float)(epsilon * cav[j]);
            return Tensor.FromArray(data, x.Shape);
        }))
            scores = _logits.Predict(Encode(text));
        return scores.Span[classIndex];
    }

    /// <summary>Runs TCAV: <paramref name="concept"/> examples against random sets drawn from <paramref name="randomPool"/>,
    /// scored on <paramref name="classExamples"/> for class <paramref name="classIndex"/>.</summary>
    public TcavResult Run(string conceptName, IReadOnlyList<string> concept, IReadOnlyList<string> randomPool,
        IReadOnlyList<string> classExamples, int classIndex, TcavOptions options)
    {
        ArgumentNullException.ThrowIfNull(concept);
        ArgumentNullException.ThrowIfNull(randomPool);
        ArgumentNullException.ThrowIfNull(classExamples);
        ArgumentNullException.ThrowIfNull(options);
        if (classIndex < 0 || classIndex >= Labels.Count)
            throw new ArgumentOutOfRangeException(nameof(classIndex), $"Class index {classIndex} is out of range; this model's classes are: {string.Join(", ", Labels)}.");
        if (concept.Count < options.MinConceptExamples)
            throw new ArgumentException($"The concept '{conceptName}' has {concept.Count} examples; TCAV needs at least {options.MinConceptExamples} for a CAV worth testing.", nameof(concept));
        if (options.Runs < 2)
            throw new ArgumentException($"TCAV needs at least 2 runs for its t-test, not {options.Runs}.", nameof(options));
        if (classExamples.Count == 0)
            throw new ArgumentException("TCAV needs examples to score the class on; none were given.", nameof(classExamples));
        int setSize = options.RandomSetSize ?? concept.Count;
        var conceptSet = new HashSet<string>(concept, StringComparer.Ordinal);
        var pool = randomPool.Where(t => !conceptSet.Contains(t)).Distinct(StringComparer.Ordinal).ToList();
        if (pool.Count < setSize)
            throw new ArgumentException($"The random pool has {pool.Count} examples outside the concept; TCAV needs at least {setSize} (one random set).", nameof(randomPool));
        CheckLayer(options.Layer);

        var rng = new Random(options.Seed);
        var conceptActs = Activations(concept, options.Layer, options.Pooling);
        var randomSets = Enumerable.Range(0, options.Runs).Select(_ => Sample(pool, setSize, rng)).ToArray();
        // The null: independent pairs of a random "concept" of the concept's size and a random set, disjoint when the pool allows.
        var nullPairs = Enumerable.Range(0, options.Runs).Select(_ => NullPair(pool, concept.Count, setSize, rng)).ToArray();
        var cache = new Dictionary<string, double[]>(StringComparer.Ordinal);
        double[][] Acts(List<string> texts) => texts.Select(t => cache.TryGetValue(t, out var a) ? a : cache[t] = Activations([t], options.Layer, options.Pooling)[0]).ToArray();

        // Gradients of the class logit are independent of the CAV: compute them once.
        var gradients = ClassGradients(classExamples, classIndex, options);
        var runScores = new double[options.Runs];
        var runAccuracies = new double[options.Runs];
        for (int r = 0; r < options.Runs; r++)
        {
            var (cav, acc) = TrainCav(conceptActs, Acts(randomSets[r]), options, rng);
            runScores[r] = Score(gradients, cav, options.Pooling);
            runAccuracies[r] = acc;
        }
        var (randomScores, randomAccuracies) = NullRuns(nullPairs.Select(p => (Acts(p.Item1), Acts(p.Item2))).ToArray(), gradients, options, rng);
        int nullRows = nullPairs[0].Positive.Count + nullPairs[0].Negative.Count;
        return Result(conceptName, concept.Count, classExamples.Count, classIndex, runScores, runAccuracies, randomScores, randomAccuracies, nullRows, options);
    }

    /// <summary>Relative TCAV: the CAV separates concept A (positive) from concept B instead of from random sets;
    /// runs differ by the held-out split and by a random four fifths of each concept; the null is random-vs-random as in <see cref="Run"/>.</summary>
    public TcavResult RunRelative(string nameA, IReadOnlyList<string> conceptA, string nameB, IReadOnlyList<string> conceptB,
        IReadOnlyList<string> randomPool, IReadOnlyList<string> classExamples, int classIndex, TcavOptions options)
    {
        ArgumentNullException.ThrowIfNull(conceptA);
        ArgumentNullException.ThrowIfNull(conceptB);
        if (conceptB.Count < options.MinConceptExamples)
            throw new ArgumentException($"The concept '{nameB}' has {conceptB.Count} examples; TCAV needs at least {options.MinConceptExamples}.", nameof(conceptB));
        var absolute = Run(nameA, conceptA, randomPool, classExamples, classIndex, options); // validates and gives the null distribution
        var rng = new Random(options.Seed + 7919);
        var a = Activations(conceptA, options.Layer, options.Pooling);
        var b = Activations(conceptB, options.Layer, options.Pooling);
        var gradients = ClassGradients(classExamples, classIndex, options);
        var scores = new double[options.Runs];
        var accuracies = new double[options.Runs];
        for (int r = 0; r < options.Runs; r++)
        {
            var (cav, acc) = TrainCav(Subsample(a, rng), Subsample(b, rng), options, rng);
            scores[r] = Score(gradients, cav, options.Pooling);
            accuracies[r] = acc;
        }
        return Result($"{nameA} vs {nameB}", conceptA.Count, classExamples.Count, classIndex, scores, accuracies, absolute.RandomScores, absolute.RandomCavAccuracies,
            absolute.ConceptExamples + (options.RandomSetSize ?? absolute.ConceptExamples), options);
    }

    private (float[] G, int[] Shape)[] ClassGradients(IReadOnlyList<string> classExamples, int classIndex, TcavOptions options) =>
        classExamples.Select(t =>
        {
            var (_, g, shape, _) = GradientMethods.LayerGradient(_logits, Encode(t), classIndex, options.Layer);
            return (g, shape);
        }).ToArray();

    private static double Score((float[] G, int[] Shape)[] gradients, double[] cav, Pooling pooling) =>
        gradients.Count(x => Directional(x.G, x.Shape, cav, pooling) > 0) / (double)gradients.Length;

    private static (double[] Scores, double[] Accuracies) NullRuns((double[][] Positive, double[][] Negative)[] pairs, (float[] G, int[] Shape)[] gradients, TcavOptions options, Random rng)
    {
        var scores = new double[pairs.Length];
        var accuracies = new double[pairs.Length];
        for (int r = 0; r < pairs.Length; r++)
        {
            var (cav, acc) = TrainCav(pairs[r].Positive, pairs[r].Negative, options, rng);
            scores[r] = Score(gradients, cav, options.Pooling);
            accuracies[r] = acc;
        }
        return (scores, accuracies);
    }

    private TcavResult Result(string name, int conceptExamples, int classExamples, int classIndex, double[] runScores, double[] runAccuracies,
        double[] randomScores, double[] randomAccuracies, int nullRows, TcavOptions options)
    {
        double scoreP = Statistics.StudentTTestPValue(runScores, randomScores);
        // The concept is one set, so its mean accuracy is one observation; each null run is a different random concept.
        // One-sided: only a concept CAV *more* accurate than random ones says the layer represents the concept. The null's
        // spread is floored at the binomial variance of an accuracy on the held-out rows: where the activations barely vary,
        // every random CAV predicts one class and scores the same fraction, and a zero spread would make any hair's
        // difference "significant".
        double meanNull = randomAccuracies.Average();
        double binomial = meanNull * (1 - meanNull) / HeldOutRows(nullRows, options.TestFraction);
        var (t, twoSided) = Statistics.SingleCaseTTest(runAccuracies.Average(), randomAccuracies, binomial);
        double cavP = t > 0 ? twoSided / 2 : 1 - twoSided / 2;
        double p = options.RequireLearnedConcept ? Math.Max(scoreP, cavP) : scoreP;
        return new TcavResult(name, options.Layer, Labels[classIndex], classIndex, runScores.Average(), Statistics.StandardDeviation(runScores),
            runScores, randomScores, p, p < options.Alpha, runAccuracies.Average(), conceptExamples, classExamples)
        {
            ScorePValue = scoreP,
            CavPValue = cavP,
            RunCavAccuracies = runAccuracies,
            RandomCavAccuracies = randomAccuracies,
        };
    }

    /// <summary>Trains a CAV: L2-regularised logistic regression (positive = <paramref name="positive"/>), fitted on a
    /// seeded split stratified by side (as LIT's train_test_split(stratify=y)); returns the unit weight vector and its held-out accuracy.</summary>
    public static (double[] Cav, double Accuracy) TrainCav(double[][] positive, double[][] negative, TcavOptions options, Random rng)
    {
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(negative);
        ArgumentNullException.ThrowIfNull(options);
        var x = positive.Concat(negative).ToArray();
        var y = positive.Select(_ => 1.0).Concat(negative.Select(_ => 0.0)).ToArray();
        var pos = Enumerable.Range(0, positive.Length).OrderBy(_ => rng.Next()).ToArray();
        var neg = Enumerable.Range(positive.Length, negative.Length).OrderBy(_ => rng.Next()).ToArray();
        // sklearn's train_test_split: ceil(n·fraction) rows held out, shared between the sides in proportion (each side keeps a training row).
        int test = (int)Math.Ceiling(x.Length * options.TestFraction - 1e-9);
        int testPos = Math.Clamp((int)Math.Round(test * (double)pos.Length / x.Length, MidpointRounding.AwayFromZero), 0, Math.Max(0, pos.Length - 1));
        int testNeg = Math.Clamp(test - testPos, 0, Math.Max(0, neg.Length - 1));
        var trainIdx = pos.Skip(testPos).Concat(neg.Skip(testNeg)).ToArray();
        var testIdx = pos.Take(testPos).Concat(neg.Take(testNeg)).ToArray();
        var (w, b) = LogisticRegression.Fit(trainIdx.Select(i => x[i]).ToArray(), trainIdx.Select(i => y[i]).ToArray(), options.C);
        var evalIdx = testIdx.Length > 0 ? testIdx : trainIdx;
        double accuracy = evalIdx.Count(i => (LogisticRegression.Decision(w, b, x[i]) > 0) == (y[i] > 0.5)) / (double)evalIdx.Length;
        double norm = Math.Sqrt(w.Sum(v => v * v));
        return (norm == 0 ? w : w.Select(v => v / norm).ToArray(), accuracy);
    }

    // Rows TrainCav holds out of `rows` (at least one, for the variance floor).
    private static int HeldOutRows(int rows, double testFraction) => Math.Max(1, (int)Math.Ceiling(rows * testFraction - 1e-9));

    private ModelInput Encode(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("TCAV examples must not be empty.");
        return ModelInput.Single(_tokenizer.Encode(text).Ids.ToArray());
    }

    private static double[] Pool(float[] data, int[] shape, Pooling pooling)
    {
        int width = shape[^1], positions = data.Length / width;
        var v = new double[width];
        if (pooling == Pooling.Cls) { for (int j = 0; j < width; j++) v[j] = data[j]; return v; }
        for (int p = 0; p < positions; p++)
            for (int j = 0; j < width; j++) v[j] += data[p * width + j];
        for (int j = 0; j < width; j++) v[j] /= positions;
        return v;
    }

    private static double Directional(float[] gradient, int[] shape, double[] cav, Pooling pooling)
    {
        int width = shape[^1], positions = gradient.Length / width;
        if (cav.Length != width)
            throw new ArgumentException($"The CAV has {cav.Length} values but the layer is {width} wide.", nameof(cav));
        double s = 0;
        for (int p = 0; p < (pooling == Pooling.Cls ? 1 : positions); p++)
            for (int j = 0; j < width; j++) s += gradient[p * width + j] * cav[j];
        return s;
    }

    private static List<string> Sample(List<string> pool, int n, Random rng) =>
        pool.OrderBy(_ => rng.Next()).Take(n).ToList();

    private static (List<string> Positive, List<string> Negative) NullPair(List<string> pool, int conceptSize, int setSize, Random rng)
    {
        if (pool.Count >= conceptSize + setSize)
        {
            var both = Sample(pool, conceptSize + setSize, rng);
            return (both.Take(conceptSize).ToList(), both.Skip(conceptSize).ToList());
        }
        return (Sample(pool, Math.Min(conceptSize, pool.Count), rng), Sample(pool, setSize, rng));
    }

    // Four fifths of the rows without replacement: runs differ, and no example sits on both sides of the held-out split
    // (a bootstrap's duplicates would, inflating the accuracy the significance test relies on).
    private static double[][] Subsample(double[][] rows, Random rng) =>
        rows.OrderBy(_ => rng.Next()).Take(Math.Max(2, (int)Math.Ceiling(rows.Length * 0.8))).ToArray();
}
