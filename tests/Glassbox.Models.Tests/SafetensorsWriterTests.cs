using System.Buffers.Binary;
using Glassbox.Models.Checkpoints;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public sealed class SafetensorsWriterTests
{
    [Fact]
    public void RoundTripsEveryDTypeWithMetadata()
    {
        using var dir = new TempDir();
        var path = dir.File("rt.safetensors");
        using var a = Tensor.FromArray([1f, -2.5f, 3.25f, 0.125f, 65504f, -0f], 2, 3);
        var w = new SafetensorsWriter();
        w.Metadata["note"] = "glassbox";
        w.Add("a32", a).Add("a16", a, DType.F16).Add("abf", a, DType.BF16).Add("a64", a, DType.F64)
         .Add("ids", new long[] { 1, -2, 3 }, [3]).Add("mask", new[] { 1, 0 }, [1, 2])
         .AddRaw("flags", DType.Bool, [2], [1, 0]).AddRaw("empty", DType.F32, [0, 4], []);
        w.Save(path);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));

        using var c = Checkpoint.Open(path);
        Assert.Equal("glassbox", c.Metadata["note"]);
        Assert.Equal("pt", c.Metadata["format"]);
        Assert.Equal(["a32", "a16", "abf", "a64", "ids", "mask", "flags", "empty"], c.Names);
        Assert.Equal(a.ToArray(), c.ToTensor("a32").ToArray());
        Assert.Equal(a.ToArray(), c.ToTensor("a16").ToArray()); // all exactly representable in fp16
        Assert.Equal(a.ToArray().Select(v => (float)BitConverter.Int32BitsToSingle((int)(DTypes_RoundBF16(v) << 16))), c.ToTensor("abf").ToArray());
        Assert.Equal(a.ToArray(), c.ToTensor("a64").ToArray());
        Assert.Equal([1L, -2, 3], c.ReadInt64("ids"));
        Assert.Equal([1, 0], c.ReadInt32("mask"));
        Assert.Equal([1L, 0], c.ReadInt64("flags"));
        Assert.Equal([0, 4], c.GetInfo("empty").Shape);
        Assert.Equal(0, c.ToTensor("empty").Length);
        Assert.Equal(new[] { 2, 3 }, c.GetInfo("a16").Shape);
        Assert.Equal(DType.BF16, c.GetInfo("abf").DType);
        // The header length is a multiple of 8 (padded with spaces like the reference writer).
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8);
    }

    private static uint DTypes_RoundBF16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
    }

    [Fact]
    public void SaveReplacesAnExistingFileAtomically()
    {
        using var dir = new TempDir();
        var path = dir.File("m.safetensors");
        File.WriteAllText(path, "old contents");
        using var t = Tensor.FromArray([1f, 2f], 2);
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = t });
        using var c = Checkpoint.Open(path);
        Assert.Equal([1f, 2f], c.ToTensor("w").ToArray());
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void RewritingARealCheckpointIsByteForByteStable()
    {
        using var dir = new TempDir();
        var src = Path.Combine(SharedData.Model("bert-tiny-random-qa"), "model.safetensors");
        using var c = Checkpoint.Open(src);
        var w = new SafetensorsWriter();
        foreach (var i in c.Infos) w.AddRaw(i.Name, i.DType, i.Shape, c.ReadBytes(i.Name));
        var path = dir.File("copy.safetensors");
        w.Save(path);
        using var copy = Checkpoint.Open(path);
        Assert.Equal(c.Names.OrderBy(n => n, StringComparer.Ordinal), copy.Names.OrderBy(n => n, StringComparer.Ordinal));
        foreach (var n in c.Names) Assert.True(c.ReadBytes(n).AsSpan().SequenceEqual(copy.ReadBytes(n)));
    }

    [Fact]
    public void WriterRejectsBadInput()
    {
        var w = new SafetensorsWriter();
        Assert.Throws<ArgumentException>(() => w.AddRaw("x", DType.F32, [3], new byte[8]));
        w.AddRaw("x", DType.F32, [2], new byte[8]);
        Assert.Throws<ArgumentException>(() => w.AddRaw("x", DType.F32, [2], new byte[8]));
        Assert.Throws<ArgumentException>(() => w.AddRaw("__metadata__", DType.F32, [2], new byte[8]));
    }
}
