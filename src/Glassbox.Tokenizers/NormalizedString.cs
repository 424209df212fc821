// A string under normalisation that remembers, for every UTF-16 code unit of the normalised text,
// which span of the original text it came from. This mirrors Rust's NormalizedString, which keeps
// the same information per UTF-8 byte; every transformation here is expressed, as in Rust, as a
// sequence of (character, change) pairs where change 0 replaces a character, +1 inserts one and
// -n replaces one and removes n following characters. Both surrogates of a non-BMP character
// always share one alignment, so UTF-16 units play the role Rust's bytes play.

using System.Text;
using Glassbox.Tokenizers.Unicode;

namespace Glassbox.Tokenizers;

/// <summary>How a split pattern's matches are kept.</summary>
public enum SplitDelimiterBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

internal sealed class NormalizedString
{
    private string _normalized;
    // Alignment of normalized unit i: [AS(i), AE(i)) in Original. A slice shares its parent's
    // arrays through an index offset and a value delta until it is transformed.
    private int[] _alignStart;
    private int[] _alignEnd;
    private int _aOff, _aDelta;

    private int AS(int i) => _alignStart[_aOff + i] - _aDelta;
    private int AE(int i) => _alignEnd[_aOff + i] - _aDelta;

    // Original is a range of the root text, materialised only when asked for.
    private readonly string _root;
    private readonly int _rootStart;
    private string? _original;

    public int OriginalLength { get; }
    public string Original => _original ??= _rootStart == 0 && OriginalLength == _root.Length ? _root : _root.Substring(_rootStart, OriginalLength);
    public int OriginalShift { get; }

    public NormalizedString(string original)
    {
        _root = original;
        OriginalLength = original.Length;
        _normalized = original;
        _alignStart = new int[original.Length];
        _alignEnd = new int[original.Length];
        for (int i = 0; i < original.Length; i++)
        {
            if (char.IsHighSurrogate(original[i]) && i + 1 < original.Length && char.IsLowSurrogate(original[i + 1]))
            {
                _alignStart[i] = _alignStart[i + 1] = i;
                _alignEnd[i] = _alignEnd[i + 1] = i + 2;
                i++;
            }
            else
            {
                _alignStart[i] = i;
                _alignEnd[i] = i + 1;
            }
        }
    }

    private NormalizedString(string root, int rootStart, int originalLength, string normalized, int[] start, int[] end, int aOff, int aDelta, int shift)
    {
        _root = root;
        _rootStart = rootStart;
        OriginalLength = originalLength;
        _normalized = normalized;
        _alignStart = start;
        _alignEnd = end;
        _aOff = aOff;
        _aDelta = aDelta;
        OriginalShift = shift;
    }

    public string Get() => _normalized;
    public int Length => _normalized.Length;
    public bool IsEmpty => _normalized.Length == 0;

    public (int Start, int End) OffsetsOriginal => (OriginalShift, OriginalShift + OriginalLength);

    /// <summary>Normalized range to original range (relative to this string's Original), as Rust's convert_offsets.</summary>
    public (int Start, int End)? NormalizedToOriginal(int start, int end)
    {
        if (start == end) return (start, end);
        if (start > end) return null;
        if (end > _normalized.Length || start < 0) return null;
        return (AS(start), AE(end - 1));
    }

    /// <summary>Original range to normalized range, as Rust's convert_offsets with Range::Original.</summary>
    public (int Start, int End)? OriginalToNormalized(int start, int end)
    {
        if (start == end) return (start, end);
        if (start > end) return null;
        if (OriginalLength == 0 && start == 0 && end == 0) return (0, _normalized.Length);
        int? s = null, e = null;
        for (int i = 0; i < _normalized.Length; i++)
        {
            if (!(end >= AE(i))) break;
            if (s == null && start <= AS(i) && AS(i) != AE(i)) s = i;
            if (end >= AE(i)) e = i + 1;
        }
        return (s, e) switch
        {
            ({ } a, null) => (a, a),
            (null, { } b) => (b, b),
            ({ } a, { } b) => (a, b),
            _ => null,
        };
    }

    /// <summary>A sub-string by normalized range (Rust's slice with Range::Normalized).</summary>
    public NormalizedString? Slice(int start, int end)
    {
        if (start < 0 || end > _normalized.Length || start > end) return null;
        if (!IsBoundary(_normalized, start) || !IsBoundary(_normalized, end)) return null;
        var orig = NormalizedToOriginal(start, end);
        if (orig is not { } o) return null;
        // The whole string: nothing to shift or cut, so the string itself is the slice (its old
        // owner, a split being replaced, never uses it again).
        if (start == 0 && end == _normalized.Length && o.Start == 0 && o.End == OriginalLength && end > 0) return this;
        bool validOriginal = o.Start >= 0 && o.End <= OriginalLength && o.Start <= o.End;
        return new NormalizedString(_root, validOriginal ? _rootStart + o.Start : _rootStart, validOriginal ? o.End - o.Start : 0,
            _normalized.Substring(start, end - start), _alignStart, _alignEnd, _aOff + start, _aDelta + o.Start, OriginalShift + o.Start);
    }

