// Compares a forward pass with a forward.json golden (computed in float64 by transformers).
// Logits over a vocabulary are summarised in the golden (sampled ids, top-10, logsumexp, sum,
// argmax per position); smaller heads are given whole. Tolerance: 1e-4 absolute (+1e-4 relative
// for logits), as the architectures issue asks.
using System.Text.Json;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

internal sealed class ForwardGolden : IDisposable
{
    private readonly JsonDocument _doc;
    public string Model { get; }
    public JsonElement Root => _doc.RootElement;
    public JsonElement[] Cases => [.. Root.GetProperty("cases").EnumerateArray()];

    public ForwardGolden(string model)
    {
        Model = model;
        _doc = PythonJson.Parse(Path.Combine(SharedData.Model(model), "forward.json"));
    }

    public void Dispose() => _doc.Dispose();

    public static int[,] Ints2(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var a = new int[rows.Length, rows.Length == 0 ? 0 : rows[0].Length];
        for (int i = 0; i < rows.Length; i++) for (int j = 0; j < rows[i].Length; j++) a[i, j] = rows[i][j];
        return a;
    }

    public static int[] Flat(int[,] a) => a.Cast<int>().ToArray();

    /// <summary>The case's inputs as a ModelInput (input_ids, attention_mask, token_type_ids).</summary>
    public static ModelInput Input(JsonElement c)
    {
        var inputs = c.GetProperty("inputs");
        var ids = Ints2(inputs.GetProperty("input_ids"));
        int b = ids.GetLength(0), s = ids.GetLength(1);
        int[]? mask = inputs.TryGetProperty("attention_mask", out var m) ? Flat(Ints2(m)) : null;
        int[]? types = inputs.TryGetProperty("token_type_ids", out var t) ? Flat(Ints2(t)) : null;
        return new ModelInput(b, s, Flat(ids), mask, types);
    }

    public static (double[] Values, int[] Shape) Nested(JsonElement e)
    {
        var shape = new List<int>();
        var cur = e;
        while (cur.ValueKind == JsonValueKind.Array) { shape.Add(cur.GetArrayLength()); if (cur.GetArrayLength() == 0) break; cur = cur[0]; }
        var vals = new List<double>();
        void Walk(JsonElement x) { if (x.ValueKind == JsonValueKind.Array) foreach (var y in x.EnumerateArray()) Walk(y); else vals.Add(x.ValueKind == JsonValueKind.Null ? double.NaN : x.GetDouble()); }
        Walk(e);
        return ([.. vals], [.. shape]);
    }

    /// <summary>Elementwise check of a whole tensor; `valid` (optional) skips padded positions.</summary>
    public static void AssertClose(string what, JsonElement expected, Tensor actual, double atol = 1e-4, double rtol = 0, Func<int, bool>? valid = null)
    {
        var (vals, shape) = Nested(expected);
        Assert.True(shape.SequenceEqual(actual.Shape), $"{what}: golden shape {ShapeUtil.Format(shape)} vs ours {ShapeUtil.Format(actual.Shape)}");
        var a = actual.Span;
        double worst = 0; int worstAt = -1;
        for (int i = 0; i < vals.Length; i++)
        {
            if (valid is not null && !valid(i)) continue;
            double d = Math.Abs(vals[i] - a[i]) - rtol * Math.Abs(vals[i]);
            if (d > worst) { worst = d; worstAt = i; }
        }
        Assert.True(worst <= atol, $"{what}: max excess error {worst:E3} at flat index {worstAt} (golden {(worstAt >= 0 ? vals[worstAt] : 0)}, ours {(worstAt >= 0 ? a[worstAt] : 0)})");
    }

    /// <summary>Checks logits either whole or through the golden's summary (sampled, top-k, lse, sum, argmax).</summary>
    public static void AssertLogits(string what, JsonElement expected, Tensor logits, Func<int, bool>? validRow = null)
    {
        if (expected.ValueKind == JsonValueKind.Array) { AssertClose(what, expected, logits, 1e-4, 1e-4, validRow is null ? null : i => validRow(i / logits.Shape[^1])); return; }
        var shape = expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(logits.Shape), $"{what}: golden shape {ShapeUtil.Format(shape)} vs ours {ShapeUtil.Format(logits.Shape)}");
        int v = shape[^1], rows = logits.Length / v;
        var L = logits.Span;
        var sampleIds = expected.GetProperty("sample_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var sampled = Nested(expected.GetProperty("sampled")).Values;
        var topIds = Nested(expected.GetProperty("top_ids")).Values;
        var topValues = Nested(expected.GetProperty("top_values")).Values;
        var lse = Nested(expected.GetProperty("logsumexp")).Values;
        var sum = Nested(expected.GetProperty("sum")).Values;
        var argmax = Nested(expected.GetProperty("argmax")).Values;
        int k = topIds.Length / rows;
        for (int r = 0; r < rows; r++)
        {
            if (validRow is not null && !validRow(r)) continue;
            var row = L.Slice(r * v, v);
            for (int j = 0; j < sampleIds.Length; j++) Near(sampled[r * sampleIds.Length + j], row[sampleIds[j]], $"{what} row {r} id {sampleIds[j]}");
            for (int j = 0; j < k; j++) Near(topValues[r * k + j], row[(int)topIds[r * k + j]], $"{what} row {r} top id {topIds[r * k + j]}");
            double m = double.NegativeInfinity, s = 0, tot = 0;
            foreach (var x in row) m = Math.Max(m, x);
            foreach (var x in row) { s += Math.Exp(x - m); tot += x; }
            Near(lse[r], m + Math.Log(s), $"{what} row {r} logsumexp");
            Assert.True(Math.Abs(sum[r] - tot) <= 1e-4 * v + 1e-4 * Math.Abs(sum[r]), $"{what} row {r}: sum {tot} vs golden {sum[r]}");
            int am = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
            Assert.True(am == (int)argmax[r] || Math.Abs(row[am] - row[(int)argmax[r]]) < 1e-5, $"{what} row {r}: argmax {am} vs golden {argmax[r]}");
        }

        static void Near(double e, double a, string what) =>
            Assert.True(Math.Abs(e - a) <= 1e-4 + 1e-4 * Math.Abs(e), $"{what}: golden {e}, ours {a}");
    }
}
