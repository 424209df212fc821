using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Glassbox.Explain.BlackBox;
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Tests.BlackBox;

/// <summary>A loopback HTTP server whose behaviour each test chooses.</summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<int, JsonElement, (int Status, string Body)> _handler;
    private readonly Thread _thread;
    private int _requests, _inFlight, _maxInFlight;
    private readonly TimeSpan _delay;

    public string Url { get; }
    public int Requests => _requests;
    public int MaxInFlight => _maxInFlight;

    public LoopbackServer(Func<int, JsonElement, (int Status, string Body)> handler, TimeSpan delay = default)
    {
        _handler = handler;
        _delay = delay;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/predict";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _thread = new Thread(Loop) { IsBackground = true };
        _thread.Start();
    }

    private void Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = _listener.GetContext(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            ThreadPool.QueueUserWorkItem(_ => Serve(ctx));
        }
    }

    private void Serve(HttpListenerContext ctx)
    {
        int n = Interlocked.Increment(ref _requests);
        int now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = _maxInFlight) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen) { }
        try
        {
            using var reader = new StreamReader(ctx.Request.InputStream);
            using var doc = JsonDocument.Parse(reader.ReadToEnd());
            if (_delay > TimeSpan.Zero) Thread.Sleep(_delay);
            var (status, body) = _handler(n, doc.RootElement);
            var bytes = System.Text.Encoding.UTF8.GetBytes(body);
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            ctx.Response.OutputStream.Write(bytes);
            ctx.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException) { }
        finally { Interlocked.Decrement(ref _inFlight); }
    }

    public void Dispose()
    {
        try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
    }
}

public sealed class HttpModelTests
{
    private static readonly string[] Labels = ["NEGATIVE", "POSITIVE"];

    /// <summary>The contract served by the trained SST-2 model itself.</summary>
    private static (int, string) Sst2Handler(JsonElement request)
    {
        var (model, tok, _) = ExplainerGoldenTests.Load("distilbert-sst2-tiny");
        var rows = request.GetProperty("inputs").EnumerateArray().Select(i => tok.Encode(i.GetProperty("text").GetString()!).Ids.ToArray()).ToList();
        if (rows.Count == 0) return (200, JsonSerializer.Serialize(new { labels = Labels, probabilities = Array.Empty<double[]>() }));
        var input = ModelInput.Pad(rows, padId: 0);
        using var _ = Tape.NoGrad();
        using var p = Ops.Softmax(model.Forward(input).Logits!, -1);
        var probs = Enumerable.Range(0, rows.Count).Select(b => new[] { (double)p.Span[2 * b], p.Span[2 * b + 1] }).ToArray();
        return (200, JsonSerializer.Serialize(new { labels = Labels, probabilities = probs }));
    }

    private static Tokenizer Tok() => ExplainerGoldenTests.Load("distilbert-sst2-tiny").Item2;

    [Fact]
    public void PredictsThroughTheContractAndMatchesTheModel()
    {
        using var server = new LoopbackServer((_, r) => Sst2Handler(r));
        using var model = new HttpModel(server.Url, Tok(), new HttpModelOptions { BatchSize = 2, MaxConcurrency = 2 });
        Assert.Equal(Labels, model.OutputNames); // from the handshake
        var texts = new (string, string?)[] { ("a wonderful film", null), ("a dull , lifeless mess", null), ("fine", null), ("not bad at all", null), ("awful", null) };
        var probs = model.PredictTexts(texts);
        var (native, tok, _) = ExplainerGoldenTests.Load("distilbert-sst2-tiny");
        for (int i = 0; i < texts.Length; i++)
        {
            using var _ = Tape.NoGrad();
            using var p = Ops.Softmax(native.Forward(ModelInput.Single(tok.Encode(texts[i].Item1).Ids.ToArray())).Logits!, -1);
            Assert.Equal(p.Span[1], probs[i][1], 5);
        }
        Assert.True(server.MaxInFlight <= 2, $"at most 2 requests in flight, saw {server.MaxInFlight}");
        Assert.Equal(1 + 3, server.Requests); // handshake + ceil(5 / 2)
    }

