// Buffers for tensor storage. A request is rounded up to a size class and served from that
// class's free list, or freshly allocated (Tensor.Empty promises nothing about the contents, and
// zero-filling constructors clear what they rent). Classes are powers of two up to
// 4096 floats and quarter octaves above (2^e·{1.25, 1.5, 1.75, 2}), so a buffer wastes at most
// 25 % of its size (ArrayPool's powers of two waste up to 50 %, which for the [rows, 768] and
// [rows, 3072] activations of a transformer batch was nearly 40 % of the live set). A tensor's Span
// is a prefix of its array. Returning is deterministic (Tensor.Dispose); arrays never returned
// are garbage-collected like any other, and a free list holds at most MaxPerClass arrays.
namespace Glassbox.Tensors;

internal static class TensorPool
{
    /// <summary>Free arrays kept per size class. A transformer forward recorded for backward keeps
    /// ~100 same-sized activations alive; they all come back during the backward and are rented
    /// again by the next batch, so the cap must exceed that or every batch reallocates.</summary>
    internal const int MaxPerClass = 512;

    private const int SmallLimitLog2 = 12; // classes are powers of two up to 2^12 floats
    private const int MaxLog2 = 31;

    private sealed class FreeList
    {
        public readonly Stack<float[]> Arrays = new();
    }

    // index: powers of two 2^0..2^12 at [0, 12]; above, 4 classes per octave.
    private static readonly FreeList[] s_lists = CreateLists();

    private static FreeList[] CreateLists()
    {
        var lists = new FreeList[SmallLimitLog2 + 1 + 4 * (MaxLog2 - SmallLimitLog2)];
        for (int i = 0; i < lists.Length; i++) lists[i] = new FreeList();
        return lists;
    }

    /// <summary>The size class of a request for n &gt; 0 floats: its index and array length.</summary>
    internal static (int Index, int Length) ClassOf(int n)
    {
        if (n <= 1 << SmallLimitLog2)
        {
            int e = n <= 1 ? 0 : 32 - int.LeadingZeroCount(n - 1);
            return (e, 1 << e);
        }
        int octave = 31 - int.LeadingZeroCount(n - 1);      // 2^octave < n ≤ 2^(octave+1)
        long b = 1L << octave, step = b >> 2;
        int q = (int)((n - b + step - 1) / step);            // 1..4
        long len = b + q * step;
        if (len > Array.MaxLength) len = n;                  // the largest requests: exact
        return (SmallLimitLog2 + 1 + 4 * (octave - SmallLimitLog2) + (q - 1), (int)len);
    }

    public static float[] Rent(int n)
    {
        if (n == 0) return [];
        var (index, length) = ClassOf(n);
        var list = s_lists[index];
        lock (list)
            if (list.Arrays.TryPop(out var a)) return a;
        return new float[length];
    }

    public static void Return(float[] a)
    {
        if (a.Length == 0) return;
        var (index, length) = ClassOf(a.Length);
        if (length != a.Length) return; // not one of ours (cannot happen) or an exact giant: let the GC have it
        var list = s_lists[index];
        lock (list)
            if (list.Arrays.Count < MaxPerClass) list.Arrays.Push(a);
    }
}
