namespace Glassbox.Models.Checkpoints;

/// <summary>What a checkpoint says about one tensor, before any data is read.</summary>
public sealed record TensorInfo(string Name, DType DType, int[] Shape)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    public long ByteLength => ElementCount * DType.Size();

    public bool Equals(TensorInfo? other) =>
        other is not null && Name == other.Name && DType == other.DType && Shape.AsSpan().SequenceEqual(other.Shape);

    public override int GetHashCode() => HashCode.Combine(Name, DType, Shape.Length);

    public override string ToString() => $"{Name} {DType.Name()}[{string.Join(", ", Shape)}]";
}
