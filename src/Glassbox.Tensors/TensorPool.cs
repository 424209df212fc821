// Buffers for tensor storage. Sizes are rounded up to powers of two by ArrayPool, so a tensor's
// Span is a prefix of its array. Returning is deterministic (Tensor.Dispose); arrays that are
// never returned are garbage-collected like any other.
using System.Buffers;

namespace Glassbox.Tensors;

internal static class TensorPool
{
    private static readonly ArrayPool<float> s_pool = ArrayPool<float>.Create(maxArrayLength: 1 << 28, maxArraysPerBucket: 64);

    public static float[] Rent(int n) => n == 0 ? [] : s_pool.Rent(n);

    public static void Return(float[] a)
    {
        if (a.Length != 0) s_pool.Return(a);
    }
}
