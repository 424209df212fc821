// Hook points, modelled on TransformerLens. Model code passes every named activation through
// Hooks.Apply(name, x); with no hook installed that is one list-count check. Installed hooks are
// scoped: each installer returns an IDisposable that removes it, so hooks exist only inside a
// `using`. Names are fixed across architectures (see docs/ARCHITECTURE.md); patterns use `*` for
// any run of characters, e.g. "blocks.*.attn.hook_pattern".
using System.Text.RegularExpressions;
using Glassbox.Tensors;

namespace Glassbox.Models;

/// <summary>Activations captured during a forward pass, by hook name, in the order they ran.</summary>
public sealed class ActivationCache : IReadOnlyDictionary<string, Tensor>
{
    private readonly Dictionary<string, Tensor> _items = [];
    private readonly List<string> _order = [];

    internal void Set(string name, Tensor t)
    {
        if (!_items.ContainsKey(name)) _order.Add(name);
        _items[name] = t;
    }

    public Tensor this[string key] => _items.TryGetValue(key, out var t) ? t
        : throw new KeyNotFoundException($"ActivationCache: no activation named '{key}' was captured; captured: {string.Join(", ", _order.Take(12))}{(_order.Count > 12 ? ", ..." : "")}.");
    public IEnumerable<string> Keys => _order;
    public IEnumerable<Tensor> Values => _order.Select(k => _items[k]);
    public int Count => _items.Count;
    public bool ContainsKey(string key) => _items.ContainsKey(key);
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => _items.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _order.Select(k => new KeyValuePair<string, Tensor>(k, _items[k])).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

public sealed class HookSet
{
    private sealed class Entry(Regex pattern, Func<string, Tensor, Tensor> fn)
    {
        public readonly Regex Pattern = pattern;
        public readonly Func<string, Tensor, Tensor> Fn = fn;
        public readonly Dictionary<string, bool> Matches = [];
        public bool IsMatch(string name)
        {
            if (!Matches.TryGetValue(name, out bool m)) Matches[name] = m = Pattern.IsMatch(name);
            return m;
        }
    }

    private readonly List<Entry> _entries = [];

    /// <summary>True when any hook is installed.</summary>
    public bool Any => _entries.Count > 0;

    /// <summary>True when an installed hook matches the name (model code uses it to keep a hook
    /// point's full activation when it would otherwise compute only part of it).</summary>
    public bool IsHooked(string name)
    {
        foreach (var e in _entries)
            if (e.IsMatch(name)) return true;
        return false;
    }

    /// <summary>Called by model code at each hook point; returns the (possibly replaced) activation.</summary>
    public Tensor Apply(string name, Tensor x)
    {
        if (_entries.Count == 0) return x;
        foreach (var e in _entries.ToArray())
            if (e.IsMatch(name))
            {
                // A hook may keep what it sees (or returns) beyond the block: release neither.
                TensorScope.Escape(x);
                Tensor y;
                using (TensorScope.Suspend()) y = e.Fn(name, x);
                if (!ShapeUtil.Equal(y.Shape, x.Shape))
                    throw new InvalidOperationException($"Hook at '{name}' returned shape {ShapeUtil.Format(y.Shape)}; the activation has shape {ShapeUtil.Format(x.Shape)}.");
                x = y;
            }
        return x;
    }

    /// <summary>Captures every activation whose name matches. When a tape is recording, captured
    /// activations are watched, so gradients with respect to them can be taken.</summary>
    public IDisposable Capture(string pattern, out ActivationCache cache)
    {
        var c = new ActivationCache();
        cache = c;
        return Install(pattern, (name, x) =>
        {
            Tape.Current?.Watch(x);
            c.Set(name, TensorScope.Escape(x));
            return x;
        });
    }

    /// <summary>Replaces matching activations with fn(name, activation) (same shape).</summary>
    public IDisposable Replace(string pattern, Func<string, Tensor, Tensor> fn) => Install(pattern, fn);

    /// <summary>Zero-ablates matching activations.</summary>
    public IDisposable Zero(string pattern) => Install(pattern, (_, x) => Tensor.Zeros(x.Shape));

    /// <summary>Multiplies matching activations by a factor.</summary>
    public IDisposable Scale(string pattern, float factor) => Install(pattern, (_, x) => Ops.Mul(x, factor));

    /// <summary>Substitutes matching activations with those captured in another run (activation
    /// patching). Shapes must agree; a name missing from the source is an error.</summary>
    public IDisposable PatchFrom(ActivationCache source, string pattern) => Install(pattern, (name, x) =>
    {
        if (!source.TryGetValue(name, out var s))
            throw new InvalidOperationException($"PatchFrom: the source run has no activation '{name}'; capture it there first.");
        return s;
    });

    private IDisposable Install(string pattern, Func<string, Tensor, Tensor> fn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var re = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*") + "$", RegexOptions.CultureInvariant);
        var e = new Entry(re, fn);
        _entries.Add(e);
        return new Remover(this, e);
    }

    private sealed class Remover(HookSet set, Entry entry) : IDisposable
    {
        public void Dispose() => set._entries.Remove(entry);
    }
}
