// Define-by-run reverse-mode autograd.
//
// A Tape records only while it is the thread's current tape, and only ops that touch a tracked
// tensor (one passed to Watch, or the output of a recorded op). With no tape, an op checks one
// thread-static field and records nothing. Gradient(y, wrt) walks the recorded nodes backwards,
// visiting only nodes that lie on a path from some wrt tensor to y, so weight gradients are never
// computed unless a weight is watched and asked for. Intermediate gradients are disposed as soon
// as their node has consumed them, and the node list is released unless retainGraph is set.
namespace Glassbox.Tensors;

/// <summary>Computes the input gradients of one recorded op. needs[i] says whether the gradient of
/// input i is wanted; entries may be null when not needed (or when an input is not differentiable).</summary>
public delegate Tensor?[] BackwardFn(Tensor gradOutput, bool[] needs);

public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? t_current;

    private readonly Tape? _previous;
    private readonly HashSet<long> _tracked = [];
    private List<Node> _nodes = [];
    private Dictionary<long, Tensor>? _adopted;
    private bool _disposed;

    private sealed record Node(Tensor Output, Tensor[] Inputs, BackwardFn Backward, string Op);

    private Tape(Tape? previous) => _previous = previous;

    /// <summary>The recording tape of this thread, or null.</summary>
    public static Tape? Current => t_current;

    /// <summary>Starts recording on this thread until the returned tape is disposed.</summary>
    public static Tape Record()
    {
        var t = new Tape(t_current);
        t_current = t;
        return t;
    }

    /// <summary>Pauses recording on this thread (like torch.no_grad) until disposed.</summary>
    public static IDisposable NoGrad()
    {
        var saved = t_current;
        t_current = null;
        return new Restore(saved);
    }

    private sealed class Restore(Tape? saved) : IDisposable
    {
        public void Dispose() => t_current = saved;
    }

    /// <summary>Marks tensors as differentiable inputs (leaves) and returns the first.</summary>
    public Tensor Watch(Tensor t)
    {
        _tracked.Add(t.Id);
        return t;
    }

    public void Watch(IEnumerable<Tensor> ts)
    {
        foreach (var t in ts) _tracked.Add(t.Id);
    }

    public bool IsTracked(Tensor t) => _tracked.Contains(t.Id);

    /// <summary>Number of recorded nodes (for tests and diagnostics).</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Called by ops: records the op when a tape is active and an input is tracked.</summary>
    public static void Add(Tensor output, Tensor[] inputs, BackwardFn backward, string op)
    {
        var tape = t_current;
        if (tape is null) return;
        bool any = false;
        foreach (var i in inputs)
            if (tape._tracked.Contains(i.Id)) { any = true; break; }
        if (!any) return;
        tape._tracked.Add(output.Id);
        tape._nodes.Add(new Node(output, inputs, backward, op));
    }

    /// <summary>True when an op on these inputs would be recorded (lets ops skip saving state).</summary>
    public static bool WouldRecord(Tensor a)
    {
        var tape = t_current;
        return tape is not null && tape._tracked.Contains(a.Id);
    }

    public static bool WouldRecord(Tensor a, Tensor b)
    {
        var tape = t_current;
        return tape is not null && (tape._tracked.Contains(a.Id) || tape._tracked.Contains(b.Id));
    }

    /// <summary>d(output)/d(wrt) for a one-element output.</summary>
    public Tensor[] Gradient(Tensor output, params Tensor[] wrt) => Gradient(output, wrt, seed: null, retainGraph: false);

    /// <summary>Vector–Jacobian product: the gradients of sum(seed ⊙ output) with respect to each
    /// wrt tensor (any recorded tensor, not only leaves). A wrt tensor that output does not depend on
    /// gets zeros. Without retainGraph the tape's nodes are released afterwards.</summary>
    public Tensor[] Gradient(Tensor output, IReadOnlyList<Tensor> wrt, Tensor? seed = null, bool retainGraph = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (seed is null && output.Length != 1)
            throw new ArgumentException($"Gradient: output has shape {ShapeUtil.Format(output.Shape)}; give a seed of the same shape or reduce it to one element.");
        if (seed is not null && !ShapeUtil.Equal(seed.Shape, output.Shape))
            throw new ArgumentException($"Gradient: seed shape {ShapeUtil.Format(seed.Shape)} differs from output shape {ShapeUtil.Format(output.Shape)}.");

        // Which tensors depend on a wrt tensor (forward sweep over the recorded order).
        var wanted = new HashSet<long>();
        foreach (var w in wrt) wanted.Add(w.Id);
        var onPath = new HashSet<long>(wanted);
        foreach (var n in _nodes)
            foreach (var i in n.Inputs)
                if (onPath.Contains(i.Id)) { onPath.Add(n.Output.Id); break; }

        var grads = new Dictionary<long, Tensor>();
        var results = new Tensor[wrt.Count];
        // Tensors the caller holds: never released by this walk, even when a scope handed them over.
        var keep = new HashSet<long>(wanted) { output.Id };
        bool release = !retainGraph && _adopted is { Count: > 0 };
        var saved = t_current;
        t_current = null; // backward runs untaped
        try
        {
            if (onPath.Contains(output.Id))
            {
                grads[output.Id] = seed is null ? Tensor.Ones(output.Shape) : seed.Clone();
                for (int ni = _nodes.Count - 1; ni >= 0; ni--)
                {
                    var node = _nodes[ni];
                    if (grads.TryGetValue(node.Output.Id, out var g)) RunNode(node, g, onPath, wanted, grads);
                    // The node's inputs and saved state are no longer needed by this backward:
                    // drop the reference so they can be reclaimed while the walk continues.
                    if (!retainGraph) _nodes[ni] = null!;
                    // Every consumer of this node's output comes later in the recording, so its
                    // backward has run: a scope intermediate can go back to the pool now.
                    if (release && _adopted!.Remove(node.Output.Id, out var dead) && !keep.Contains(dead.Id)) dead.Dispose();
                }
            }
            for (int i = 0; i < wrt.Count; i++)
                results[i] = grads.TryGetValue(wrt[i].Id, out var r) ? r : Tensor.Zeros(wrt[i].Shape);
            // Two wrt entries naming the same tensor must not share storage.
            for (int i = 0; i < wrt.Count; i++)
                for (int j = 0; j < i; j++)
                    if (ReferenceEquals(results[i], results[j])) results[i] = results[j].Clone();
        }
        finally
        {
            t_current = saved;
        }
        if (!retainGraph)
        {
            _nodes = [];
            ReleaseAdopted(keep);
        }
        return results;
    }

    /// <summary>Runs one node's backward with output gradient g and adds what it returns into grads.</summary>
    private static void RunNode(Node node, Tensor g, HashSet<long> onPath, HashSet<long> wanted, Dictionary<long, Tensor> grads)
    {
        var needs = new bool[node.Inputs.Length];
        bool anyNeed = false;
        for (int i = 0; i < needs.Length; i++) anyNeed |= needs[i] = onPath.Contains(node.Inputs[i].Id);
        // g belongs to the walk unless it is itself a requested result: then the walk may hand it
        // on as an input's gradient (a backward that passes g through) instead of copying it.
        bool gOwned = !wanted.Contains(node.Output.Id);
        if (gOwned) grads.Remove(node.Output.Id);
        bool gGiven = false;
        if (anyNeed)
        {
            var gin = node.Backward(g, needs);
            for (int i = 0; i < needs.Length; i++)
            {
                if (!needs[i] || gin[i] is not { } gi) continue;
                if (!ShapeUtil.Equal(gi.Shape, node.Inputs[i].Shape))
                    throw new InvalidOperationException($"Gradient: backward of {node.Op} produced shape {ShapeUtil.Format(gi.Shape)} for an input of shape {ShapeUtil.Format(node.Inputs[i].Shape)}.");
                bool isG = ReferenceEquals(gi, g);
                bool seen = false; // the same tensor returned for an earlier input of this node
                for (int j = 0; j < i && !seen; j++) seen = needs[j] && ReferenceEquals(gin[j], gi);
                long id = node.Inputs[i].Id;
                if (grads.TryGetValue(id, out var acc))
                {
                    Ops.AddInPlace(acc, gi);
                    if (!isG && !seen && !ReferenceEquals(acc, gi)) gi.Dispose();
                }
                else if (isG)
                {
                    if (gOwned && !gGiven) { grads[id] = g; gGiven = true; }
                    else grads[id] = g.Clone();
                }
                else grads[id] = seen ? gi.Clone() : gi;
            }
        }
        if (gOwned && !gGiven) g.Dispose();
    }

    /// <summary>Hands over the intermediates of a scope that ended while this tape recorded: the
    /// tape releases each once the backward no longer needs it (or when the tape is disposed).</summary>
    internal void Adopt(Tensor t) => (_adopted ??= [])[t.Id] = t;

    /// <summary>False once disposed.</summary>
    internal bool IsLive => !_disposed;

    private void ReleaseAdopted(HashSet<long>? keep)
    {
        if (_adopted is null) return;
        foreach (var t in _adopted.Values)
            if (keep is null || !keep.Contains(t.Id)) t.Dispose();
        _adopted = null;
    }

    /// <summary>Adds d(output)/d(p) into grads[i] for each parameter (creating it on first use):
    /// gradient accumulation across micro-batches.</summary>
    public void Accumulate(Tensor output, IReadOnlyList<Tensor> parameters, Tensor?[] grads, bool retainGraph = false)
    {
        if (grads.Length != parameters.Count) throw new ArgumentException($"Accumulate: {grads.Length} gradient slots for {parameters.Count} parameters.");
        var g = Gradient(output, parameters, null, retainGraph);
        for (int i = 0; i < g.Length; i++)
        {
            if (grads[i] is { } acc) { Ops.AddInPlace(acc, g[i]); g[i].Dispose(); }
            else grads[i] = g[i];
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _nodes = [];
        ReleaseAdopted(null);
        _tracked.Clear();
        if (ReferenceEquals(t_current, this)) t_current = _previous;
    }
}
