using System.Buffers.Binary;
using System.IO.Compression;
using Glassbox.Models.Checkpoints;

namespace Glassbox.Models.Tests;

/// <summary>Seeded random corruption of real checkpoints: the only acceptable failure is CheckpointFormatException.</summary>
public sealed class FuzzTests
{
    private static byte[] Mutate(byte[] original, int headerEnd, Random rng)
    {
        var b = (byte[])original.Clone();
        int kind = rng.Next(10);
        switch (kind)
        {
            case 0: // random length prefix
                BinaryPrimitives.WriteUInt64LittleEndian(b, rng.Next(4) switch
                {
                    0 => (ulong)rng.NextInt64(),
                    1 => (ulong)rng.Next(0, headerEnd + 64),
                    2 => ulong.MaxValue - (ulong)rng.Next(100),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(b) ^ (1UL << rng.Next(64)),
                });
                return b;
            case 1: // truncate anywhere
                return b.AsSpan(0, rng.Next(b.Length)).ToArray();
            case 2: // flip bits in the header
                for (int i = rng.Next(1, 6); i > 0; i--) b[rng.Next(8, headerEnd)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 3: // replace header bytes with structural JSON characters
                {
                    const string chars = "{}[],:\"0123456789-.eE NaInfty\\";
                    for (int i = rng.Next(1, 4); i > 0; i--) b[rng.Next(8, headerEnd)] = (byte)chars[rng.Next(chars.Length)];
                    return b;
                }
            case 4: // change a digit (offsets and shapes)
                {
                    for (int tries = 0; tries < 50; tries++)
                    {
                        int i = rng.Next(8, headerEnd);
                        if (b[i] is >= (byte)'0' and <= (byte)'9') { b[i] = (byte)('0' + rng.Next(10)); break; }
                    }
                    return b;
                }
            case 5: // delete a header span (shifts everything; length prefix now wrong)
                {
                    int start = rng.Next(8, headerEnd), len = rng.Next(1, Math.Min(64, headerEnd - start + 1));
                    return b.AsSpan(0, start).ToArray().Concat(b.AsSpan(start + len).ToArray()).ToArray();
                }
            case 6: // duplicate a header span
                {
                    int start = rng.Next(8, headerEnd), len = rng.Next(1, Math.Min(64, headerEnd - start + 1));
                    return b.AsSpan(0, start + len).ToArray().Concat(b.AsSpan(start, len).ToArray()).Concat(b.AsSpan(start + len).ToArray()).ToArray();
                }
            case 7: // random bytes anywhere in the header
                for (int i = rng.Next(1, 16); i > 0; i--) b[rng.Next(8, headerEnd)] = (byte)rng.Next(256);
                return b;
            case 8: // append or drop data bytes
                return rng.Next(2) == 0 ? b.Concat(new byte[rng.Next(1, 16)]).ToArray() : b.AsSpan(0, b.Length - rng.Next(1, 16)).ToArray();
            default: // swap two header bytes
                {
                    int i = rng.Next(8, headerEnd), j = rng.Next(8, headerEnd);
                    (b[i], b[j]) = (b[j], b[i]);
                    return b;
                }
        }
    }

    [Fact]
    public void ThousandsOfCorruptedSafetensorsHeadersOnlyEverRaiseTheFormatException()
    {
        var original = File.ReadAllBytes(Path.Combine(SharedData.Model("vit-tiny-random"), "model.safetensors"));
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var rng = new Random(20261201);
        int refused = 0, accepted = 0;
        for (int iter = 0; iter < 5000; iter++)
        {
            var bytes = Mutate(original, headerEnd, rng);
            try
            {
                var infos = SafetensorsFile.ValidateBytes("fuzz.safetensors", bytes);
                // Whatever was accepted must describe spans inside the data.
                Assert.True(infos.Sum(i => i.ByteLength) <= bytes.Length);
                accepted++;
            }
            catch (CheckpointFormatException e)
            {
                Assert.StartsWith("fuzz.safetensors: ", e.Message);
                refused++;
            }
        }
        Assert.True(refused > 4000, $"refused {refused}, accepted {accepted}");
    }

    [Fact]
    public void CorruptedSafetensorsFilesOnDiskOnlyEverRaiseTheFormatException()
    {
        // Fewer iterations through the real file path (mapping included).
        using var dir = new TempDir();
        var original = File.ReadAllBytes(Path.Combine(SharedData.Model("vit-tiny-random"), "model.safetensors"));
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var rng = new Random(7);
        string path = dir.File("m.safetensors");
        for (int iter = 0; iter < 300; iter++)
        {
            File.WriteAllBytes(path, Mutate(original, headerEnd, rng));
            try
            {
                using var c = Checkpoint.Open(path);
                foreach (var n in c.Names) if (c.GetInfo(n).DType.IsFloat()) c.ToTensor(n).Dispose();
            }
            catch (CheckpointFormatException e)
            {
                Assert.Contains(path, e.Message);
            }
        }
    }

    [Fact]
    public void ThousandsOfCorruptedPicklesOnlyEverRaiseTheFormatException()
    {
        byte[] pickle;
        using (var zip = ZipFile.OpenRead(Path.Combine(SharedData.Model("bert-tiny-random-mlm"), "pytorch_model.bin")))
        using (var s = zip.GetEntry("pytorch_model/data.pkl")!.Open())
        using (var ms = new MemoryStream())
        {
            s.CopyTo(ms);
            pickle = ms.ToArray();
        }
        Assert.NotNull(RestrictedUnpickler.Load("ok", pickle));
        var rng = new Random(42);
        int refused = 0;
        for (int iter = 0; iter < 3000; iter++)
        {
            var b = (byte[])pickle.Clone();
            switch (rng.Next(4))
            {
                case 0: for (int i = rng.Next(1, 4); i > 0; i--) b[rng.Next(b.Length)] = (byte)rng.Next(256); break;
                case 1: b = b.AsSpan(0, rng.Next(b.Length)).ToArray(); break;
                case 2: for (int i = rng.Next(1, 4); i > 0; i--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8)); break;
                default:
                    {
                        int start = rng.Next(b.Length), len = rng.Next(1, Math.Min(32, b.Length - start + 1));
                        b = b.AsSpan(0, start).ToArray().Concat(b.AsSpan(start + len).ToArray()).ToArray();
                        break;
                    }
            }
            try
            {
                RestrictedUnpickler.Load("fuzz.pkl", b);
            }
            catch (CheckpointFormatException e)
            {
                Assert.StartsWith("fuzz.pkl: ", e.Message);
                refused++;
            }
        }
        Assert.True(refused > 1000, $"refused only {refused}");
    }

