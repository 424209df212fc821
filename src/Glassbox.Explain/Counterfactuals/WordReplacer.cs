// LIT's WordReplacer (lit_nlp/components/word_replacer.py): rules "great -> terrible|bad, movie -> film".
// A source that starts and ends with word characters matches as a whole word (\bgreat\b), so
// "great." and "Great!" match but "greatest" does not; a source with punctuation at an edge
// ("." -> ",") matches anywhere. Each match site and each target gives one new text with only
// that site replaced (LIT's behaviour: no combined replacements). With ignoreCase (LIT's
// default) sources are lower-cased and matched case-insensitively; targets are inserted as written.
using System.Text.RegularExpressions;

namespace Glassbox.Explain.Counterfactuals;

/// <summary>Replaces words by rules, one counterfactual per match site and target.</summary>
public sealed class WordReplacer
{
    public const string Name = "word-replacer";

    private readonly Regex? _regex;

    /// <summary>Rules as a source → targets map, in match priority order.</summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Rules { get; }
    public bool IgnoreCase { get; }

    public WordReplacer(IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> rules, bool ignoreCase = true)
    {
        ArgumentNullException.ThrowIfNull(rules);
        IgnoreCase = ignoreCase;
        // Later rules for the same source override earlier ones (a dict in LIT), keeping first position.
        var ordered = new List<string>();
        var map = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (rawSource, targets) in rules)
        {
            if (string.IsNullOrWhiteSpace(rawSource))
                throw new ArgumentException("A word-replacer rule has an empty source; write rules as 'great -> terrible|bad'.", nameof(rules));
            if (targets is null || targets.Count == 0)
                throw new ArgumentException($"The rule for '{rawSource}' has no targets; write 'source -> target1|target2'.", nameof(rules));
            string source = ignoreCase ? rawSource.Trim().ToLowerInvariant() : rawSource.Trim();
            if (!map.ContainsKey(source)) ordered.Add(source);
            map[source] = targets.ToArray();
        }
        Rules = ordered.Select(s => new KeyValuePair<string, IReadOnlyList<string>>(s, map[s])).ToArray();
        if (ordered.Count > 0)
        {
            var parts = ordered.Select(s =>
            {
                string whole = $@"\b{Regex.Escape(s)}\b";
                return Regex.IsMatch(s, whole, RegexOptions.CultureInvariant) ? whole : Regex.Escape(s);
            });
            _regex = new Regex(string.Join("|", parts), RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None));
        }
    }

    /// <summary>Parses LIT's rule syntax: comma-separated "source -> target1|target2". Throws on a
    /// malformed rule (LIT logs and skips it; a silent skip hides typos).</summary>
    public static WordReplacer Parse(string rules, bool ignoreCase = true)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var list = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        foreach (var rule in rules.Split(','))
        {
            if (rule.Trim().Length == 0) continue;
            var segments = Regex.Split(rule, @"\s*->\s*", RegexOptions.CultureInvariant);
            if (segments.Length != 2 || segments[0].Trim().Length == 0 || segments[1].Trim().Length == 0)
                throw new FormatException($"Malformed word-replacer rule '{rule.Trim()}': expected 'source -> target1|target2' (rules separated by commas).");
            var targets = Regex.Split(segments[1], @"\s*\|\s*", RegexOptions.CultureInvariant).Select(t => t.Trim()).ToArray();
            list.Add(new(segments[0], targets));
        }
        if (list.Count == 0) throw new FormatException("No word-replacer rules given; write e.g. 'great -> terrible|bad'.");
        return new WordReplacer(list, ignoreCase);
    }

    /// <summary>One counterfactual per (match site, target), in text order then target order.</summary>
    public IReadOnlyList<Counterfactual> Generate(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(example.Text, nameof(example.Text));
        var output = new List<Counterfactual>();
        if (_regex is null) return output;
        var map = Rules.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        string text = example.Text;
        var parameters = new Dictionary<string, string>
        {
            ["rules"] = string.Join(", ", Rules.Select(r => $"{r.Key} -> {string.Join("|", r.Value)}")),
            ["ignoreCase"] = IgnoreCase ? "true" : "false",
        };
        int site = 0;
        foreach (Match m in _regex.Matches(text))
        {
            string token = IgnoreCase ? m.Value.ToLowerInvariant() : m.Value;
            if (!map.TryGetValue(token, out var targets)) continue; // cannot happen: every alternative is a key
            foreach (var target in targets)
            {
                output.Add(new Counterfactual
                {
                    Id = $"{example.Id}:{Name}:{output.Count}",
                    ParentId = example.Id,
                    Generator = Name,
                    Text = string.Concat(text.AsSpan(0, m.Index), target, text.AsSpan(m.Index + m.Length)),
                    Unit = "char",
                    Edits = [new CounterfactualEdit(m.Index, m.Value, target, m.Index, m.Index + m.Length)],
                    Parameters = new Dictionary<string, string>(parameters) { ["site"] = site.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    Label = example.Label,
                });
            }
            site++;
        }
        return output;
    }
}
