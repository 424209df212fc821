// PyTorch's zip checkpoint (torch.save since 1.6): `<archive>/data.pkl` holds the pickled state
// dict, `<archive>/data/<key>` the raw storages. The zip is read in place through
// System.IO.Compression — nothing is extracted to disk — and every entry name is checked first,
// so an archive with absolute or `..` names is refused outright. The pickle goes through
// RestrictedUnpickler, which only describes tensors (storage, offset, size, stride); bytes are
// read from the storage entry when a tensor is materialised, gathering non-contiguous views.
using System.IO.Compression;
using Glassbox.Tensors;

namespace Glassbox.Models.Checkpoints;

public sealed class TorchCheckpoint : Checkpoint
{
    private const long MaxPickleBytes = 256L << 20;

    private readonly Stream _stream;
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _storageEntries;
    private readonly Dictionary<string, (TensorInfo Info, TensorRef Ref)> _tensors;
    private readonly string[] _names;
    private readonly object _lock = new();
    private static readonly Dictionary<string, string> s_noMetadata = [];

    public override string FilePath { get; }
    public override IReadOnlyList<string> Names => _names;
    public override IReadOnlyDictionary<string, string> Metadata => s_noMetadata;

    private TorchCheckpoint(string path, Stream stream, ZipArchive zip, Dictionary<string, ZipArchiveEntry> storages,
        Dictionary<string, (TensorInfo, TensorRef)> tensors, string[] names)
    {
        FilePath = path;
        _stream = stream;
        _zip = zip;
        _storageEntries = storages;
        _tensors = tensors;
        _names = names;
    }

