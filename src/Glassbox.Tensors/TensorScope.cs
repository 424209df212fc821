// Deterministic release of intermediate tensors. Tensors created while a scope is current belong
// to it and go back to the pool when it ends, except those kept with Keep (which pass to the
// enclosing scope) or escaped with Escape (which leave every scope: hook captures, KV caches).
// A scope that begins while a tape records hands its intermediates to that tape instead, since
// the backward may still read them: the tape releases each one as soon as the backward has no
// further use for it. Tensors created under a tape that started after the scope began are not
// registered at all (the scope cannot know when that tape's backward is done with them).
namespace Glassbox.Tensors;

public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;

    private readonly TensorScope? _parent;
    private readonly Tape? _tape; // the tape recording when the scope began, if any
    private readonly List<Tensor> _owned = [];
    private HashSet<long>? _kept;
    private bool _disposed;

    private TensorScope(TensorScope? parent, Tape? tape)
    {
        _parent = parent;
        _tape = tape;
    }

    /// <summary>Starts a scope on this thread; dispose it to release what it owns.</summary>
    public static TensorScope Enter()
    {
        var s = new TensorScope(t_current, Tape.Current);
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
        if (s is null) return;
        var tape = Tape.Current;
        if (tape is null || ReferenceEquals(tape, s._tape)) s._owned.Add(t);
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
        var tape = _tape is { IsLive: true } ? _tape : null;
        foreach (var t in _owned)
        {
            if (_kept is not null && _kept.Contains(t.Id)) continue;
            if (tape is not null) tape.Adopt(t);
            else t.Dispose();
        }
        _owned.Clear();
    }
}
