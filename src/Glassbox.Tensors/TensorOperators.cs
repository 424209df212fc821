namespace Glassbox.Tensors;

public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);
    public static Tensor operator +(Tensor a, float s) => Ops.Add(a, s);
    public static Tensor operator -(Tensor a, float s) => Ops.Sub(a, s);
    public static Tensor operator *(Tensor a, float s) => Ops.Mul(a, s);
    public static Tensor operator *(float s, Tensor a) => Ops.Mul(a, s);
    public static Tensor operator /(Tensor a, float s) => Ops.Div(a, s);
    public static Tensor operator -(Tensor a) => Ops.Neg(a);

    public Tensor Reshape(params int[] shape) => Ops.Reshape(this, shape);
    public Tensor Transpose(int axis0, int axis1) => Ops.Transpose(this, axis0, axis1);
    public Tensor Permute(params int[] perm) => Ops.Permute(this, perm);
    public Tensor Detach() => Ops.Detach(this);
}
