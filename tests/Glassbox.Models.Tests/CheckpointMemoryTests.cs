using System.Buffers.Binary;
using Glassbox.Models.Checkpoints;
using Xunit.Abstractions;

namespace Glassbox.Models.Tests;

[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public sealed class MemoryMeasurements;

/// <summary>Runs alone so that process-wide memory numbers are not disturbed by other tests.</summary>
[Collection(nameof(MemoryMeasurements))]
public sealed class CheckpointMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// Opening a 100 MB file costs the header plus a mapping; tensor bytes are only copied on
    /// materialisation. The numbers printed here are the ones quoted in docs/PERFORMANCE.md.
    /// </summary>
    [Fact]
    public void OpeningA100MegabyteFileCostsOnlyTheHeader()
    {
        using var dir = new TempDir();
        string path = dir.File("big.safetensors");
        const int tensors = 100, rows = 256, cols = 1024; // 100 × 1 MiB of F32
        WriteLargeFile(path, tensors, rows, cols);
        long fileBytes = new FileInfo(path).Length;
        Assert.True(fileBytes > 100_000_000);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long wsBefore = Environment.WorkingSet;
        long allocBefore = GC.GetAllocatedBytesForCurrentThread();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var c = Checkpoint.Open(path);
        double openMs = sw.Elapsed.TotalMilliseconds;
        long wsOpen = Environment.WorkingSet - wsBefore;
        long allocOpen = GC.GetAllocatedBytesForCurrentThread() - allocBefore;
        long heapOpen = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        Assert.Equal(tensors, c.Names.Count);

        long allocBeforeOne = GC.GetAllocatedBytesForCurrentThread();
        using (var one = c.ToTensor("t7"))
        {
            Assert.Equal(7f, one.Span[0]);
            Assert.Equal(7f + (rows * cols - 1) * 1e-6f, one.Span[^1], 3);
        }
        long allocOne = GC.GetAllocatedBytesForCurrentThread() - allocBeforeOne;
        long allocBeforeSpan = GC.GetAllocatedBytesForCurrentThread();
        var span = ((SafetensorsFile)c).GetSpan("t50");
        Assert.Equal(rows * cols * 4, span.Length);
        long allocSpan = GC.GetAllocatedBytesForCurrentThread() - allocBeforeSpan;

        // Touching every tensor through the mapping pages the file in (file-backed, reclaimable memory),
        // still without managed allocations.
        long allocBeforeTouch = GC.GetAllocatedBytesForCurrentThread();
        sw.Restart();
        double total = 0;
        foreach (var n in c.Names)
        {
            var s = ((SafetensorsFile)c).GetSpan(n);
            for (int i = 0; i < s.Length; i += 4096) total += s[i];
        }
        long allocTouch = GC.GetAllocatedBytesForCurrentThread() - allocBeforeTouch;
        double touchMs = sw.Elapsed.TotalMilliseconds;
        long wsTouched = Environment.WorkingSet - wsBefore;
        Assert.True(total > 0);

        string line = $"openMs={openMs:F2} touchAllMs={touchMs:F1} file={fileBytes} openAllocated={allocOpen} openRetained={heapOpen} openWorkingSet={wsOpen} " +
                      $"toTensorAllocated={allocOne} getSpanAllocated={allocSpan} touchAllAllocated={allocTouch} touchAllWorkingSet={wsTouched}";
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "glassbox-checkpoint-memory.txt"), line + "\n");
        Assert.True(allocOpen < 256 * 1024, $"opening allocated {allocOpen} bytes");
        Assert.True(heapOpen < 256 * 1024, $"opening retained {heapOpen} bytes");
        Assert.True(allocSpan < 4096, $"GetSpan allocated {allocSpan} bytes");
        Assert.True(allocTouch < 64 * 1024, $"reading through the mapping allocated {allocTouch} bytes");
    }

    private static void WriteLargeFile(string path, int tensors, int rows, int cols)
    {
        // Streamed, so the test itself never holds 100 MB.
        var w = new System.Text.StringBuilder("{");
        long offset = 0, bytesPer = (long)rows * cols * 4;
        for (int i = 0; i < tensors; i++)
        {
            if (i > 0) w.Append(',');
            w.Append($"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[{offset},{offset + bytesPer}]}}");
            offset += bytesPer;
        }
        w.Append('}');
        var header = System.Text.Encoding.UTF8.GetBytes(w.ToString());
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        fs.Write(prefix);
        fs.Write(header);
        var row = new byte[cols * 4];
        for (int t = 0; t < tensors; t++)
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(j * 4), t + (r * cols + j) * 1e-6f);
                fs.Write(row);
            }
    }
}
