// `glassbox serve` with models that are not Glassbox transformers: the ONNX export of the SST-2 model
// (its probabilities are the softmax of onnx-golden.json's ONNX Runtime logits), an HTTP classifier the
// test serves on loopback (a lexicon: p(positive) = σ(#good − #bad)), and datasets read with
// --text-column/--label-column. Bad input — an ONNX graph with unexpected inputs, a column that does
// not exist, a spec the server does not know or cannot honour — is exit 2 with a message that names
// the thing and lists the alternatives.
using System.Net;
using System.Text;
using System.Text.Json;
using Glassbox.Explain.Extensions;
using Glassbox.Server;

namespace Glassbox.Cli.Tests;

public sealed class ServeBringYourOwnModelTests
{
    private static string Model(string name) => Path.Combine(CliTestSupport.SharedDir, "models", name);

    [Fact]
    public void An_onnx_file_with_unexpected_inputs_is_exit_2_listing_them()
    {
        var dir = Directory.CreateTempSubdirectory("glassbox-byom-").FullName;
        try
        {
            string path = Path.Combine(dir, "vision.onnx");
            File.WriteAllBytes(path, TinyOnnx.Identity("pixel_values", "logits"));
            var (code, _, err) = CliTestSupport.Run("serve", "--model", $"img={path}", "--port", "0");
            Assert.Equal(2, code);
            Assert.Contains($"--model img={path}", err);
            Assert.Contains("pixel_values", err);
            Assert.Contains("unexpected: pixel_values", err);
            Assert.Contains("input_ids", err);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_column_that_does_not_exist_is_exit_2_listing_the_columns()
    {
        string csv = CliTestSupport.TempFile("review,stars\n\"good film\",positive\n", ".csv");
        try
        {
            var (code, _, err) = CliTestSupport.Run("serve", "--model", "m=" + Model("distilbert-sst2-tiny"), "--data", $"d={csv}", "--text-column", "sentence", "--port", "0");
            Assert.Equal(2, code);
            Assert.Contains("--text-column 'sentence' is not a column", err);
            Assert.Contains("review, stars", err);
            (code, _, err) = CliTestSupport.Run("serve", "--model", "m=" + Model("distilbert-sst2-tiny"), "--data", $"d={csv}", "--text-column", "review", "--label-column", "gold", "--port", "0");
            Assert.Equal(2, code);
            Assert.Contains("--label-column 'gold'", err);
            Assert.Contains("review, stars", err);
            (code, _, err) = CliTestSupport.Run("serve", "--model", "m=" + Model("distilbert-sst2-tiny"), "--data", $"d={csv}", "--label-column", "stars", "--port", "0");
            Assert.Equal(2, code);
            Assert.Contains("go with --text-column", err);
            (code, _, err) = CliTestSupport.Run("serve", "--model", "m=" + Model("distilbert-sst2-tiny-onnx"), "--tokenizer", "other=" + Model("distilbert-sst2-tiny"), "--port", "0");
            Assert.Equal(2, code);
            Assert.Contains("no --model named 'other'", err);
        }
        finally { File.Delete(csv); }
    }

    [Fact]
    public void A_spec_the_server_does_not_know_or_cannot_honour_is_exit_2()
    {
        var options = new ServerOptions { Port = 0 };
        var stderr = new StringWriter();
        int code = ServeCommand.Serve(() => GlassboxApp.Create(options).AddModel("odd", new SpecModel(new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["sparkles"] = new("Sparkles") }))), options, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(2, code);
        Assert.Contains("output 'sparkles' has type 'Sparkles', which the server does not know", stderr.ToString());
        Assert.Contains("known output types: Tokens, MulticlassPreds, RegressionScore, SpanLabels, GeneratedText, Embeddings, TokenGradients", stderr.ToString());

        stderr = new StringWriter();
        code = ServeCommand.Serve(() => GlassboxApp.Create(options).AddModel("grad", new SpecModel(new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["p"] = FieldType.MulticlassPreds(["a", "b"]) }, gradients: true))), options, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(2, code);
        Assert.Contains("declares gradients", stderr.ToString());
        Assert.Contains("IExplainableModel with hook points", stderr.ToString());
    }