    [Fact]
    public void CorruptedTorchZipsOnlyEverRaiseTheFormatException()
    {
        var original = File.ReadAllBytes(Path.Combine(SharedData.Model("bert-tiny-random-mlm"), "pytorch_model.bin"));
        var buffer = (byte[])original.Clone();
        // The zip structure lives at both ends: local headers + data.pkl at the start, the central directory at the end.
        const int head = 12_000, tail = 8_000;
        var rng = new Random(1234);
        int refused = 0;
        for (int iter = 0; iter < 1500; iter++)
        {
            int length = buffer.Length;
            var touched = new List<int>();
            int kind = rng.Next(5);
            if (kind == 0) length = rng.Next(0, buffer.Length);
            else
            {
                for (int i = rng.Next(1, 8); i > 0; i--)
                {
                    int pos = rng.Next(2) == 0 ? rng.Next(head) : buffer.Length - 1 - rng.Next(tail);
                    touched.Add(pos);
                    buffer[pos] = kind == 1 ? (byte)rng.Next(256) : (byte)(buffer[pos] ^ (1 << rng.Next(8)));
                }
            }
            try
            {
                using var c = TorchCheckpoint.Open("fuzz.bin", new MemoryStream(buffer, 0, length, writable: false));
                foreach (var n in c.Names.Where(n => c.GetInfo(n).ByteLength < 10_000))
                    if (c.GetInfo(n).DType.IsFloat()) c.ToTensor(n).Dispose();
            }
            catch (CheckpointFormatException e)
            {
                Assert.StartsWith("fuzz.bin", e.Message);
                refused++;
            }
            foreach (var pos in touched) buffer[pos] = original[pos];
        }
        Assert.True(refused > 300, $"refused only {refused}");
    }
}