    public static new TorchCheckpoint Open(string path)
    {
        path = Path.GetFullPath(path);
        return Open(path, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read));
    }

    /// <summary>Reads a torch zip from a seekable stream (owned by the checkpoint); <paramref name="nameForErrors"/> names it in errors.</summary>
    internal static TorchCheckpoint Open(string nameForErrors, Stream stream)
    {
        string path = nameForErrors;
        ZipArchive? zip = null;
        try
        {
            Span<byte> magic = stackalloc byte[4];
            int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            stream.Position = 0;
            if (got >= 1 && magic[0] == 0x80)
                throw new CheckpointFormatException(path, "this is a legacy (pre-1.6, non-zip) torch.save file, which is not supported: re-save it with torch >= 1.6 (torch.save(model.state_dict(), path)) or convert it to safetensors.");
            if (got < 4 || magic[0] != (byte)'P' || magic[1] != (byte)'K')
                throw new CheckpointFormatException(path, "not a PyTorch zip checkpoint (no zip signature).");
            try
            {
                zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
                return Build(path, stream, zip);
            }
            catch (Exception e) when (IsZipFailure(e))
            {
                throw new CheckpointFormatException(path, $"zip structure is corrupt: {e.Message}", e);
            }
        }
        catch
        {
            zip?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>What System.IO.Compression throws for damaged archives (as opposed to our own format errors).</summary>
    private static bool IsZipFailure(Exception e) =>
        e is InvalidDataException or NotSupportedException or EndOfStreamException or OverflowException or ArgumentException
        || (e is IOException && e is not FileNotFoundException && e is not DirectoryNotFoundException);

    private static TorchCheckpoint Build(string path, Stream fs, ZipArchive zip)
    {
        ZipArchiveEntry? pickle = null;
        string? prefix = null;
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var e in zip.Entries)
        {
            CheckEntryName(path, e.FullName);
            if (!entries.TryAdd(e.FullName, e))
                throw new CheckpointFormatException(path, $"zip has two entries named '{e.FullName}'.");
            var parts = e.FullName.Split('/');
            if (parts.Length == 2 && parts[1] == "data.pkl")
            {
                if (pickle is not null) throw new CheckpointFormatException(path, "zip has more than one data.pkl.");
                pickle = e;
                prefix = parts[0];
            }
        }
        if (pickle is null || prefix is null)
            throw new CheckpointFormatException(path, "zip has no '<archive>/data.pkl': not a torch.save checkpoint.");
        if (entries.TryGetValue(prefix + "/byteorder", out var bo))
        {
            string order = ReadSmallText(path, bo);
            if (order != "little") throw new CheckpointFormatException(path, $"byteorder is '{order}'; only little-endian checkpoints are supported.");
        }
        RequireStored(path, pickle);
        if (pickle.Length > MaxPickleBytes)
            throw new CheckpointFormatException(path, $"data.pkl is {pickle.Length} bytes, above the {MaxPickleBytes}-byte limit for a state dict.");
        byte[] pkl = ReadEntry(path, pickle, pickle.Length);
        object root = RestrictedUnpickler.Load($"{path} (data.pkl)", pkl);

        var dict = root as PyDict ?? throw new CheckpointFormatException(path, "data.pkl does not hold a dict (a state dict is expected).");
        dict = Unwrap(dict);
        var storages = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, (TensorInfo, TensorRef)>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var kv in dict.Items)
        {
            if (kv.Value is not TensorRef t) continue; // non-tensor extras (e.g. counters) are not weights
            if (kv.Key is not string name) throw new CheckpointFormatException(path, $"state dict key {kv.Key} is not a string.");
            if (!entries.TryGetValue($"{prefix}/data/{t.Storage.Key}", out var se))
                throw new CheckpointFormatException(path, $"tensor '{name}' refers to storage '{t.Storage.Key}', which is not in the zip.");
            long storageBytes;
            try { storageBytes = checked(t.Storage.NumElements * t.Storage.DType.Size()); }
            catch (OverflowException) { throw new CheckpointFormatException(path, $"tensor '{name}': storage element count overflows."); }
            RequireStored(path, se);
            if (se.Length != storageBytes)
                throw new CheckpointFormatException(path, $"tensor '{name}': storage '{t.Storage.Key}' should hold {t.Storage.NumElements} × {t.Storage.DType.Name()} = {storageBytes} bytes but its entry has {se.Length}.");
            CheckView(path, name, t);
            var shape = new int[t.Size.Length];
            for (int i = 0; i < shape.Length; i++)
            {
                if (t.Size[i] > int.MaxValue) throw new CheckpointFormatException(path, $"tensor '{name}': dimension {t.Size[i]} is too large.");
                shape[i] = (int)t.Size[i];
            }
            if (tensors.ContainsKey(name)) throw new CheckpointFormatException(path, $"state dict lists '{name}' twice.");
            tensors[name] = (new TensorInfo(name, t.Storage.DType, shape), t);
            storages[t.Storage.Key] = se;
            names.Add(name);
        }
        return new TorchCheckpoint(path, fs, zip, storages, tensors, names.ToArray());
    }

    /// <summary>Training checkpoints sometimes wrap the weights: {"state_dict": {...}} or {"model": {...}}.</summary>
    private static PyDict Unwrap(PyDict d)
    {
        if (d.Items.Any(kv => kv.Value is TensorRef)) return d;
        foreach (var key in new[] { "state_dict", "model", "model_state_dict", "module" })
            foreach (var kv in d.Items)
                if (kv.Key is string k && k == key && kv.Value is PyDict inner && inner.Items.Any(x => x.Value is TensorRef))
                    return inner;
        return d;
    }

    /// <summary>Refuses names that could escape a folder if anyone ever extracted them (absolute, drive, `..`, backslashes, NUL).</summary>
    internal static void CheckEntryName(string path, string name)
    {
        bool bad = name.Length == 0 || name.StartsWith('/') || name.Contains('\\') || name.Contains('\0') || name.Contains(':')
            || name.Split('/').Any(p => p == "..");
        if (bad)
            throw new CheckpointFormatException(path, $"zip entry '{name}' has an absolute or path-traversal name; refusing the file.");
    }

    /// <summary>
    /// torch.save stores every entry uncompressed. Refusing compressed entries keeps every read
    /// bounded by the file's own size (no zip bombs: a tiny file cannot make us allocate gigabytes).
    /// </summary>
    private static void RequireStored(string path, ZipArchiveEntry e)
    {
        if (e.CompressedLength != e.Length)
            throw new CheckpointFormatException(path, $"zip entry '{e.FullName}' is compressed ({e.CompressedLength} → {e.Length} bytes); torch.save never compresses, so the file is refused.");
    }

    private static void CheckView(string path, string name, TensorRef t)
    {
        long count = 1;
        foreach (var s in t.Size)
        {
            try { count = checked(count * s); }
            catch (OverflowException) { throw new CheckpointFormatException(path, $"tensor '{name}': size overflows."); }
        }
        if (count == 0) return;
        long last = t.Offset;
        try
        {
            for (int i = 0; i < t.Size.Length; i++) last = checked(last + (t.Size[i] - 1) * t.Stride[i]);
        }
        catch (OverflowException) { throw new CheckpointFormatException(path, $"tensor '{name}': strides overflow."); }
        if (last >= t.Storage.NumElements)
            throw new CheckpointFormatException(path, $"tensor '{name}' (offset {t.Offset}, size [{string.Join(", ", t.Size)}], stride [{string.Join(", ", t.Stride)}]) reaches element {last} of a {t.Storage.NumElements}-element storage.");
    }

    private static string ReadSmallText(string path, ZipArchiveEntry e)
    {
        if (e.Length > 64) throw new CheckpointFormatException(path, $"entry '{e.FullName}' is unexpectedly large.");
        return System.Text.Encoding.ASCII.GetString(ReadEntry(path, e, e.Length)).Trim();
    }

    /// <summary>Reads exactly <paramref name="expected"/> bytes from an entry (never more, whatever the entry claims once inflated).</summary>
    private static byte[] ReadEntry(string path, ZipArchiveEntry e, long expected)
    {
        var buf = new byte[expected];
        try
        {
            using var s = e.Open();
            int got = s.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            if (got != buf.Length) throw new CheckpointFormatException(path, $"entry '{e.FullName}' ended after {got} of {expected} bytes (truncated).");
        }
        catch (Exception ex) when (IsZipFailure(ex))
        {
            throw new CheckpointFormatException(path, $"entry '{e.FullName}' is corrupt or unreadable: {ex.Message}", ex);
        }
        return buf;
    }

    private (TensorInfo Info, TensorRef Ref) Get(string name) => _tensors.TryGetValue(name, out var t) ? t : throw NotFound(name);

    public override bool Contains(string name) => _tensors.ContainsKey(name);

    public override TensorInfo GetInfo(string name) => Get(name).Info;

    /// <summary>True when two names are views of one storage (tied weights saved once).</summary>
    public bool SharesStorage(string a, string b) => Get(a).Ref.Storage.Key == Get(b).Ref.Storage.Key;

    public override void CopyBytes(string name, Span<byte> destination)
    {
        var (info, r) = Get(name);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"{FilePath}: tensor '{name}' has {info.ByteLength} bytes, destination holds {destination.Length}.");
        byte[] storage;
        lock (_lock)
        {
            storage = ReadEntry(FilePath, _storageEntries[r.Storage.Key], r.Storage.NumElements * r.Storage.DType.Size());
        }
        Gather(storage, r, info.DType.Size(), destination);
    }

    /// <summary>Copies a strided view into contiguous row-major order.</summary>
    private static void Gather(byte[] storage, TensorRef r, int elem, Span<byte> dst)
    {
        int rank = r.Size.Length;
        if (dst.Length == 0) return;
        // Contiguous views (the usual case) are one block copy.
        bool contiguous = true;
        long expect = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            if (r.Size[i] != 1 && r.Stride[i] != expect) { contiguous = false; break; }
            expect *= r.Size[i];
        }
        if (contiguous)
        {
            storage.AsSpan(checked((int)(r.Offset * elem)), dst.Length).CopyTo(dst);
            return;
        }
        var index = new long[rank];
        long count = dst.Length / elem;
        for (long k = 0; k < count; k++)
        {
            long src = r.Offset;
            for (int i = 0; i < rank; i++) src += index[i] * r.Stride[i];
            storage.AsSpan((int)(src * elem), elem).CopyTo(dst.Slice((int)(k * elem), elem));
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++index[i] < r.Size[i]) break;
                index[i] = 0;
            }
        }
    }

    public override void Dispose()
    {
        _zip.Dispose();
        _stream.Dispose();
    }

}
