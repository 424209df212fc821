// Matching a checkpoint's tensor names to the parameters an architecture expects, the way
// from_pretrained does: checkpoint names may be renamed (key-rename rules, e.g. for checkpoints
// saved by a different transformers version), a base-model prefix such as "bert." may be added
// or dropped (base checkpoint into a head model and back), and tied parameters (an LM head that
// shares the embedding matrix) are filled from their source when the file stores them once.
// Strict by default: one exception lists every missing, unexpected and mis-shaped tensor.
using System.Text;
using System.Text.RegularExpressions;
using Glassbox.Tensors;

namespace Glassbox.Models.Checkpoints;

public sealed class BindingOptions
{
    /// <summary>Throw <see cref="WeightBindingException"/> unless the report is clean (default). When false, the report is returned instead.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Rewrites applied in order to every checkpoint name before matching (regex → replacement).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Renames { get; init; } = [];

    /// <summary>Base-model prefix (e.g. "bert.", "distilbert.", "transformer.") that may be added to or dropped from checkpoint names to match.</summary>
    public string? BasePrefix { get; init; }

    /// <summary>Tied parameters: expected name → expected name it shares storage with. Used when the checkpoint lacks the first.</summary>
    public IReadOnlyDictionary<string, string> Tied { get; init; } = new Dictionary<string, string>();

    /// <summary>Checkpoint names matching any of these regexes are dropped silently (buffers such as position_ids).</summary>
    public IReadOnlyList<string> IgnoreUnexpected { get; init; } = DefaultIgnoredUnexpected;

    /// <summary>Expected names matching any of these regexes may be absent without error (they stay unbound).</summary>
    public IReadOnlyList<string> IgnoreMissing { get; init; } = [];

    /// <summary>Non-parameter buffers that old checkpoints carry and transformers ignores on load.</summary>
    public static readonly IReadOnlyList<string> DefaultIgnoredUnexpected =
    [
        @"(^|\.)position_ids$",
        @"(^|\.)attn\.(masked_)?bias$",        // GPT-2 causal-mask buffers
        @"(^|\.)attention\.(masked_)?bias$",   // GPT-NeoX causal-mask buffers
        @"(^|\.)rotary_emb\.inv_freq$",
    ];
}

public sealed record ShapeMismatch(string Name, string CheckpointName, int[] Expected, int[] Found)
{
    public override string ToString() =>
        $"{Name}: expected [{string.Join(", ", Expected)}], checkpoint '{CheckpointName}' has [{string.Join(", ", Found)}]";
}

/// <summary>The outcome of matching a checkpoint to expected parameters.</summary>
public sealed record BindingReport(
    IReadOnlyDictionary<string, string> Sources,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<ShapeMismatch> Mismatched,
    IReadOnlyList<string> NonFloat,
    IReadOnlyDictionary<string, string> TiedFrom,
    IReadOnlyList<string> Ignored)
{
    /// <summary>True when every expected parameter is bound with the right shape and nothing is left over.</summary>
    public bool IsClean => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0 && NonFloat.Count == 0;

    public string Describe(string file)
    {
        var sb = new StringBuilder($"{file}: checkpoint does not match the model");
        if (Missing.Count > 0) sb.Append($"\n  missing ({Missing.Count}): ").AppendJoin(", ", Missing);
        if (Unexpected.Count > 0) sb.Append($"\n  unexpected ({Unexpected.Count}): ").AppendJoin(", ", Unexpected);
        if (Mismatched.Count > 0) sb.Append($"\n  wrong shape ({Mismatched.Count}): ").AppendJoin("; ", Mismatched);
        if (NonFloat.Count > 0) sb.Append($"\n  not floating-point ({NonFloat.Count}): ").AppendJoin(", ", NonFloat);
        return sb.ToString();
    }
}

public sealed class WeightBindingException(BindingReport report, string file) : Exception(report.Describe(file))
{
    public BindingReport Report { get; } = report;
}

