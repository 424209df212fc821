// Writes safetensors files the way the reference implementation lays them out (header padded
// with spaces to a multiple of 8, tensors contiguous in header order) and atomically: the bytes
// go to a temporary file in the same folder, which is flushed and then renamed over the target,
// so a crash never leaves a half-written checkpoint under the real name.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Glassbox.Tensors;

namespace Glassbox.Models.Checkpoints;

public sealed class SafetensorsWriter
{
    private readonly List<(string Name, DType DType, int[] Shape, Func<byte[]> Bytes)> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal) { ["format"] = "pt" };

    /// <summary>Adds a float tensor, stored as F32 (default), F16 or BF16. The tensor is copied now.</summary>
    public SafetensorsWriter Add(string name, Tensor tensor, DType dtype = DType.F32)
    {
        var values = tensor.ToArray();
        byte[] bytes = dtype switch
        {
            DType.F32 => ToLittleEndian(values),
            DType.F16 => Encode(values, 2, (v, s) => BinaryPrimitives.WriteUInt16LittleEndian(s, BitConverter.HalfToUInt16Bits((Half)v))),
            DType.BF16 => Encode(values, 2, (v, s) => BinaryPrimitives.WriteUInt16LittleEndian(s, DTypes.FloatToBF16(v))),
            DType.F64 => Encode(values, 8, (v, s) => BinaryPrimitives.WriteDoubleLittleEndian(s, v)),
            _ => throw new ArgumentException($"SafetensorsWriter.Add: a float tensor cannot be stored as {dtype.Name()}; use AddRaw."),
        };
        return AddRaw(name, dtype, (int[])tensor.Shape.Clone(), bytes);
    }

    public SafetensorsWriter Add(string name, long[] values, int[] shape) =>
        AddRaw(name, DType.I64, shape, Encode(values, 8, (v, s) => BinaryPrimitives.WriteInt64LittleEndian(s, v)));

    public SafetensorsWriter Add(string name, int[] values, int[] shape) =>
        AddRaw(name, DType.I32, shape, Encode(values, 4, (v, s) => BinaryPrimitives.WriteInt32LittleEndian(s, v)));

    /// <summary>Adds raw little-endian element bytes of any dtype.</summary>
    public SafetensorsWriter AddRaw(string name, DType dtype, int[] shape, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "__metadata__") throw new ArgumentException("SafetensorsWriter: '__metadata__' is reserved and cannot name a tensor.");
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"SafetensorsWriter: tensor '{name}' has negative dimension {d}.");
            count *= d;
        }
        if (count * dtype.Size() != bytes.Length)
            throw new ArgumentException($"SafetensorsWriter: tensor '{name}' shape [{string.Join(", ", shape)}] × {dtype.Name()} needs {count * dtype.Size()} bytes, got {bytes.Length}.");
        if (!_names.Add(name)) throw new ArgumentException($"SafetensorsWriter: tensor '{name}' added twice.");
        _entries.Add((name, dtype, (int[])shape.Clone(), () => bytes));
        return this;
    }

    /// <summary>Writes every tensor of a dictionary as F32 in one call.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IDictionary<string, string>? metadata = null)
    {
        var w = new SafetensorsWriter();
        if (metadata is not null) foreach (var kv in metadata) w.Metadata[kv.Key] = kv.Value;
        foreach (var kv in tensors) w.Add(kv.Key, kv.Value);
        w.Save(path);
    }

    /// <summary>Writes the file atomically (temporary file in the same folder, flushed, renamed).</summary>
    public void Save(string path)
    {
        path = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var header = BuildHeader();
        string tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                fs.Write(prefix);
                fs.Write(header);
                foreach (var e in _entries) fs.Write(e.Bytes());
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private byte[] BuildHeader()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (Metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in Metadata.OrderBy(k => k.Key, StringComparer.Ordinal)) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in _entries)
            {
                long n = e.Bytes().LongLength;
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DType.Name());
                w.WriteStartArray("shape");
                foreach (var d in e.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + n);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += n;
            }
            w.WriteEndObject();
        }
        int len = (int)ms.Length;
        int padded = (len + 7) / 8 * 8;
        var bytes = new byte[padded];
        ms.GetBuffer().AsSpan(0, len).CopyTo(bytes);
        bytes.AsSpan(len).Fill((byte)' ');
        return bytes;
    }

    private static byte[] ToLittleEndian(float[] values)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        return Encode(values, 4, (v, s) => BinaryPrimitives.WriteSingleLittleEndian(s, v));
    }

    private delegate void Put<T>(T value, Span<byte> destination);

    private static byte[] Encode<T>(T[] values, int size, Put<T> put)
    {
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++) put(values[i], bytes.AsSpan(i * size, size));
        return bytes;
    }

}
