using System.Buffers.Binary;
using System.Text;
using Glassbox.Models.Checkpoints;

namespace Glassbox.Models.Tests;

/// <summary>Malformed and malicious checkpoints give a CheckpointFormatException naming the file and the problem.</summary>
public sealed class HostileInputTests
{
    private static CheckpointFormatException Refused(string path, string expectedFragment)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => { using var c = Checkpoint.Open(path); });
        Assert.Contains(path, e.Message);
        Assert.Contains(expectedFragment, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Path.GetFullPath(path), Path.GetFullPath(e.FilePath.Split(" (")[0]));
        return e;
    }

    private static string Write(TempDir dir, string name, byte[] bytes)
    {
        var p = dir.File(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private const string OneTensor = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    [Fact]
    public void AWellFormedHandMadeFileLoads()
    {
        using var dir = new TempDir();
        var p = Write(dir, "ok.safetensors", TestFiles.Safetensors(OneTensor, PickleBuilder.Floats(1.5f, -2f)));
        using var c = Checkpoint.Open(p);
        Assert.Equal([1.5f, -2f], c.ToTensor("a").ToArray());
    }

    [Fact]
    public void TruncatedFilesAreRefused()
    {
        using var dir = new TempDir();
        var real = File.ReadAllBytes(Path.Combine(SharedData.Model("vit-tiny-random"), "model.safetensors"));
        long headerLen = (long)BinaryPrimitives.ReadUInt64LittleEndian(real);
        foreach (var cut in new long[] { 0, 3, 8, 8 + headerLen / 2, 8 + headerLen, real.Length - 1 })
        {
            var p = Write(dir, $"cut{cut}.safetensors", real.AsSpan(0, (int)cut).ToArray());
            var e = Assert.Throws<CheckpointFormatException>(() => { using var c = Checkpoint.Open(p); });
            Assert.Contains(p, e.Message);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("past the end") || e.Message.Contains("larger than the rest"),
                $"cut at {cut}: {e.Message}");
        }
    }

    [Fact]
    public void HeaderLengthBeyondTheFileIsRefusedWithoutAllocatingIt()
    {
        using var dir = new TempDir();
        Refused(Write(dir, "long.safetensors", TestFiles.Safetensors(OneTensor, new byte[8], declaredLength: 1_000_000)), "larger than the rest of the file");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Refused(Write(dir, "huge.safetensors", TestFiles.Safetensors(OneTensor, new byte[8], declaredLength: ulong.MaxValue - 5)), "exceeds");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "run past the end")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", "run past the end")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F99\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unknown dtype 'F99'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,NaN]}}", "JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,8]}}", "JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[Infinity],\"data_offsets\":[0,8]}}", "JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "end before")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", "exactly two")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "missing data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "trailing data")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "unused bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x", "JSON")]
    [InlineData("[1,2,3,4]", "does not start with '{'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "JSON")]
    [InlineData("{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "not a string")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", "too large")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", "overflows")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", "not a non-negative integer")]
    public void BadHeadersAreRefused(string header, string fragment)
    {
        using var dir = new TempDir();
        Refused(Write(dir, "bad.safetensors", TestFiles.Safetensors(header, new byte[8])), fragment);
    }

    [Fact]
    public void InvalidUtf8InTheHeaderIsRefused()
    {
        using var dir = new TempDir();
        var h = Encoding.UTF8.GetBytes(OneTensor);
        h[3] = 0xFF; // inside the tensor name
        var bytes = new byte[8 + h.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        Refused(Write(dir, "utf8.safetensors", bytes), "JSON");
    }

    [Fact]
    public void ShardIndexCannotPointOutsideItsFolder()
    {
        using var dir = new TempDir();
        foreach (var shard in new[] { "../x.safetensors", "/etc/passwd", "a/../../b.safetensors" })
        {
            var p = dir.File("model.safetensors.index.json");
            File.WriteAllText(p, $"{{\"weight_map\":{{\"w\":\"{shard}\"}}}}");
            Refused(p, "not a plain relative file name");
        }
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\":{\"w\":NaN}}");
        Refused(dir.File("model.safetensors.index.json"), "JSON");
    }

    // ---- pickles and zips -----------------------------------------------------------------

    private static string TorchZip(TempDir dir, string name, byte[] pickle, params (string Name, byte[] Bytes)[] extra)
    {
        var p = dir.File(name);
        TestFiles.Zip(p, new[] { ("archive/data.pkl", pickle), ("archive/byteorder", "little"u8.ToArray()) }.Concat(extra));
        return p;
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("builtins", "exec")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("collections", "defaultdict")]
    public void APickleNamingAnUnsafeGlobalIsRefusedAndNothingRuns(string module, string name)
    {
        using var dir = new TempDir();
        string marker = dir.File("pwned");
        // A state dict whose first value is `os.system("touch <marker>")`.
        var pkl = new PickleBuilder().StateDictStart()
            .Str("weight").Global(module, name).Op('(').Str($"touch {marker}").Op('t').Op('R')
            .StateDictEnd().ToArray();
        var p = TorchZip(dir, "evil.bin", pkl);
        var e = Refused(p, $"refusing global '{module}.{name}'");
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void StackGlobalAndObjectBuildingOpcodesAreRefused()
    {
        using var dir = new TempDir();
        string marker = dir.File("pwned");
        // Protocol 4 STACK_GLOBAL spelling of os.system.
        var stackGlobal = new PickleBuilder().Proto().Str("os").Str("system").Op(0x93).Op('(').Str($"touch {marker}").Op('t').Op('R').Op('.').ToArray();
        Refused(TorchZip(dir, "sg.bin", stackGlobal), "refusing global 'os.system'");
        // INST builds an object by name without GLOBAL.
        var inst = new PickleBuilder().Proto().Op('(').Str($"touch {marker}").Op('i').ToArray().Concat(Encoding.ASCII.GetBytes("os\nsystem\n.")).ToArray();
        Refused(TorchZip(dir, "inst.bin", inst), "(INST) is not allowed");
        // REDUCE on something that is not an allowed callable.
        var reduceStr = new PickleBuilder().Proto().Str("os.system").Op(')').Op('R').Op('.').ToArray();
        Refused(TorchZip(dir, "red.bin", reduceStr), "REDUCE on 'os.system' is not allowed");
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("../../evil.txt")]
    [InlineData("/etc/cron.d/evil")]
    [InlineData("archive/../../evil")]
    [InlineData("archive\\..\\evil")]
    [InlineData("C:/evil")]
    public void ZipEntriesWithTraversalNamesAreRefused(string entryName)
    {
        using var dir = new TempDir();
        var pkl = new PickleBuilder().StateDictStart().StateDictEnd().ToArray();
        var p = TorchZip(dir, "trav.bin", pkl, (entryName, "x"u8.ToArray()));
        Refused(p, "path-traversal");
        Assert.False(File.Exists(Path.Combine(dir.Path, "evil.txt")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(dir.Path)!, "evil.txt")));
    }

    [Fact]
    public void LegacyAndNonZipTorchFilesAreRefusedClearly()
    {
        using var dir = new TempDir();
        Refused(Write(dir, "legacy.bin", [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]), "legacy");
        Refused(Write(dir, "junk.pt", Encoding.ASCII.GetBytes("PK\u0003\u0004 this is not really a zip file at all")), "zip");
    }

    [Fact]
    public void TorchStoragesAreCheckedAgainstTheirEntries()
    {
        using var dir = new TempDir();
        // Storage declares 4 floats but the entry holds 3.
        var pkl = new PickleBuilder().StateDictStart().Tensor("w", "FloatStorage", "0", 4, 0, [4], [1]).StateDictEnd().ToArray();
        Refused(TorchZip(dir, "short.bin", pkl, ("archive/data/0", PickleBuilder.Floats(1, 2, 3))), "12");
        // A view that reaches past its storage.
        var pkl2 = new PickleBuilder().StateDictStart().Tensor("w", "FloatStorage", "0", 4, 2, [2, 2], [2, 1]).StateDictEnd().ToArray();
        Refused(TorchZip(dir, "view.bin", pkl2, ("archive/data/0", PickleBuilder.Floats(1, 2, 3, 4))), "reaches element");
        // A storage key that is not in the zip.
        var pkl3 = new PickleBuilder().StateDictStart().Tensor("w", "FloatStorage", "7", 4, 0, [4], [1]).StateDictEnd().ToArray();
        Refused(TorchZip(dir, "nokey.bin", pkl3, ("archive/data/0", PickleBuilder.Floats(1, 2, 3, 4))), "not in the zip");
        // Truncated pickle.
        var pkl4 = new PickleBuilder().StateDictStart().Tensor("w", "FloatStorage", "0", 4, 0, [4], [1]).ToArray();
        Refused(TorchZip(dir, "trunc.bin", pkl4, ("archive/data/0", PickleBuilder.Floats(1, 2, 3, 4))), "truncated");
    }

    [Fact]
    public void CompressedEntriesAreRefusedSoATinyFileCannotInflate()
    {
        using var dir = new TempDir();
        // A 1 MB storage of zeros deflates to about a kilobyte: a zip bomb in miniature.
        var pkl = new PickleBuilder().StateDictStart().Tensor("w", "FloatStorage", "0", 262144, 0, [262144], [1]).StateDictEnd().ToArray();
        var p = dir.File("bomb.bin");
        using (var fs = File.Create(p))
        using (var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create))
        {
            foreach (var (name, bytes, level) in new[] { ("archive/data.pkl", pkl, System.IO.Compression.CompressionLevel.NoCompression), ("archive/data/0", new byte[1 << 20], System.IO.Compression.CompressionLevel.Optimal) })
            {
                using var s = zip.CreateEntry(name, level).Open();
                s.Write(bytes);
            }
        }
        Assert.True(new FileInfo(p).Length < 100_000);
        Refused(p, "compressed");
    }

    [Fact]
    public void Protocol4PicklesWithFramesMemoizeAndStackGlobalLoad()
    {
        using var dir = new TempDir();
        var b = new PickleBuilder();
        void Short(string text) { b.Op(0x8c).Op((byte)text.Length); foreach (var ch in text) b.Op((byte)ch); }
        b.Op(0x80).Op(4).Op(0x95);
        for (int i = 0; i < 8; i++) b.Op(0);                                  // FRAME (length unused)
        Short("collections"); b.Op(0x94); Short("OrderedDict"); b.Op(0x94);  // memo 0, 1
        b.Op(0x93).Op(0x94);                                                   // STACK_GLOBAL → memo 2
        b.Op(')').Op('R').Op(0x94).Op('(');                                    // OrderedDict() → memo 3; MARK
        Short("w"); b.Op(0x94);
        Short("torch._utils"); Short("_rebuild_tensor_v2"); b.Op(0x93).Op(0x94);
        b.Op('(').Op('(');
        Short("storage"); Short("torch"); Short("FloatStorage"); b.Op(0x93); Short("0"); Short("cpu"); b.Op('K').Op(2).Op('t').Op('Q');
        b.Op('K').Op(0).Op('K').Op(2).Op(0x85).Op('K').Op(1).Op(0x85).Op(0x89).Op('h').Op(2).Op(')').Op('R').Op('t').Op('R');
        b.Op('u').Op('.');
        var p = TorchZip(dir, "p4.bin", b.ToArray(), ("archive/data/0", PickleBuilder.Floats(3f, 4f)));
        using var c = Checkpoint.Open(p);
        Assert.Equal([3f, 4f], c.ToTensor("w").ToArray());
    }

    [Fact]
    public void StridedOffsetAndSharedStoragesMaterialiseCorrectly()
    {
        using var dir = new TempDir();
        float[] storage = [0, 1, 2, 3, 4, 5, 6, 7];
        var pkl = new PickleBuilder().StateDictStart()
            .Tensor("full", "FloatStorage", "0", 8, 0, [2, 4], [4, 1])
            .Tensor("transposed", "FloatStorage", "0", 8, 0, [4, 2], [1, 4])   // full.T, non-contiguous
            .Tensor("row1", "FloatStorage", "0", 8, 4, [4], [1])               // storage offset
            .Tensor("everyOther", "FloatStorage", "0", 8, 1, [4], [2])
            .Tensor("half", "HalfStorage", "1", 2, 0, [2], [1])
            .Tensor("ids", "LongStorage", "2", 2, 0, [2], [1])
            .StateDictEnd().ToArray();
        var halves = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(halves, BitConverter.HalfToUInt16Bits((Half)0.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(halves.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)(-3f)));
        var longs = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(longs, 101);
        BinaryPrimitives.WriteInt64LittleEndian(longs.AsSpan(8), -7);
        var p = TorchZip(dir, "views.bin", pkl, ("archive/data/0", PickleBuilder.Floats(storage)), ("archive/data/1", halves), ("archive/data/2", longs));
        using var c = Assert.IsType<TorchCheckpoint>(Checkpoint.Open(p));
        Assert.Equal([0f, 1, 2, 3, 4, 5, 6, 7], c.ToTensor("full").ToArray());
        Assert.Equal([0f, 4, 1, 5, 2, 6, 3, 7], c.ToTensor("transposed").ToArray());
        Assert.Equal([4f, 5, 6, 7], c.ToTensor("row1").ToArray());
        Assert.Equal([1f, 3, 5, 7], c.ToTensor("everyOther").ToArray());
        Assert.Equal([0.5f, -3f], c.ToTensor("half").ToArray());
        Assert.Equal([101L, -7L], c.ReadInt64("ids"));
        Assert.Equal([101, -7], c.ReadInt32("ids"));
        Assert.True(c.SharesStorage("full", "transposed"));
        Assert.Throws<InvalidOperationException>(() => c.ToTensor("ids"));
    }
}
