// Deterministic random numbers for training: parameter initialisation, shuffling and dropout
// masks. SplitMix64 is small, fast and fully specified, so a seed gives the same numbers on every
// machine and .NET version (System.Random's algorithm is an implementation detail). Streams are
// derived from (seed, purpose) with a stable string hash, never string.GetHashCode, which .NET
// randomises per process.
namespace Glassbox.Models.Training;

/// <summary>A seeded SplitMix64 generator with uniform and normal samples.</summary>
public sealed class TrainingRandom
{
    private ulong _state;
    private double? _spare;

    /// <summary>A generator for <paramref name="seed"/> and a named purpose ("init:bert.embeddings...", "shuffle", "dropout").</summary>
    public TrainingRandom(long seed, string purpose = "")
    {
        _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ StableHash(purpose);
        NextUInt64();
    }

    /// <summary>FNV-1a 64 of the UTF-16 code units: the same value in every process.</summary>
    public static ulong StableHash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits (enough for dropout masks, and cheaper).</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform integer in [0, n) without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"NextInt: n must be positive, got {n}.");
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % (ulong)n);
    }

    /// <summary>Standard normal sample (Box–Muller, both values used).</summary>
    public double NextNormal()
    {
        if (_spare is { } s) { _spare = null; return s; }
        double u1, u2;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        u2 = NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1)), theta = 2 * Math.PI * u2;
        _spare = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
