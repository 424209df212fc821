using Glassbox.Tokenizers.SentencePiece;

namespace Glassbox.Tokenizers.Tests;

// A `.model` file is untrusted input: truncated or corrupted files must fail with a
// FormatException that names the file and the field, and anything that does load must
// encode and decode without crashing.
public sealed class SentencePieceHostileFileTests
{
    private static readonly string[] Probes =
    [
        "", " ", "Hello, world!", "  a   b  ", "Café ﬁ ① 我爱 😍👨‍👩‍👧", "a\u0000b\u0007c", "<s> </s> <unk> <0x41>",
        new string('x', 300),
    ];

    private static string ModelPath(string name, string file) =>
        Path.Combine(SentencePiecePrecompiledCharsMapTests.SharedDir, "tokenizers", name, file);

    public static TheoryData<string, string> Models => new()
    {
        { "rut5-large", "spiece.model" },
        { "llama-2", "tokenizer.model" },
    };

    // Loads what can be loaded and exercises it; returns false when loading was refused.
    private static bool LoadAndExercise(byte[] data, string label)
    {
        SentencePieceProcessor sp;
        try
        {
            sp = new SentencePieceProcessor(SentencePieceModel.FromBytes(data, label));
        }
        catch (FormatException e)
        {
            Assert.Contains(label, e.Message);
            return false;
        }
        foreach (var text in Probes)
        {
            var enc = sp.Encode(text);
            Assert.Equal(enc.Ids.Length, enc.Pieces.Length);
            Assert.All(enc.Ids, id => Assert.InRange(id, 0, sp.VocabSize - 1));
            sp.Decode(enc.Ids);
            sp.DecodePieces(enc.Pieces);
        }
        return true;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TruncatedFilesFailClearly(string name, string file)
    {
        byte[] good = File.ReadAllBytes(ModelPath(name, file));
        var rng = new Random(20261201);
        var lengths = new List<int> { 1, 2, 3, 5, 10, 100, good.Length - 1, good.Length - 2 };
        for (int i = 0; i < 40; i++) lengths.Add(rng.Next(1, good.Length));
        int refused = 0;
        foreach (int len in lengths)
        {
            if (!LoadAndExercise(good[..len], $"{name}/{file}[..{len}]")) refused++;
        }
        Assert.True(refused > lengths.Count / 2, $"only {refused} of {lengths.Count} truncations were refused");
    }

    [Fact]
    public void TruncatedFileErrorNamesFileAndField()
    {
        string path = Path.Combine(Path.GetTempPath(), $"glassbox-truncated-{Guid.NewGuid():N}.model");
        byte[] good = File.ReadAllBytes(ModelPath("llama-2", "tokenizer.model"));
        File.WriteAllBytes(path, good[..1000]);
        try
        {
            var e = Assert.Throws<FormatException>(() => SentencePieceProcessor.FromFile(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("ModelProto.pieces", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void RandomMutationsNeverCrash(string name, string file)
    {
        byte[] good = File.ReadAllBytes(ModelPath(name, file));
        var rng = new Random(name.Length * 7919 + 17);
        for (int trial = 0; trial < 60; trial++)
        {
            byte[] data = (byte[])good.Clone();
            int edits = 1 + rng.Next(20);
            for (int k = 0; k < edits; k++)
            {
                // Favour the start (pieces) and the end (trainer/normalizer specs, charsmap).
                int pos = rng.Next(3) switch
                {
                    0 => rng.Next(Math.Min(4096, data.Length)),
                    1 => data.Length - 1 - rng.Next(Math.Min(300_000, data.Length)),
                    _ => rng.Next(data.Length),
                };
                data[pos] = (byte)rng.Next(256);
            }
            LoadAndExercise(data, $"{name}/{file} mutation {trial}");
        }
    }

    [Fact]
    public void GarbageAndEdgeFilesFailClearly()
    {
        Assert.Throws<FormatException>(() => SentencePieceModel.FromBytes([], "empty.model"));
        var e = Assert.Throws<FormatException>(() => SentencePieceModel.FromBytes("{\"version\": \"1.0\"}"u8.ToArray(), "tokenizer.json"));
        Assert.Contains("tokenizer.json", e.Message);
        // A length prefix that claims far more than the file holds must not allocate it.
        e = Assert.Throws<FormatException>(() => SentencePieceModel.FromBytes([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x0A], "huge.model"));
        Assert.Contains("ModelProto.pieces", e.Message);
        // Unterminated varint.
        Assert.Throws<FormatException>(() => SentencePieceModel.FromBytes([0x08, 0xFF, 0xFF], "varint.model"));
        // Deeply nested groups.
        var groups = Enumerable.Repeat((byte)0x5B, 1000).ToArray(); // field 11, start-group
        Assert.Throws<FormatException>(() => SentencePieceModel.FromBytes(groups, "groups.model"));
        Assert.Throws<FileNotFoundException>(() => SentencePieceModel.FromFile("/nonexistent/spiece.model"));
    }

    [Fact]
    public void InconsistentVocabulariesAreRefused()
    {
        // pieces: "a" (normal), "a" again -> duplicate.
        byte[] Piece(string s, int type)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(s);
            var inner = new List<byte> { 0x0A, (byte)bytes.Length };
            inner.AddRange(bytes);
            inner.AddRange([0x15, 0, 0, 0, 0, 0x18, (byte)type]);
            var outer = new List<byte> { 0x0A, (byte)inner.Count };
            outer.AddRange(inner);
            return outer.ToArray();
        }
        byte[] dup = [.. Piece("<unk>", 2), .. Piece("a", 1), .. Piece("a", 1)];
        var e = Assert.Throws<FormatException>(() => new SentencePieceProcessor(SentencePieceModel.FromBytes(dup, "dup.model")));
        Assert.Contains("already defined", e.Message);
        byte[] noUnk = [.. Piece("a", 1), .. Piece("b", 1)];
        e = Assert.Throws<FormatException>(() => new SentencePieceProcessor(SentencePieceModel.FromBytes(noUnk, "nounk.model")));
        Assert.Contains("UNKNOWN", e.Message);
        byte[] bytePiece = [.. Piece("<unk>", 2), .. Piece("<0x41>", 6)];
        e = Assert.Throws<FormatException>(() => new SentencePieceProcessor(SentencePieceModel.FromBytes(bytePiece, "byte.model")));
        Assert.Contains("byte_fallback", e.Message);
        byte[] badType = [.. Piece("<unk>", 2), .. Piece("a", 9)];
        e = Assert.Throws<FormatException>(() => SentencePieceModel.FromBytes(badType, "type.model"));
        Assert.Contains("pieces[1].type", e.Message);
    }
}
