using Glassbox.Tensors;

namespace Glassbox.Tensors.Tests;

public class TensorScopeTests
{
    [Fact]
    public void ReleasesWhatItOwnsKeepsAndEscapes()
    {
        Tensor a, kept, escaped, outer;
        using (var o = TensorScope.Enter())
        {
            using (var s = TensorScope.Enter())
            {
                a = Tensor.Ones(3);
                kept = s.Keep(Ops.Add(a, a));
                escaped = TensorScope.Escape(Ops.Mul(a, 3f));
            }
            Assert.True(a.IsDisposed);
            Assert.False(kept.IsDisposed);
            Assert.Equal([2f, 2f, 2f], kept.ToArray());
            outer = Tensor.Zeros(2);
        }
        Assert.True(kept.IsDisposed);       // kept passed to the outer scope, which released it
        Assert.True(outer.IsDisposed);
        Assert.False(escaped.IsDisposed);   // escaped leaves every scope
        Assert.Equal([3f, 3f, 3f], escaped.ToArray());
    }

    [Fact]
    public void IntermediatesOutliveTheirScopeWhileATapeNeedsThem()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        using var tape = Tape.Record();
        tape.Watch(x);
        Tensor y;
        using (TensorScope.Enter()) y = Ops.Mul(Ops.Exp(x), 2f);
        var g = tape.Gradient(Ops.Sum(y), [x])[0];
        Assert.Equal(2 * MathF.Exp(2f), g.Span[1], 4);
    }
}

public class TensorScopeSuspendTests
{
    [Fact]
    public void TensorsCreatedWhileSuspendedBelongToNoScope()
    {
        Tensor inside;
        using (TensorScope.Enter())
        {
            using (TensorScope.Suspend()) inside = Tensor.Ones(2);
        }
        Assert.False(inside.IsDisposed);
    }
}