    [Fact]
    public void PerturbationExplainersRunOnAnHttpModel()
    {
        using var server = new LoopbackServer((_, r) => Sst2Handler(r));
        using var model = new HttpModel(server.Url, Tok(), new HttpModelOptions { Labels = Labels });
        var explainer = new SequenceClassificationExplainer(model, Tok());
        var occ = explainer.Explain("not good", options: new ExplainerOptions { Method = AttributionMethod.Occlusion });
        Assert.Equal(Labels[occ.PredictedClassIndex], occ.PredictedClassName);
        Assert.Equal(model.PredictTexts([("not good", null)])[0][occ.PredictedClassIndex], occ.PredictedProbability, 5);
        // Occlusion through text removes the token from the text: its score is the drop in the explained probability.
        var notToken = occ.Attribution.Tokens.Single(t => t.Token == "not");
        Assert.Equal(occ.Probabilities[occ.PredictedClassIndex] - model.PredictTexts([("good", null)])[0][occ.PredictedClassIndex], notToken.Raw, 4);
        Assert.Throws<NotSupportedException>(() => explainer.Explain("not good", options: new ExplainerOptions { Method = AttributionMethod.Saliency }));
        Assert.NotEmpty(explainer.Explain("not good", options: new ExplainerOptions { Method = AttributionMethod.Lime, Samples = 20 }).Attribution.Tokens);
    }

    [Fact]
    public void SlowServerTimesOutNamingTheUrl()
    {
        using var server = new LoopbackServer((_, r) => Sst2Handler(r), delay: TimeSpan.FromSeconds(3));
        using var model = new HttpModel(server.Url, Tok(), new HttpModelOptions { Labels = Labels, Timeout = TimeSpan.FromMilliseconds(300) });
        var ex = Assert.Throws<HttpModelException>(() => model.PredictTexts([("fine", null)]));
        Assert.Contains(server.Url, ex.Message);
        Assert.Contains("timeout", ex.Message);
        // Timeouts are not retried: the client has given up, so the server sees exactly one request (its handler runs on
        // the thread pool and may not have counted it yet when the client's 300 ms ran out).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.Requests == 0 && clock.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(20);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public void ServerErrorsAreRetriedThenReported()
    {
        using var flaky = new LoopbackServer((n, r) => n <= 2 ? (503, "{\"error\":\"warming up\"}") : Sst2Handler(r));
        using (var model = new HttpModel(flaky.Url, Tok(), new HttpModelOptions { Labels = Labels, InitialBackoff = TimeSpan.FromMilliseconds(10) }))
            Assert.Equal(2, model.PredictTexts([("fine", null)])[0].Length);
        Assert.Equal(3, flaky.Requests);

        using var broken = new LoopbackServer((_, _) => (500, "{\"error\":\"boom\"}"));
        using var m2 = new HttpModel(broken.Url, Tok(), new HttpModelOptions { Labels = Labels, MaxRetries = 2, InitialBackoff = TimeSpan.FromMilliseconds(10) });
        var ex = Assert.Throws<HttpModelException>(() => m2.PredictTexts([("fine", null)]));
        Assert.Contains(broken.Url, ex.Message);
        Assert.Contains("500", ex.Message);
        Assert.Contains("3 times", ex.Message);
        Assert.Equal(3, broken.Requests);

        using var refused = new LoopbackServer((_, _) => (400, "{\"error\":\"bad field\"}"));
        using var m3 = new HttpModel(refused.Url, Tok(), new HttpModelOptions { Labels = Labels });
        Assert.Contains("bad field", Assert.Throws<HttpModelException>(() => m3.PredictTexts([("fine", null)])).Message);
        Assert.Equal(1, refused.Requests); // 4xx is the caller's fault: not retried
    }

    [Theory]
    [InlineData("{\"probabilities\": [[0.5, 0.5]", "malformed JSON")]
    [InlineData("<html>oops</html>", "malformed JSON")]
    [InlineData("{\"probabilities\": [[0.5, 0.5], [0.1, 0.9]]}", "2 probability rows for 1 inputs")]
    [InlineData("{\"probabilities\": [[0.2, 0.3, 0.5]]}", "3 probabilities for input 0")]
    [InlineData("{\"probabilities\": \"yes\"}", "malformed JSON")]
    public void MalformedAnswersAreClearErrors(string body, string expected)
    {
        using var server = new LoopbackServer((_, _) => (200, body));
        using var model = new HttpModel(server.Url, Tok(), new HttpModelOptions { Labels = Labels });
        var ex = Assert.Throws<HttpModelException>(() => model.PredictTexts([("fine", null)]));
        Assert.Contains(expected, ex.Message);
        Assert.Contains(server.Url, ex.Message);
    }

    [Fact]
    public void BadUrlsAndOptionsAreRejected()
    {
        Assert.Contains("not an http(s) URL", Assert.Throws<ArgumentException>(() => new HttpModel("ftp://x/y", Tok())).Message);
        Assert.Throws<ArgumentException>(() => new HttpModel("http://127.0.0.1:1/p", Tok(), new HttpModelOptions { MaxConcurrency = 0 }));
        using var noLabels = new LoopbackServer((_, _) => (200, "{\"probabilities\": []}"));
        using var m = new HttpModel(noLabels.Url, Tok());
        Assert.Contains("did not name its labels", Assert.Throws<HttpModelException>(() => m.OutputNames).Message);
    }
}
