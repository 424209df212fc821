// LIT's Scrambler (lit_nlp/components/scrambler.py): split the text on single spaces, shuffle the
// words until the order differs from the original, join with single spaces. LIT draws from
// Python's global random state; here the shuffle is a seeded Fisher–Yates (System.Random with a
// fixed seed is stable across .NET versions), so the same seed gives the same scramble. A text
// with no distinct reordering (one word, or all words equal) yields no counterfactual instead of
// LIT's endless loop.
namespace Glassbox.Explain.Counterfactuals;

/// <summary>Shuffles the words of a text (seeded), one or more scrambles per example.</summary>
public sealed class Scrambler(int seed = 0, int count = 1)
{
    public const string Name = "scrambler";

    public int Seed { get; } = seed;
    public int Count { get; } = count >= 1 ? count : throw new ArgumentOutOfRangeException(nameof(count), $"count must be ≥ 1, got {count}.");

    /// <summary>Count scrambles (each differs from the original order; two scrambles may coincide).</summary>
    public IReadOnlyList<Counterfactual> Generate(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(example.Text, nameof(example.Text));
        var words = example.Text.Split(' ');
        var output = new List<Counterfactual>();
        if (words.Distinct(StringComparer.Ordinal).Count() < 2) return output;
        // Per-example stream: the same example and seed always give the same scrambles, whatever else was generated before.
        var rng = new Random(HashCode(example.Id, Seed));
        for (int n = 0; n < Count; n++)
        {
            int[] perm;
            do
            {
                perm = Enumerable.Range(0, words.Length).ToArray();
                for (int i = perm.Length - 1; i > 0; i--)
                {
                    int j = rng.Next(i + 1);
                    (perm[i], perm[j]) = (perm[j], perm[i]);
                }
            } while (Enumerable.Range(0, words.Length).All(i => words[perm[i]] == words[i]));
            var edits = new List<CounterfactualEdit>();
            for (int i = 0; i < words.Length; i++)
                if (words[perm[i]] != words[i]) edits.Add(new CounterfactualEdit(i, words[i], words[perm[i]]));
            output.Add(new Counterfactual
            {
                Id = $"{example.Id}:{Name}:{n}",
                ParentId = example.Id,
                Generator = Name,
                Text = string.Join(' ', perm.Select(p => words[p])),
                Unit = "word",
                Edits = edits,
                Parameters = new Dictionary<string, string>
                {
                    ["seed"] = Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    // Word i of the new text is word permutation[i] of the parent.
                    ["permutation"] = string.Join(' ', perm),
                },
                Label = example.Label,
            });
        }
        return output;
    }

    // A stable (not randomised per process) hash of the id and seed: FNV-1a over UTF-16 units.
    private static int HashCode(string id, int seed)
    {
        uint h = 2166136261u ^ (uint)seed;
        foreach (char c in id) { h ^= c; h *= 16777619u; }
        return (int)(h & 0x7fffffff);
    }
}