/// <summary>Bound parameters (expected name → float32 tensor) and the report. Tied parameters share one Tensor instance.</summary>
public sealed class BoundWeights(Dictionary<string, Tensor> tensors, BindingReport report) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;
    public BindingReport Report { get; } = report;

    public Tensor this[string name] => Tensors[name];

    public void Dispose()
    {
        foreach (var t in Tensors.Values.Distinct()) t.Dispose();
    }
}

public static class WeightBinder
{
    /// <summary>Matches names and shapes without reading any tensor data.</summary>
    public static BindingReport Plan(IReadOnlyDictionary<string, int[]> expected, Checkpoint checkpoint, BindingOptions? options = null)
    {
        options ??= new BindingOptions();
        var renames = options.Renames.Select(kv => (new Regex(kv.Key, RegexOptions.CultureInvariant), kv.Value)).ToList();
        var ignoreUnexpected = options.IgnoreUnexpected.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();
        var ignoreMissing = options.IgnoreMissing.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();
        string? prefix = options.BasePrefix;

        var sources = new Dictionary<string, string>(StringComparer.Ordinal);   // expected → checkpoint name
        var unexpected = new List<string>();
        var ignored = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var nonFloat = new List<string>();
        foreach (var ckptName in checkpoint.Names)
        {
            string name = ckptName;
            foreach (var (rx, rep) in renames) name = rx.Replace(name, rep);
            string? target = null;
            if (expected.ContainsKey(name)) target = name;
            else if (prefix is not null && expected.ContainsKey(prefix + name)) target = prefix + name;
            else if (prefix is not null && name.StartsWith(prefix, StringComparison.Ordinal) && expected.ContainsKey(name[prefix.Length..])) target = name[prefix.Length..];
            if (target is null || sources.ContainsKey(target))
            {
                if (ignoreUnexpected.Any(r => r.IsMatch(ckptName) || r.IsMatch(name))) ignored.Add(ckptName);
                else unexpected.Add(ckptName);
                continue;
            }
            var info = checkpoint.GetInfo(ckptName);
            if (!info.DType.IsFloat()) { nonFloat.Add(ckptName); continue; }
            if (!info.Shape.AsSpan().SequenceEqual(expected[target]))
            {
                mismatched.Add(new ShapeMismatch(target, ckptName, expected[target], info.Shape));
                continue;
            }
            sources[target] = ckptName;
        }

        var tiedFrom = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (target, source) in options.Tied)
        {
            if (!expected.ContainsKey(target) || sources.ContainsKey(target)) continue;
            if (!sources.TryGetValue(source, out var ckptSource)) continue;
            if (!expected[target].AsSpan().SequenceEqual(expected[source]))
            {
                mismatched.Add(new ShapeMismatch(target, ckptSource, expected[target], expected[source]));
                continue;
            }
            tiedFrom[target] = source;
        }

        var missing = expected.Keys
            .Where(k => !sources.ContainsKey(k) && !tiedFrom.ContainsKey(k) && !mismatched.Any(m => m.Name == k))
            .Where(k => !ignoreMissing.Any(r => r.IsMatch(k)))
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        return new BindingReport(sources, missing, unexpected, mismatched, nonFloat, tiedFrom, ignored);
    }

    /// <summary>
    /// Loads every expected parameter as float32. Strict mode (default) throws one
    /// <see cref="WeightBindingException"/> listing all problems; lenient mode binds what it can
    /// and returns the report.
    /// </summary>
    public static BoundWeights Bind(IReadOnlyDictionary<string, int[]> expected, Checkpoint checkpoint, BindingOptions? options = null)
    {
        options ??= new BindingOptions();
        var report = Plan(expected, checkpoint, options);
        if (options.Strict && !report.IsClean) throw new WeightBindingException(report, checkpoint.FilePath);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (target, ckptName) in report.Sources) tensors[target] = checkpoint.ToTensor(ckptName);
        foreach (var (target, source) in report.TiedFrom) tensors[target] = tensors[source];
        return new BoundWeights(tensors, report);
    }
}
