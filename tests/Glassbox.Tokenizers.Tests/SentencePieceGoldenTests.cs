using System.Text.Json;
using Glassbox.Tokenizers.SentencePiece;
using Xunit.Abstractions;

namespace Glassbox.Tokenizers.Tests;

// Every case of ../shared/golden/tokenizers/*-spm.json: the `.model` file run through the
// sentencepiece library (0.2.2) itself, with no special tokens. The issue names t5-small,
// albert-base-v2 and tinyllama; the shared folder stands rut5-large's spiece.model in for
// t5-small (Unigram + nmt_nfkc charsmap) and Llama-2's tokenizer.model for tinyllama (the same
// file: BPE with byte fallback). ALBERT's spiece.model was not obtainable, so there is no
// albert golden here; its path (Unigram, charsmap, lowercasing done by the tokenizer class) is
// covered by the rut5 model.
public sealed class SentencePieceGoldenTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Models => new()
    {
        { "rut5-large", "spiece.model" },
        { "llama-2", "tokenizer.model" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesSentencePieceLibrary(string name, string modelFile)
    {
        string shared = SentencePiecePrecompiledCharsMapTests.SharedDir;
        var sp = SentencePieceProcessor.FromFile(Path.Combine(shared, "tokenizers", name, modelFile));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(shared, "golden", "tokenizers", name + "-spm.json")));
        var root = doc.RootElement;
        Assert.Equal(root.GetProperty("vocab_size").GetInt32(), sp.VocabSize);
        Assert.Equal(root.GetProperty("unk_id").GetInt32(), sp.UnkId);
        Assert.Equal(root.GetProperty("bos_id").GetInt32(), sp.BosId);
        Assert.Equal(root.GetProperty("eos_id").GetInt32(), sp.EosId);
        Assert.Equal(root.GetProperty("pad_id").GetInt32(), sp.PadId);

        int cases = 0, idMismatches = 0, pieceMismatches = 0, decodeMismatches = 0;
        var failures = new List<string>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            cases++;
            string text = c.GetProperty("text").GetString()!;
            int[] ids = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            string[] pieces = c.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()!).ToArray();
            string decoded = c.GetProperty("decoded").GetString()!;

            var enc = sp.Encode(text);
            if (!enc.Ids.SequenceEqual(ids))
            {
                idMismatches++;
                failures.Add($"ids {JsonSerializer.Serialize(text)}: expected [{string.Join(",", ids)}] got [{string.Join(",", enc.Ids)}]");
            }
            if (!enc.Pieces.SequenceEqual(pieces))
            {
                pieceMismatches++;
                failures.Add($"pieces {JsonSerializer.Serialize(text)}: expected {JsonSerializer.Serialize(pieces)} got {JsonSerializer.Serialize(enc.Pieces)}");
            }
            string dec = sp.Decode(ids);
            if (dec != decoded)
            {
                decodeMismatches++;
                failures.Add($"decode {JsonSerializer.Serialize(text)}: expected {JsonSerializer.Serialize(decoded)} got {JsonSerializer.Serialize(dec)}");
            }
            Assert.Equal(enc.Ids.Length, enc.Offsets.Length);
        }
        output.WriteLine($"{name}-spm: {cases} cases, mismatches: ids {idMismatches}, pieces {pieceMismatches}, decoded {decodeMismatches}");
        foreach (var f in failures.Take(30)) output.WriteLine(f);
        Assert.True(failures.Count == 0,
            $"{name}-spm: {cases} cases, mismatches: ids {idMismatches}, pieces {pieceMismatches}, decoded {decodeMismatches}\n" + string.Join("\n", failures.Take(20)));
    }
}
