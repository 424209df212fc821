using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Tokenizers;

namespace Glassbox.Onnx.Tests;

public sealed class OnnxClassifierTests
{
    private static readonly string[] Sst2Labels = ["NEGATIVE", "POSITIVE"];

    [Fact]
    public void LogitsEqualOnnxGolden()
    {
        using var model = OnnxClassifier.Load(Shared.Model("distilbert-sst2-tiny-onnx"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Shared.Model("distilbert-sst2-tiny-onnx"), "onnx-golden.json")));
        var tokenizer = Tokenizer.FromFile(Path.Combine(Shared.Model("distilbert-sst2-tiny-onnx"), "tokenizer.json"));
        int cases = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var ids = c.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            // Our tokenizer gives the same ids as the export's (the golden's ids are transformers').
            Assert.Equal(ids, tokenizer.Encode(c.GetProperty("text").GetString()!).Ids.ToArray());
            var logits = model.Logits(ModelInput.Single(ids));
            var expected = c.GetProperty("onnxruntime_logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(expected.Length, logits.GetLength(1));
            for (int j = 0; j < expected.Length; j++) Assert.True(Math.Abs(expected[j] - logits[0, j]) <= 1e-5, $"case {cases} class {j}: {logits[0, j]} vs {expected[j]}");
            cases++;
        }
        Assert.Equal(4, cases);
        Assert.Equal(["LABEL_0", "LABEL_1"], model.OutputNames); // no config.json beside the export
        Assert.False(model.SupportsGradients);
        Assert.Null(model.Hooks);
    }

    [Fact]
    public void PaddedBatchGivesTheSameScoresAsTheNativeModel()
    {
        using var onnx = OnnxClassifier.Load(Path.Combine(Shared.Model("distilbert-sst2-tiny-onnx"), "model.onnx"), Sst2Labels);
        var native = AutoModel.FromPretrained(Shared.Model("distilbert-sst2-tiny"));
        var tokenizer = Tokenizer.FromFile(Path.Combine(Shared.Model("distilbert-sst2-tiny"), "tokenizer.json"));
        string[] texts = ["a masterpiece of quiet grace", "not good", "the plot is thin but the acting is superb and the score soars", "dull ."];
        var input = ModelInput.Pad(texts.Select(t => tokenizer.Encode(t).Ids.ToArray()).ToList(), padId: 0);
        using var a = onnx.Predict(input);
        using var b = new TransformerExplainable(native, "native", Sst2Labels).Predict(input);
        Assert.Equal(b.Shape, a.Shape);
        for (int i = 0; i < a.Span.Length; i++) Assert.True(Math.Abs(a.Span[i] - b.Span[i]) <= 1e-4, $"score {i}: onnx {a.Span[i]} native {b.Span[i]}");
    }

    [Fact]
    public void OcclusionAttributionsEqualTheNativePathAndGradientMethodsRefuse()
    {
        using var onnx = OnnxClassifier.Load(Shared.Model("distilbert-sst2-tiny-onnx"), Sst2Labels);
        var tokenizer = Tokenizer.FromFile(Path.Combine(Shared.Model("distilbert-sst2-tiny-onnx"), "tokenizer.json"));
        var black = new SequenceClassificationExplainer(onnx, tokenizer);
        var white = SequenceClassificationExplainer.FromPretrained(Shared.Model("distilbert-sst2-tiny"));
        var options = new ExplainerOptions { Method = AttributionMethod.Occlusion };
        foreach (var text in new[] { "The movie was not good at all.", "A gorgeous, witty, seductive movie." })
        {
            var b = black.Explain(text, options: options);
            var w = white.Explain(text, options: options);
            Assert.Equal(w.PredictedClassName, b.PredictedClassName);
            Assert.Equal(w.Attribution.Tokens.Count, b.Attribution.Tokens.Count);
            for (int i = 0; i < w.Attribution.Tokens.Count; i++)
                Assert.True(Math.Abs(w.Attribution.Tokens[i].Raw - b.Attribution.Tokens[i].Raw) <= 1e-4, $"token {i}");
            // LIME and KernelSHAP run on it too.
            Assert.Equal(w.Attribution.Tokens.Count, black.Explain(text, options: options with { Method = AttributionMethod.Lime, Samples = 30 }).Attribution.Tokens.Count);
            Assert.Equal(w.Attribution.Tokens.Count, black.Explain(text, options: options with { Method = AttributionMethod.KernelShap, Samples = 30 }).Attribution.Tokens.Count);
        }
        var ex = Assert.Throws<NotSupportedException>(() => black.Explain("fine", options: new ExplainerOptions { Method = AttributionMethod.Lig }));
        Assert.Contains("black-box", ex.Message);
        Assert.Contains("occlusion", ex.Message);
    }

    [Fact]
    public void ConfigBesideTheExportGivesLabels()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(Shared.Model("distilbert-sst2-tiny-onnx"), "model.onnx"), Path.Combine(dir.Path, "model.onnx"));
        File.Copy(Path.Combine(Shared.Model("distilbert-sst2-tiny"), "config.json"), Path.Combine(dir.Path, "config.json"));
        using var model = OnnxClassifier.Load(dir.Path);
        Assert.Equal(Sst2Labels, model.OutputNames);
    }

    [Fact]
    public void UnexpectedInputsAreListed()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "image.onnx");
        File.WriteAllBytes(path, TinyOnnx.Identity("pixel_values", "logits"));
        var ex = Assert.Throws<ArgumentException>(() => OnnxClassifier.Load(path));
        Assert.Contains("pixel_values", ex.Message);
        Assert.Contains("input_ids", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void MissingAndCorruptFilesGiveClearErrors()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope.onnx");
        Assert.Contains("nope.onnx", Assert.Throws<FileNotFoundException>(() => OnnxClassifier.Load(missing)).Message);
        var corrupt = Path.Combine(dir.Path, "corrupt.onnx");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 0xff, 0xfe]);
        Assert.Contains("corrupt.onnx", Assert.Throws<ArgumentException>(() => OnnxClassifier.Load(corrupt)).Message);
        Assert.Contains("3 labels", Assert.Throws<ArgumentException>(() => OnnxClassifier.Load(Shared.Model("distilbert-sst2-tiny-onnx"), ["a", "b", "c"])).Message);
    }
}

