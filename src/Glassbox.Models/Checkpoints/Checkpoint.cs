// A read-only view of a set of named tensors on disk, whatever the format. Opening a checkpoint
// reads and validates only its index (header or pickle); tensor data is touched when a tensor is
// materialised with ToTensor / ReadBytes / ReadInt64, so a large file costs little until used.
using System.Buffers;
using Glassbox.Tensors;

namespace Glassbox.Models.Checkpoints;

public abstract class Checkpoint : IDisposable
{
    /// <summary>The file (or index file, for sharded checkpoints) this checkpoint was read from.</summary>
    public abstract string FilePath { get; }

    /// <summary>Tensor names in the order the file lists them.</summary>
    public abstract IReadOnlyList<string> Names { get; }

    /// <summary>String metadata (safetensors <c>__metadata__</c>; empty for PyTorch files).</summary>
    public abstract IReadOnlyDictionary<string, string> Metadata { get; }

    public abstract bool Contains(string name);

    public abstract TensorInfo GetInfo(string name);

    /// <summary>Copies the tensor's elements, contiguous and little-endian in its stored dtype, into <paramref name="destination"/> (exactly <see cref="TensorInfo.ByteLength"/> bytes).</summary>
    public abstract void CopyBytes(string name, Span<byte> destination);

    public IEnumerable<TensorInfo> Infos => Names.Select(GetInfo);

    /// <summary>The tensor's raw elements (stored dtype, little-endian, row-major).</summary>
    public byte[] ReadBytes(string name)
    {
        var info = GetInfo(name);
        if (info.ByteLength > Array.MaxLength)
            throw new InvalidOperationException($"{FilePath}: tensor '{name}' has {info.ByteLength} bytes, more than one array can hold.");
        var bytes = new byte[info.ByteLength];
        CopyBytes(name, bytes);
        return bytes;
    }

    /// <summary>Materialises a floating tensor (F32, F16, BF16, F64) as float32.</summary>
    public virtual Tensor ToTensor(string name)
    {
        var info = GetInfo(name);
        RequireFloat(info);
        var t = Tensor.Empty(info.Shape);
        if (info.ByteLength > Array.MaxLength)
            throw new InvalidOperationException($"{FilePath}: tensor '{name}' has {info.ByteLength} bytes, more than one array can hold.");
        var buf = ArrayPool<byte>.Shared.Rent((int)info.ByteLength);
        try
        {
            var span = buf.AsSpan(0, (int)info.ByteLength);
            CopyBytes(name, span);
            DTypes.ToFloat32(info.DType, span, t.Span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
        return t;
    }

    /// <summary>Reads an integer or BOOL tensor as Int64 values (row-major).</summary>
    public long[] ReadInt64(string name)
    {
        var info = GetInfo(name);
        if (info.DType.IsFloat())
            throw new InvalidOperationException($"{FilePath}: tensor '{name}' is {info.DType.Name()}, not an integer type; use ToTensor.");
        var bytes = ReadBytes(name);
        var result = new long[info.ElementCount];
        try
        {
            DTypes.ToInt64(info.DType, bytes, result);
        }
        catch (OverflowException)
        {
            throw new InvalidOperationException($"{FilePath}: tensor '{name}' holds a U64 value above Int64.MaxValue.");
        }
        return result;
    }

    /// <summary>Reads an integer or BOOL tensor as Int32 values; values outside Int32 are an error.</summary>
    public int[] ReadInt32(string name)
    {
        var wide = ReadInt64(name);
        var result = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            long v = wide[i];
            if (v is < int.MinValue or > int.MaxValue)
                throw new InvalidOperationException($"{FilePath}: tensor '{name}' element {i} = {v} does not fit in Int32; use ReadInt64.");
            result[i] = (int)v;
        }
        return result;
    }

    /// <summary>Materialises every floating tensor (integer buffers such as <c>position_ids</c> are skipped).</summary>
    public Dictionary<string, Tensor> ToTensors()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var n in Names)
            if (GetInfo(n).DType.IsFloat()) d[n] = ToTensor(n);
        return d;
    }

    public abstract void Dispose();

    protected void RequireFloat(TensorInfo info)
    {
        if (!info.DType.IsFloat())
            throw new InvalidOperationException($"{FilePath}: tensor '{info.Name}' is {info.DType.Name()}, not a floating type; use ReadInt64/ReadInt32/ReadBytes.");
    }

    protected KeyNotFoundException NotFound(string name)
    {
        var sample = string.Join(", ", Names.Take(5).Select(n => $"'{n}'"));
        return new KeyNotFoundException($"{FilePath}: no tensor named '{name}' ({Names.Count} tensors, e.g. {sample}).");
    }

    // ---- opening ----------------------------------------------------------------------------

    /// <summary>Weight files a model folder may hold, most preferred first (as transformers prefers them).</summary>
    public static readonly string[] WeightFileNames =
    [
        "model.safetensors",
        "model.safetensors.index.json",
        "pytorch_model.bin",
        "pytorch_model.bin.index.json",
    ];

    /// <summary>
    /// Opens a checkpoint: a <c>.safetensors</c> file, a <c>.bin</c>/<c>.pt</c> torch zip, a sharded
    /// index (<c>*.index.json</c>), or a model folder (in which safetensors is preferred over .bin).
    /// </summary>
    public static Checkpoint Open(string path)
    {
        if (Directory.Exists(path))
        {
            foreach (var f in WeightFileNames)
            {
                var p = Path.Combine(path, f);
                if (File.Exists(p)) return Open(p);
            }
            throw new FileNotFoundException($"{path}: no weights found (looked for {string.Join(", ", WeightFileNames)}).");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint file not found.", path);
        if (path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return ShardedCheckpoint.Open(path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return SafetensorsFile.Open(path);
        // Sniff: a torch zip starts with "PK"; anything else is tried as safetensors.
        Span<byte> magic = stackalloc byte[2];
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            int n = fs.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            if (n == 2 && magic[0] == (byte)'P' && magic[1] == (byte)'K') return TorchCheckpoint.Open(path);
            if (n >= 1 && magic[0] == 0x80) return TorchCheckpoint.Open(path); // legacy pickle: refused with a clear message there
        }
        return SafetensorsFile.Open(path);
    }
}
