// A float32, row-major, contiguous tensor. Storage comes from TensorPool and goes back on
// Dispose; a tensor that is never disposed is simply collected. Autograd bookkeeping lives on
// the Tape, not here, so a tensor costs nothing extra when no tape is recording.
using System.Runtime.CompilerServices;

namespace Glassbox.Tensors;

public sealed partial class Tensor : IDisposable
{
    private float[]? _data;
    private readonly int _length;

    /// <summary>The dimensions, outermost first. Never mutate the returned array.</summary>
    public int[] Shape { get; }

    public int Rank => Shape.Length;

    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public int Length => _length;

    /// <summary>Identity used by the tape (stable for the lifetime of the object).</summary>
    internal readonly long Id = Interlocked.Increment(ref s_nextId);
    private static long s_nextId;

    internal Tensor(float[] data, int[] shape, int length)
    {
        _data = data;
        Shape = shape;
        _length = length;
        TensorScope.Register(this);
    }

    /// <summary>Creates a zero-filled tensor with the given shape.</summary>
    public Tensor(params int[] shape) : this(TensorPool.Rent(ShapeUtil.Count(shape, "Tensor")), (int[])shape.Clone(), ShapeUtil.Count(shape, "Tensor"))
    {
        Span.Clear();
    }

    /// <summary>The elements in row-major order.</summary>
    public Span<float> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Data, 0, _length);
    }

    internal float[] Data => _data ?? throw new ObjectDisposedException(nameof(Tensor), $"Tensor{ShapeUtil.Format(Shape)} was used after Dispose.");

    public bool IsDisposed => _data is null;

    public int Dim(int axis) => Shape[ShapeUtil.Axis(axis, Rank, "Dim")];

    [IndexerName("At")]
    public float this[params int[] index]
    {
        get => Data[ShapeUtil.Offset(Shape, index)];
        set => Data[ShapeUtil.Offset(Shape, index)] = value;
    }

    /// <summary>Value of a one-element tensor.</summary>
    public float Item()
    {
        if (_length != 1) throw new InvalidOperationException($"Item: tensor has shape {ShapeUtil.Format(Shape)} ({_length} elements), expected exactly one element.");
        return Data[0];
    }

    public float[] ToArray() => Span.ToArray();

    public void Dispose()
    {
        var d = _data;
        if (d is null) return;
        _data = null;
        TensorPool.Return(d);
    }

    public override string ToString() => $"Tensor{ShapeUtil.Format(Shape)}";

    // ---- creation -------------------------------------------------------------------------

    /// <summary>A new tensor with uninitialised storage (contents are whatever the pool held).</summary>
    public static Tensor Empty(params int[] shape)
    {
        int n = ShapeUtil.Count(shape, "Empty");
        return new Tensor(TensorPool.Rent(n), (int[])shape.Clone(), n);
    }

    public static Tensor Zeros(params int[] shape) => new(shape);

    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    public static Tensor Full(float value, params int[] shape)
    {
        var t = Empty(shape);
        t.Span.Fill(value);
        return t;
    }

    public static Tensor Scalar(float value) => Full(value, []);

    /// <summary>Copies <paramref name="data"/> into a new tensor of the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        int n = ShapeUtil.Count(shape, "FromArray");
        if (data.Length != n)
            throw new ArgumentException($"FromArray: {data.Length} values cannot fill shape {ShapeUtil.Format(shape)} ({n} elements).");
        var t = Empty(shape);
        data.CopyTo(t.Span);
        return t;
    }

    public static Tensor FromArray(float[] data) => FromArray(data, data.Length);

    /// <summary>0, 1, ..., n-1 (or start, start+step, ... below stop).</summary>
    public static Tensor Arange(float start, float stop, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException($"Arange: step must be non-zero, got {step}.");
        int n = Math.Max(0, (int)Math.Ceiling((stop - start) / step));
        var t = Empty(n);
        var s = t.Span;
        for (int i = 0; i < n; i++) s[i] = start + i * step;
        return t;
    }

    public static Tensor Arange(int n) => Arange(0, n);

    /// <summary>Seeded normal samples (Box–Muller over System.Random with the given seed).</summary>
    public static Tensor RandomNormal(int[] shape, int seed, float mean = 0f, float std = 1f)
    {
        var t = Empty(shape);
        var rng = new Random(seed);
        var s = t.Span;
        for (int i = 0; i < s.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            s[i] = (float)(mean + std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < s.Length) s[i + 1] = (float)(mean + std * r * Math.Sin(2 * Math.PI * u2));
        }
        return t;
    }

    /// <summary>Seeded uniform samples in [low, high).</summary>
    public static Tensor RandomUniform(int[] shape, int seed, float low = 0f, float high = 1f)
    {
        var t = Empty(shape);
        var rng = new Random(seed);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(low + (high - low) * rng.NextDouble());
        return t;
    }

    /// <summary>A copy with its own storage, not connected to any tape.</summary>
    public Tensor Clone()
    {
        var t = Empty(Shape);
        Span.CopyTo(t.Span);
        return t;
    }
}