internal static class Shared
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
        }
        throw new DirectoryNotFoundException("../shared (with models/) was not found above the test binaries; CI places it beside the repository.");
    });

    public static string Model(string name) => Path.Combine(s_root.Value, "models", name);
}

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("glassbox-onnx-").FullName;
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

/// <summary>Writes a minimal valid ONNX protobuf (one Identity node), for bad-input tests.</summary>
internal static class TinyOnnx
{
    public static byte[] Identity(string input, string output)
    {
        static byte[] ValueInfo(string name) => Msg(Str(1, name), Sub(2, Sub(1, Concat(Varint(1, 1), Sub(2, Concat(Sub(1, Varint(1, 1)), Sub(1, Varint(1, 3))))))));
        var node = Concat(Str(1, input), Str(2, output), Str(3, "id"), Str(4, "Identity"));
        var graph = Concat(Sub(1, node), Str(2, "g"), Sub(11, ValueInfo(input)), Sub(12, ValueInfo(output)));
        var opset = Concat(Str(1, ""), Varint(2, 17));
        return Concat(Varint(1, 8), Str(2, "glassbox-test"), Sub(7, graph), Sub(8, opset));
    }

    private static byte[] Msg(params byte[][] parts) => Concat(parts);
    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
    private static byte[] Key(int field, int wire) => V((ulong)((field << 3) | wire));
    private static byte[] Varint(int field, long value) => Concat(Key(field, 0), V((ulong)value));
    private static byte[] Str(int field, string s) => Sub(field, System.Text.Encoding.UTF8.GetBytes(s));
    private static byte[] Sub(int field, byte[] body) => Concat(Key(field, 2), V((ulong)body.Length), body);

    private static byte[] V(ulong v)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(v & 0x7f);
            v >>= 7;
            if (v != 0) b |= 0x80;
            bytes.Add(b);
        } while (v != 0);
        return bytes.ToArray();
    }
}