    private static bool IsBoundary(string s, int i) =>
        i <= 0 || i >= s.Length || !(char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1]));

    /// <summary>Rust's transform_range over normalized units [nStart, nEnd).</summary>
    public void TransformRange(int nStart, int nEnd, IReadOnlyList<(int C, int Change)> dest, int initialOffset)
    {
        // Characters being replaced, with their UTF-16 sizes.
        var replacedSizes = new List<int>();
        for (int i = nStart; i < nEnd;)
        {
            int size = char.IsHighSurrogate(_normalized[i]) && i + 1 < nEnd && char.IsLowSurrogate(_normalized[i + 1]) ? 2 : 1;
            replacedSizes.Add(size);
            i += size;
        }
        if (initialOffset == 0 && dest.Count == replacedSizes.Count && TryTransformInPlace(nStart, nEnd, dest, replacedSizes)) return;
        int ptr = 0;
        int offset = nStart;
        for (; ptr < initialOffset && ptr < replacedSizes.Count; ptr++) offset += replacedSizes[ptr];

        var sb = new StringBuilder(Math.Max(16, dest.Count + 4));
        var newStart = new List<int>(dest.Count + 4);
        var newEnd = new List<int>(dest.Count + 4);
        foreach (var (c, changes) in dest)
        {
            int idx = offset;
            int aS, aE;
            if (changes > 0)
            {
                if (idx < 1) { aS = 0; aE = 0; }
                else { aS = AS(idx - 1); aE = AE(idx - 1); }
            }
            else
            {
                if (idx < _normalized.Length) { aS = AS(idx); aE = AE(idx); }
                else if (idx > 0) { aS = AS(idx - 1); aE = AE(idx - 1); }
                else { aS = 0; aE = 0; }
            }
            if (changes <= 0)
            {
                if (ptr < replacedSizes.Count) offset += replacedSizes[ptr++];
            }
            if (changes < 0)
            {
                for (int r = 0; r < -changes && ptr < replacedSizes.Count; r++) offset += replacedSizes[ptr++];
            }
            if (c >= 0x10000)
            {
                sb.Append(char.ConvertFromUtf32(c));
                newStart.Add(aS); newEnd.Add(aE);
                newStart.Add(aS); newEnd.Add(aE);
            }
            else
            {
                sb.Append((char)c);
                newStart.Add(aS); newEnd.Add(aE);
            }
        }
        int oldLen = _normalized.Length;
        int removed = nEnd - nStart;
        int newLen = oldLen - removed + sb.Length;
        var ns = new int[newLen];
        var ne = new int[newLen];
        for (int i = 0; i < nStart; i++) { ns[i] = AS(i); ne[i] = AE(i); }
        newStart.CopyTo(ns, nStart);
        newEnd.CopyTo(ne, nStart);
        for (int i = nEnd; i < oldLen; i++) { ns[i - nEnd + nStart + sb.Length] = AS(i); ne[i - nEnd + nStart + sb.Length] = AE(i); }
        _alignStart = ns;
        _alignEnd = ne;
        _aOff = _aDelta = 0;
        _normalized = string.Concat(_normalized.AsSpan(0, nStart), sb.ToString(), _normalized.AsSpan(nEnd));
    }

    // One-to-one replacement of characters with the same UTF-16 length: alignments are unchanged.
    private bool TryTransformInPlace(int nStart, int nEnd, IReadOnlyList<(int C, int Change)> dest, List<int> replacedSizes)
    {
        for (int i = 0; i < dest.Count; i++)
        {
            if (dest[i].Change != 0) return false;
            if ((dest[i].C >= 0x10000 ? 2 : 1) != replacedSizes[i]) return false;
        }
        var chars = _normalized.ToCharArray();
        int pos = nStart;
        bool changed = false;
        for (int i = 0; i < dest.Count; i++)
        {
            int c = dest[i].C;
            if (c >= 0x10000)
            {
                string pair = char.ConvertFromUtf32(c);
                if (chars[pos] != pair[0] || chars[pos + 1] != pair[1]) changed = true;
                chars[pos] = pair[0];
                chars[pos + 1] = pair[1];
                pos += 2;
            }
            else
            {
                if (chars[pos] != (char)c) changed = true;
                chars[pos++] = (char)c;
            }
        }
        if (changed) _normalized = new string(chars);
        return true;
    }

    /// <summary>Replaces each UTF-16 unit by the corresponding one of a string of the same length (alignments unchanged).</summary>
    public void ReplaceOneToOne(string replacement)
    {
        if (replacement.Length != _normalized.Length) throw new ArgumentException("length differs", nameof(replacement));
        _normalized = replacement;
    }

    public bool IsAscii() => AllBelow(0x80);

    private bool AllBelow(int limit)
    {
        foreach (char c in _normalized) if (c >= limit) return false;
        return true;
    }

    public void Transform(IReadOnlyList<(int C, int Change)> dest, int initialOffset) =>
        TransformRange(0, _normalized.Length, dest, initialOffset);

    // Quick checks: below these code points every character is its own normal form and no
    // composition can start, so the transformation would be the identity.
    public void Nfd() { if (!AllBelow(0xC0)) Transform(UnicodeText.Decompose(_normalized, false), 0); }
    public void Nfkd() { if (!AllBelow(0xA0)) Transform(UnicodeText.Decompose(_normalized, true), 0); }
    public void Nfc() { if (!AllBelow(0x300)) Transform(UnicodeText.Compose(_normalized, false), 0); }
    public void Nfkc() { if (!AllBelow(0xA0)) Transform(UnicodeText.Compose(_normalized, true), 0); }

    public void Filter(Func<int, bool> keep)
    {
        bool all = true;
        foreach (var r in _normalized.EnumerateRunes()) if (!keep(r.Value)) { all = false; break; }
        if (all) return;
        int removed = 0, removedStart = 0;
        var transforms = new List<(int, int)>(_normalized.Length);
        int? lastC = null;
        foreach (var r in _normalized.EnumerateRunes())
        {
            int c = r.Value;
            if (keep(c))
            {
                if (lastC is { } lc) transforms.Add((lc, -removed));
                else removedStart = removed;
                lastC = c;
                removed = 0;
            }
            else removed++;
        }
        if (lastC is { } l) transforms.Add((l, -removed));
        Transform(transforms, removedStart);
    }

    public void Map(Func<int, int> map)
    {
        bool same = true;
        foreach (var r in _normalized.EnumerateRunes()) if (map(r.Value) != r.Value) { same = false; break; }
        if (same) return;
        var transforms = new List<(int, int)>(_normalized.Length);
        foreach (var r in _normalized.EnumerateRunes()) transforms.Add((map(r.Value), 0));
        Transform(transforms, 0);
    }

    public void Lowercase()
    {
        bool same = true;
        foreach (char ch in _normalized)
        {
            if (ch < 0x80 ? ch is >= 'A' and <= 'Z' : true) { same = false; break; }
        }
        if (same) return;
        if (AllBelow(0x80))
        {
            _normalized = _normalized.ToLowerInvariant();
            return;
        }
        var transforms = new List<(int, int)>(_normalized.Length);
        Span<int> buf = stackalloc int[3];
        foreach (var r in _normalized.EnumerateRunes())
        {
            int n = UnicodeText.Lowercase(r.Value, buf);
            for (int i = 0; i < n; i++) transforms.Add((buf[i], i > 0 ? 1 : 0));
        }
        Transform(transforms, 0);
    }

    public void Uppercase()
    {
        var transforms = new List<(int, int)>(_normalized.Length);
        Span<int> buf = stackalloc int[3];
        foreach (var r in _normalized.EnumerateRunes())
        {
            int n = UnicodeText.Uppercase(r.Value, buf);
            for (int i = 0; i < n; i++) transforms.Add((buf[i], i > 0 ? 1 : 0));
        }
        Transform(transforms, 0);
    }

    public void Prepend(string s)
    {
        if (_normalized.Length == 0) return;
        var first = Rune.GetRuneAt(_normalized, 0);
        var transforms = new List<(int, int)>();
        int i = 0;
        foreach (var r in s.EnumerateRunes()) transforms.Add((r.Value, i++ != 0 ? 1 : 0));
        transforms.Add((first.Value, 1));
        TransformRange(0, first.Utf16SequenceLength, transforms, 0);
    }

    public void Append(string s)
    {
        if (_normalized.Length > 0)
        {
            int b = _normalized.Length - 1;
            if (char.IsLowSurrogate(_normalized[b]) && b > 0 && char.IsHighSurrogate(_normalized[b - 1])) b--;
            var last = Rune.GetRuneAt(_normalized, b);
            var transforms = new List<(int, int)> { (last.Value, 0) };
            foreach (var r in s.EnumerateRunes()) transforms.Add((r.Value, 1));
            TransformRange(b, _normalized.Length, transforms, 0);
        }
        else
        {
            var transforms = new List<(int, int)>();
            foreach (var r in s.EnumerateRunes()) transforms.Add((r.Value, 1));
            TransformRange(0, 0, transforms, 0);
        }
    }

    /// <summary>Replaces every match of the pattern by content; inserted characters take the alignment of the character before the match.</summary>
    public void Replace(IPattern pattern, string content)
    {
        var matches = pattern.FindMatches(_normalized);
        var sb = new StringBuilder(_normalized.Length);
        var ns = new List<int>(_normalized.Length);
        var ne = new List<int>(_normalized.Length);
        int lastEnd = 0;
        foreach (var (start, end, isMatch) in matches)
        {
            if (!isMatch) continue;
            sb.Append(_normalized, lastEnd, start - lastEnd);
            for (int i = lastEnd; i < start; i++) { ns.Add(AS(i)); ne.Add(AE(i)); }
            // All content characters are insertions after the removed match: they share the
            // alignment of the unit at (end - 1)... exactly as Rust computes it with offset = end.
            int idx = end;
            int aS = idx < 1 ? 0 : AS(idx - 1);
            int aE = idx < 1 ? 0 : AE(idx - 1);
            foreach (char ch in content)
            {
                sb.Append(ch);
                ns.Add(aS); ne.Add(aE);
            }
            lastEnd = end;
        }
        if (lastEnd == 0 && sb.Length == 0 && matches.All(m => !m.IsMatch)) return;
        sb.Append(_normalized, lastEnd, _normalized.Length - lastEnd);
        for (int i = lastEnd; i < _normalized.Length; i++) { ns.Add(AS(i)); ne.Add(AE(i)); }
        _normalized = sb.ToString();
        _alignStart = ns.ToArray();
        _alignEnd = ne.ToArray();
        _aOff = _aDelta = 0;
    }

    public List<NormalizedString> Split(IPattern pattern, SplitDelimiterBehavior behavior)
    {
        var matches = pattern.FindMatches(_normalized);
        var splits = new List<(int Start, int End, bool Remove)>(matches.Count);
        switch (behavior)
        {
            case SplitDelimiterBehavior.Isolated:
                foreach (var m in matches) splits.Add((m.Start, m.End, false));
                break;
            case SplitDelimiterBehavior.Removed:
                foreach (var m in matches) splits.Add((m.Start, m.End, m.IsMatch));
                break;
            case SplitDelimiterBehavior.Contiguous:
            {
                bool prev = false;
                foreach (var m in matches)
                {
                    if (m.IsMatch == prev && splits.Count > 0)
                        splits[^1] = (splits[^1].Start, m.End, false);
                    else
                        splits.Add((m.Start, m.End, false));
                    prev = m.IsMatch;
                }
                break;
            }
            case SplitDelimiterBehavior.MergedWithPrevious:
            {
                bool prev = false;
                foreach (var m in matches)
                {
                    if (m.IsMatch && !prev && splits.Count > 0)
                        splits[^1] = (splits[^1].Start, m.End, false);
                    else
                        splits.Add((m.Start, m.End, false));
                    prev = m.IsMatch;
                }
                break;
            }
            case SplitDelimiterBehavior.MergedWithNext:
            {
                bool prev = false;
                for (int i = matches.Count - 1; i >= 0; i--)
                {
                    var m = matches[i];
                    if (m.IsMatch && !prev && splits.Count > 0)
                        splits[^1] = (m.Start, splits[^1].End, false);
                    else
                        splits.Add((m.Start, m.End, false));
                    prev = m.IsMatch;
                }
                splits.Reverse();
                break;
            }
        }
        var result = new List<NormalizedString>(splits.Count);
        foreach (var (start, end, remove) in splits)
        {
            if (remove) continue;
            result.Add(Slice(start, end) ?? throw new InvalidOperationException("NormalizedString bad split"));
        }
        return result;
    }

    public void Strip(bool left, bool right)
    {
        var runes = _normalized.EnumerateRunes().Select(r => r.Value).ToList();
        int leading = 0, trailing = 0;
        if (left) while (leading < runes.Count && UnicodeText.IsWhiteSpace(runes[leading])) leading++;
        if (right) while (trailing < runes.Count - 0 && UnicodeText.IsWhiteSpace(runes[runes.Count - 1 - trailing])) trailing++;
        if (leading == 0 && trailing == 0) return;
        int count = runes.Count;
        var transforms = new List<(int, int)>();
        // Rust compares the char index with the *byte* length here (self.len()); for the
        // whitespace counts it keeps, the remaining characters are kept unchanged except the
        // last kept one, which absorbs the trailing removal.
        for (int i = 0; i < count; i++)
        {
            if (i < leading || i >= count - trailing) continue;
            if (i == count - trailing - 1) transforms.Add((runes[i], -trailing));
            else transforms.Add((runes[i], 0));
        }
        Transform(transforms, leading);
    }
}
