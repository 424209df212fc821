// Deterministic release of intermediate tensors during inference. Tensors created while a scope
// is current (and no tape is recording) belong to it and go back to the pool when it ends, except
// those kept with Keep (which pass to the enclosing scope) or escaped with Escape (which leave
// every scope: hook captures, KV caches). With a tape recording nothing is registered: backward
// needs the intermediates.
namespace Glassbox.Tensors;

public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;

    private readonly TensorScope? _parent;
    private readonly List<Tensor> _owned = [];
    private HashSet<long>? _kept;
    private bool _disposed;

    private TensorScope(TensorScope? parent) => _parent = parent;

    /// <summary>Starts a scope on this thread; dispose it to release what it owns.</summary>
    public static TensorScope Enter()
    {
        var s = new TensorScope(t_current);
        t_current = s;
        return s;
    }

    /// <summary>Runs code outside every scope (until disposed): tensors it creates are owned by no
    /// scope. Hook callbacks run this way, since user code there may keep what it creates.</summary>
    public static IDisposable Suspend()
    {
        var saved = t_current;
        t_current = null;
        return new Resume(saved);
    }

    private sealed class Resume(TensorScope? saved) : IDisposable
    {
        public void Dispose() => t_current = saved;
    }

    internal static void Register(Tensor t)
    {
        var s = t_current;
        if (s is not null && Tape.Current is null) s._owned.Add(t);
    }

    /// <summary>Keeps t alive past this scope (it then belongs to the enclosing scope, if any).</summary>
    public Tensor Keep(Tensor t)
    {
        (_kept ??= []).Add(t.Id);
        _parent?._owned.Add(t);
        return t;
    }

    /// <summary>Keeps t alive past every scope on this thread (for tensors stored elsewhere).</summary>
    public static Tensor Escape(Tensor t)
    {
        for (var s = t_current; s is not null; s = s._parent) (s._kept ??= []).Add(t.Id);
        return t;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (ReferenceEquals(t_current, this)) t_current = _parent;
        foreach (var t in _owned)
            if (_kept is null || !_kept.Contains(t.Id)) t.Dispose();
        _owned.Clear();
    }
}
