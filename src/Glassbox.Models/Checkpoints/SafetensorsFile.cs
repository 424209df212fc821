// A memory-mapped safetensors file. Opening reads the 8-byte length and the JSON header (both
// bounded by the file size and a 100 MB cap) and maps the file read-only; no tensor bytes are
// copied until a tensor is materialised, so an open checkpoint costs the header plus a mapping.
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Glassbox.Tensors;
using Microsoft.Win32.SafeHandles;

namespace Glassbox.Models.Checkpoints;

public sealed unsafe class SafetensorsFile : Checkpoint
{
    private readonly SafetensorsHeader _header;
    private readonly string[] _names;
    private MemoryMappedFile? _mmf;
    private MemoryMappedViewAccessor? _view;
    private byte* _base;          // start of the data section
    private readonly long _dataLength;

    public override string FilePath { get; }
    public override IReadOnlyList<string> Names => _names;
    public override IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Header length in bytes (without the 8-byte prefix).</summary>
    public long HeaderLength { get; }

    private SafetensorsFile(string path, SafetensorsHeader header, long headerLength, long dataLength)
    {
        FilePath = path;
        _header = header;
        HeaderLength = headerLength;
        _dataLength = dataLength;
        _names = header.Entries.Select(e => e.Info.Name).ToArray();
    }

    public static new SafetensorsFile Open(string path)
    {
        path = Path.GetFullPath(path);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        try
        {
            return OpenFrom(path, fs);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    private static SafetensorsFile OpenFrom(string path, FileStream fs)
    {
        long fileLength = fs.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || fs.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new CheckpointFormatException(path, $"file is {fileLength} bytes, too short for the 8-byte safetensors header length (truncated?).");
        long n = SafetensorsHeader.CheckLength(path, BinaryPrimitives.ReadUInt64LittleEndian(prefix), fileLength);
        var json = new byte[n];
        if (fs.ReadAtLeast(json, (int)n, throwOnEndOfStream: false) < n)
            throw new CheckpointFormatException(path, "file ended inside the header (truncated).");
        long dataLength = fileLength - 8 - n;
        var header = SafetensorsHeader.Parse(path, json, dataLength);
        var file = new SafetensorsFile(path, header, n, dataLength);
        file.Map(fs);
        return file;
    }

    /// <summary>Parses and validates a header held in memory (the whole file's bytes); used by tools and tests.</summary>
    public static IReadOnlyList<TensorInfo> ValidateBytes(string nameForErrors, ReadOnlySpan<byte> fileBytes)
    {
        if (fileBytes.Length < 8)
            throw new CheckpointFormatException(nameForErrors, $"file is {fileBytes.Length} bytes, too short for the 8-byte safetensors header length (truncated?).");
        long n = SafetensorsHeader.CheckLength(nameForErrors, BinaryPrimitives.ReadUInt64LittleEndian(fileBytes), fileBytes.Length);
        var header = SafetensorsHeader.Parse(nameForErrors, fileBytes.Slice(8, (int)n), fileBytes.Length - 8 - n);
        return header.Entries.Select(e => e.Info).ToList();
    }

    private void Map(FileStream fs)
    {
        _mmf = MemoryMappedFile.CreateFromFile(fs, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset + 8 + HeaderLength;
    }

    public override bool Contains(string name) => _header.ByName.ContainsKey(name);

    public override TensorInfo GetInfo(string name) => Entry(name).Info;

    private SafetensorsEntry Entry(string name)
    {
        if (_base == null) throw new ObjectDisposedException(nameof(SafetensorsFile), $"{FilePath} was used after Dispose.");
        return _header.ByName.TryGetValue(name, out var e) ? e : throw NotFound(name);
    }

    /// <summary>
    /// The tensor's bytes straight from the mapping, no copy. Valid until this file is disposed;
    /// tensors above 2 GB cannot be viewed as one span (use CopyBytes or ToTensor).
    /// </summary>
    public ReadOnlySpan<byte> GetSpan(string name)
    {
        var e = Entry(name);
        long len = e.End - e.Begin;
        if (len > int.MaxValue) throw new InvalidOperationException($"{FilePath}: tensor '{name}' is {len} bytes, too large for one span.");
        return new ReadOnlySpan<byte>(_base + e.Begin, (int)len);
    }

    public override void CopyBytes(string name, Span<byte> destination)
    {
        var e = Entry(name);
        long len = e.End - e.Begin;
        if (destination.Length != len)
            throw new ArgumentException($"{FilePath}: tensor '{name}' has {len} bytes, destination holds {destination.Length}.");
        new ReadOnlySpan<byte>(_base + e.Begin, (int)len).CopyTo(destination);
    }

    public override Tensor ToTensor(string name)
    {
        var e = Entry(name);
        RequireFloat(e.Info);
        var t = Tensor.Empty(e.Info.Shape);
        var dst = t.Span;
        int size = e.Info.DType.Size();
        // Convert in chunks so that tensors above 2 GB of storage never need one giant span.
        const int chunk = 1 << 20;
        for (int i = 0; i < dst.Length; i += chunk)
        {
            int count = Math.Min(chunk, dst.Length - i);
            var src = new ReadOnlySpan<byte>(_base + e.Begin + (long)i * size, count * size);
            DTypes.ToFloat32(e.Info.DType, src, dst.Slice(i, count));
        }
        return t;
    }

    public override void Dispose()
    {
        if (_view is not null)
        {
            if (_base != null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _view = null;
        }
        _mmf?.Dispose();
        _mmf = null;
        _base = null;
    }
}
