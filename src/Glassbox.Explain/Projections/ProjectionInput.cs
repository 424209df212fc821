// Checks shared by the projections: a rectangular, finite [n, d] matrix with enough rows.
namespace Glassbox.Explain.Projections;

internal static class ProjectionInput
{
    public static (int N, int D) Check(string method, double[][] data, int minRows)
    {
        ArgumentNullException.ThrowIfNull(data);
        int n = data.Length;
        if (n < minRows)
            throw new ArgumentException($"{method}: {n} row(s) given; it needs at least {minRows}.");
        int d = data[0]?.Length ?? throw new ArgumentException($"{method}: row 0 is null.");
        if (d == 0) throw new ArgumentException($"{method}: rows have no columns; give an [n, d] matrix with d ≥ 1.");
        for (int i = 0; i < n; i++)
        {
            var row = data[i] ?? throw new ArgumentException($"{method}: row {i} is null.");
            if (row.Length != d)
                throw new ArgumentException($"{method}: row {i} has {row.Length} columns but row 0 has {d}; the matrix must be rectangular [n, d].");
            for (int j = 0; j < d; j++)
                if (!double.IsFinite(row[j]))
                    throw new ArgumentException($"{method}: value [{i}, {j}] is {row[j]}; every value must be finite (check the model's activations or drop that row).");
        }
        return (n, d);
    }

    public static void Dimensions(string method, int components)
    {
        if (components is not (2 or 3))
            throw new ArgumentOutOfRangeException(nameof(components), $"{method}: {components} output dimensions asked for; projections are 2-D or 3-D.");
    }

    /// <summary>Standard normal samples from a seeded System.Random (Box–Muller), for reproducible noise.</summary>
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
