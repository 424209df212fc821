// Least-recently-used cache of predictions keyed by model and input fields. The app asks for the
// same rows again and again (table, metrics, projector, compare), so a prediction is computed once
// per (model, text, pair, generation length) while it stays among the most recent entries.
namespace Glassbox.Server;

internal sealed class PredictionCache(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, Prediction Value)>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, Prediction Value)> _order = new();
    private readonly object _lock = new();

    public static string Key(string model, Datapoint d, int maxNewTokens) =>
        string.Concat(model, "\u0000", d.Text, "\u0000", d.Pair ?? "\u0001", "\u0000", maxNewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public int Count { get { lock (_lock) return _map.Count; } }

    public bool TryGet(string key, out Prediction value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = null!;
        return false;
    }

    public void Add(string key, Prediction value)
    {
        if (capacity <= 0) return;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing)) _order.Remove(existing);
            var node = _order.AddFirst((key, value));
            _map[key] = node;
            while (_map.Count > capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }
}
