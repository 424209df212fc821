namespace Glassbox.Tokenizers.SentencePiece;

/// <summary>
/// A trie over UTF-8 bytes: node 0 is the root, edges live in one hash table keyed by
/// (node, byte). Callers keep per-node values in their own arrays, indexed by node.
/// </summary>
internal sealed class ByteTrie
{
    private readonly Dictionary<int, int> _edges = new();
    private int _nodeCount = 1;

    public int NodeCount => _nodeCount;

    /// <summary>Adds the key and returns the node where it ends.</summary>
    public int Insert(ReadOnlySpan<byte> key)
    {
        int node = 0;
        foreach (byte b in key)
        {
            if (node >= (1 << 23)) throw new InvalidOperationException("trie is too large (more than 8M nodes)");
            int edge = node << 8 | b;
            if (!_edges.TryGetValue(edge, out int child))
            {
                child = _nodeCount++;
                _edges.Add(edge, child);
            }
            node = child;
        }
        return node;
    }

    /// <summary>The child of <paramref name="node"/> along <paramref name="b"/>, or -1.</summary>
    public int Child(int node, byte b) => _edges.TryGetValue(node << 8 | b, out int child) ? child : -1;

    /// <summary>The node reached by the whole key, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int node = 0;
        foreach (byte b in key)
        {
            if (!_edges.TryGetValue(node << 8 | b, out node)) return -1;
        }
        return node;
    }
}

/// <summary>A growable array of unmanaged values (a List without bounds-checked indexer overhead).</summary>
internal sealed class Buffer<T> where T : unmanaged
{
    private T[] _items;
    public int Count;

    public Buffer(int capacity = 16) => _items = new T[Math.Max(capacity, 4)];

    public void Add(T item)
    {
        if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[Count++] = item;
    }

    public void AddRange(ReadOnlySpan<T> items)
    {
        if (Count + items.Length > _items.Length)
            Array.Resize(ref _items, Math.Max(_items.Length * 2, Count + items.Length));
        items.CopyTo(_items.AsSpan(Count));
        Count += items.Length;
    }

    public void Clear() => Count = 0;

    public ref T this[int index] => ref _items[index];

    public Span<T> AsSpan() => _items.AsSpan(0, Count);
}
