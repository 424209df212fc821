using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Glassbox.Models.Tests;

/// <summary>Builders for hand-made (and hostile) checkpoint files.</summary>
internal static class TestFiles
{
    /// <summary>A safetensors file from a raw header string and data bytes; the length prefix may be overridden.</summary>
    public static byte[] Safetensors(string headerJson, byte[] data, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>A torch-style zip: entries (name → bytes), stored uncompressed like torch.save.</summary>
    public static void Zip(string path, IEnumerable<(string Name, byte[] Bytes)> entries)
    {
        using var fs = File.Create(path);
        using var zip = new ZipArchive(fs, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
            using var s = e.Open();
            s.Write(bytes);
        }
    }
}

/// <summary>Writes pickles the way torch.save does (protocol 2), for tests.</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _s = new();

    public PickleBuilder Op(byte b) { _s.WriteByte(b); return this; }
    public PickleBuilder Op(char c) => Op((byte)c);

    public PickleBuilder Proto() => Op(0x80).Op(2);

    public PickleBuilder Global(string module, string name)
    {
        Op('c');
        var b = Encoding.ASCII.GetBytes($"{module}\n{name}\n");
        _s.Write(b);
        return this;
    }

    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Op('X');
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(n, b.Length);
        _s.Write(n);
        _s.Write(b);
        return this;
    }

    public PickleBuilder Int(long v)
    {
        if (v is >= 0 and < 256) return Op('K').Op((byte)v);
        Op('J');
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(n, checked((int)v));
        _s.Write(n);
        return this;
    }

    public PickleBuilder Tuple(params long[] values)
    {
        Op('(');
        foreach (var v in values) Int(v);
        return Op('t');
    }

    /// <summary>`name: _rebuild_tensor_v2(storage(key, numel), offset, size, stride, False, OrderedDict())` inside SETITEMS.</summary>
    public PickleBuilder Tensor(string name, string storageType, string key, long numel, long offset, long[] size, long[] stride)
    {
        Str(name);
        Global("torch._utils", "_rebuild_tensor_v2");
        Op('(');
        Op('(').Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
        Int(offset);
        Tuple(size);
        Tuple(stride);
        Op(0x89); // False
        Global("collections", "OrderedDict").Op(')').Op('R');
        Op('t').Op('R');
        return this;
    }

    public PickleBuilder StateDictStart() => Proto().Global("collections", "OrderedDict").Op(')').Op('R').Op('(');

    public PickleBuilder StateDictEnd() => Op('u').Op('.');

    public byte[] ToArray() => _s.ToArray();

    public static byte[] Floats(params float[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), v[i]);
        return b;
    }
}