    [Fact]
    public async Task Serve_runs_onnx_and_http_models_with_a_mapped_dataset()
    {
        using var lexicon = new LexiconEndpoint();
        string tsv = CliTestSupport.TempFile("words\tgold\tother\na good film\t1\tx\na bad bad film\t0\ty\ngood but bad\t1\tz\n", ".tsv");
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var r = new Dictionary<string, JsonElement>();
        string onnx = Path.Combine(Model("distilbert-sst2-tiny-onnx"), "model.onnx");
        var command = ServeCommand.Create(stdout, stderr, cts.Token, url =>
        {
            try
            {
                using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
                JsonElement Call(string name, string path, object? body = null)
                {
                    using var res = body is null ? http.GetAsync(path).GetAwaiter().GetResult()
                        : http.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json")).GetAwaiter().GetResult();
                    using var doc = JsonDocument.Parse(res.Content.ReadAsStringAsync().GetAwaiter().GetResult());
                    return r[name] = doc.RootElement.Clone();
                }
                Call("info", "/api/info");
                Call("onnx", "/api/predict", new { model = "onnx", inputs = new[] { new { text = "I love you, I like you" } } });
                Call("web", "/api/predict", new { model = "web", dataset = "reviews" });
                Call("lime", "/api/interpret", new { model = "web", input = new { text = "a good film" }, methods = new[] { "occlusion" }, target = "LABEL_1" });
                Call("lig", "/api/interpret", new { model = "onnx", input = new { text = "a good film" }, methods = new[] { "lig" } });
                Call("metrics", "/api/metrics", new { model = "web", dataset = "reviews" });
            }
            finally { cts.Cancel(); }
        });
        int code = await Task.Run(() => command.Parse(["--port", "0", "--model", $"onnx={onnx}", "--model", $"web={lexicon.Url}",
            "--data", $"reviews={tsv}", "--text-column", "words", "--label-column", "gold"]).Invoke());
        File.Delete(tsv);
        Assert.True(code == 0, stderr.ToString());

        var models = r["info"].GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal("onnx (black box)", models["onnx"].GetProperty("architecture").GetString());
        Assert.Equal(["occlusion", "lime", "kernel-shap"], models["onnx"].GetProperty("interpreters").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal(["LABEL_0", "LABEL_1"], models["onnx"].GetProperty("labels").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal("http (black box)", models["web"].GetProperty("architecture").GetString());

        // ONNX (no config.json beside it, so LABEL_0/LABEL_1): the softmax of onnx-golden.json's ONNX Runtime logits.
        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(Model("distilbert-sst2-tiny-onnx"), "onnx-golden.json")));
        var logits = golden.RootElement.GetProperty("cases")[0].GetProperty("onnxruntime_logits").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        double positive = 1 / (1 + Math.Exp(logits[0] - logits[1]));
        Assert.Equal(positive, r["onnx"].GetProperty("predictions")[0].GetProperty("probabilities")[1].GetDouble(), 5);

        // HTTP: the endpoint's lexicon, on the dataset read through --text-column/--label-column.
        var web = r["web"].GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probabilities")[1].GetDouble()).ToArray();
        Assert.Equal(3, web.Length);
        Assert.Equal(1 / (1 + Math.Exp(-1)), web[0], 12);
        Assert.Equal(1 / (1 + Math.Exp(2)), web[1], 12);
        Assert.Equal(0.5, web[2], 12);
        // Occlusion of "good" in "a good film": σ(1) − σ(0); the other words change nothing.
        var occ = r["lime"].GetProperty("results")[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("raw").GetDouble()).ToArray();
        Assert.Equal(3, occ.Length);
        Assert.Equal(LexiconEndpoint.Positive("good") - 0.5, occ[1], 6);
        Assert.Equal(0, occ[0], 6);
        // Gradient methods are refused for the ONNX black box with the reason.
        Assert.Equal(400, r["lig"].GetProperty("status").GetInt32());
        Assert.Contains("needs gradients", r["lig"].GetProperty("error").GetString());
        // Gold labels 1, 0, 1 (indices); predictions LABEL_1, LABEL_0, and a tie → LABEL_0: accuracy 2/3.
        Assert.Equal(2.0 / 3, r["metrics"].GetProperty("slices")[0].GetProperty("accuracy").GetDouble(), 12);
        Assert.True(lexicon.Requests >= 3);
    }

    private sealed class SpecModel(ModelSpec spec) : ITextModel
    {
        public ModelSpec Spec => spec;
        public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs) => [];
    }
}

/// <summary>An HTTP classifier on loopback following docs/EXTENDING.md's contract: p(LABEL_1) = σ(#"good" − #"bad").</summary>
internal sealed class LexiconEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    public int Requests;

    public LexiconEndpoint()
    {
        int port = FreePort();
        Url = $"http://127.0.0.1:{port}/predict";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(Loop);
    }

    public string Url { get; }

    public static double Positive(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return 1 / (1 + Math.Exp(-(words.Count(w => w == "good") - words.Count(w => w == "bad"))));
    }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext c;
            try { c = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref Requests);
            using var doc = await JsonDocument.ParseAsync(c.Request.InputStream);
            var rows = doc.RootElement.GetProperty("inputs").EnumerateArray().Select(i => Positive(i.GetProperty("text").GetString()!)).Select(p => new[] { 1 - p, p }).ToArray();
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { labels = new[] { "LABEL_0", "LABEL_1" }, probabilities = rows }));
            c.Response.ContentType = "application/json";
            await c.Response.OutputStream.WriteAsync(body);
            c.Response.Close();
        }
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}

/// <summary>A minimal valid ONNX protobuf (one Identity node) with a chosen input name, for the bad-input test.</summary>
internal static class TinyOnnx
{
    public static byte[] Identity(string input, string output)
    {
        static byte[] ValueInfo(string name) => Concat(Str(1, name), Sub(2, Sub(1, Concat(Varint(1, 1), Sub(2, Concat(Sub(1, Varint(1, 1)), Sub(1, Varint(1, 3))))))));
        var node = Concat(Str(1, input), Str(2, output), Str(3, "id"), Str(4, "Identity"));
        var graph = Concat(Sub(1, node), Str(2, "g"), Sub(11, ValueInfo(input)), Sub(12, ValueInfo(output)));
        var opset = Concat(Str(1, ""), Varint(2, 17));
        return Concat(Varint(1, 8), Str(2, "glassbox-test"), Sub(7, graph), Sub(8, opset));
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
    private static byte[] Key(int field, int wire) => V((ulong)((field << 3) | wire));
    private static byte[] Varint(int field, long value) => Concat(Key(field, 0), V((ulong)value));
    private static byte[] Str(int field, string s) => Sub(field, Encoding.UTF8.GetBytes(s));
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
