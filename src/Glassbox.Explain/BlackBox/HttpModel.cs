// A classifier behind an HTTP endpoint, as a black-box explainable model.
//
// The contract (docs/EXTENDING.md, "HTTP models"):
//   POST <url>  {"inputs":[{"text":"...","textPair":null}, ...]}
//   200         {"labels":["NEGATIVE","POSITIVE"],"probabilities":[[0.2,0.8], ...]}   one row per input, in order
// An empty batch is the handshake that tells Glassbox the labels. Perturbation methods work on token
// ids; this model turns each perturbed row back into text with the tokenizer (special, padding and
// mask tokens dropped — a removed token is removed from the text) and sends the text.
//
// Robustness: every request has a timeout (not retried: a slow server stays slow); connection
// failures, 408, 429 and 5xx are retried with exponential backoff; batches are split into chunks sent
// with bounded concurrency. Every failure is an HttpModelException whose message names the URL.
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.BlackBox;

/// <summary>Settings for <see cref="HttpModel"/>.</summary>
public sealed record HttpModelOptions
{
    /// <summary>Time allowed for one request (default 30 s). A request that times out is not retried.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Retries after a connection failure, 408, 429 or 5xx (default 3).</summary>
    public int MaxRetries { get; init; } = 3;
    /// <summary>Wait before the first retry; doubled for each further one (default 200 ms).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Requests in flight at once (default 4).</summary>
    public int MaxConcurrency { get; init; } = 4;
    /// <summary>Inputs per request (default 32).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Labels, when known; otherwise asked of the server with an empty batch.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}

/// <summary>A request to or a response from an HTTP model that failed; the message names the URL.</summary>
public sealed class HttpModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A classifier served over HTTP (see the contract at the top of this file), usable by every perturbation method.</summary>
public sealed class HttpModel : IExplainableModel, IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly Tokenizer? _tokenizer;
    private readonly HttpModelOptions _options;
    private IReadOnlyList<string>? _labels;

    /// <summary>The endpoint.</summary>
    public Uri Url { get; }

    /// <inheritdoc/>
    public string Name => Url.ToString();

    /// <summary>The labels, from the options or the server's handshake.</summary>
    public IReadOnlyList<string> OutputNames => _labels ??= Handshake();

    /// <summary>Always false: an HTTP endpoint gives no gradients.</summary>
    public bool SupportsGradients => false;

    /// <summary>Always null.</summary>
    public HookSet? Hooks => null;

    /// <summary>Creates a model for <paramref name="url"/> (http or https). <paramref name="tokenizer"/> turns
    /// token ids back into text for <see cref="Predict"/> (without one, only <see cref="PredictTexts"/> works: serve it
    /// with word-level perturbations through <see cref="Extensions.HttpTextModel"/>); <paramref name="client"/> may be
    /// shared (its own Timeout is not used).</summary>
    public HttpModel(string url, Tokenizer? tokenizer, HttpModelOptions? options = null, HttpClient? client = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"'{url}' is not an http(s) URL; an HTTP model is given as http://host:port/path.", nameof(url));
        _options = options ?? new HttpModelOptions();
        if (_options.MaxConcurrency < 1 || _options.BatchSize < 1 || _options.MaxRetries < 0 || _options.Timeout <= TimeSpan.Zero)
            throw new ArgumentException($"HTTP model options must have MaxConcurrency ≥ 1, BatchSize ≥ 1, MaxRetries ≥ 0 and a positive Timeout; got {_options}.", nameof(options));
        Url = uri;
        _tokenizer = tokenizer;
        _labels = _options.Labels;
        _ownsClient = client is null;
        _client = client ?? new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <summary>Probabilities [inputs, labels] for texts (with optional second segments).</summary>
    public double[][] PredictTexts(IReadOnlyList<(string Text, string? Pair)> inputs, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var result = new double[inputs.Count][];
        var chunks = Enumerable.Range(0, (inputs.Count + _options.BatchSize - 1) / _options.BatchSize).ToArray();
        try
        {
            Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellation }, c =>
            {
                int start = c * _options.BatchSize, n = Math.Min(_options.BatchSize, inputs.Count - start);
                var response = Post(Enumerable.Range(start, n).Select(i => new HttpInput(inputs[i].Text, inputs[i].Pair)).ToArray(), cancellation);
                if (response.Probabilities is null || response.Probabilities.Length != n)
                    throw new HttpModelException($"'{Url}' returned {response.Probabilities?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} probability rows for {n} inputs; the contract is one row per input, in order.");
                for (int i = 0; i < n; i++) result[start + i] = response.Probabilities[i];
            });
        }
        catch (AggregateException e)
        {
            // Report the first chunk's failure as itself, not wrapped.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        int width = OutputNames.Count;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] is null || result[i].Length != width)
                throw new HttpModelException($"'{Url}' returned {result[i]?.Length ?? 0} probabilities for input {i} but has {width} labels ({string.Join(", ", OutputNames)}).");
            if (result[i].Any(p => !double.IsFinite(p)))
                throw new HttpModelException($"'{Url}' returned a non-finite probability for input {i}.");
        }
        return result;
    }

    /// <summary>Scores [batch, labels] for token inputs: each row is decoded to text (segments split by token type ids) and sent.</summary>
    public Tensor Predict(ModelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_tokenizer is null)
            throw new InvalidOperationException($"HTTP model '{Url}' was created without a tokenizer, so token ids cannot be turned back into text; give its tokenizer (--tokenizer DIR) or use word-level perturbations (HttpTextModel).");
        var texts = new (string, string?)[input.Batch];
        int s = input.SeqLength;
        for (int b = 0; b < input.Batch; b++)
        {
            var first = new List<int>();
            var second = new List<int>();
            for (int j = 0; j < s; j++)
            {
                int k = b * s + j;
                if (input.AttentionMask is { } m && m[k] == 0) continue;
                (input.TokenTypeIds is { } t && t[k] == 1 ? second : first).Add(input.InputIds[k]);
            }
            texts[b] = (_tokenizer.Decode(first, skipSpecialTokens: true), second.Count > 0 ? _tokenizer.Decode(second, skipSpecialTokens: true) : null);
        }
        var probabilities = PredictTexts(texts);
        int c = OutputNames.Count;
        var flat = new float[input.Batch * c];
        for (int b = 0; b < input.Batch; b++)
            for (int j = 0; j < c; j++) flat[b * c + j] = (float)probabilities[b][j];
        return Tensor.FromArray(flat, input.Batch, c);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }

    private IReadOnlyList<string> Handshake()
    {
        var response = Post([], CancellationToken.None);
        if (response.Labels is not { Length: > 0 } labels || labels.Any(string.IsNullOrEmpty))
            throw new HttpModelException($"'{Url}' did not name its labels: the answer to an empty batch must be {{\"labels\":[...],\"probabilities\":[]}}. Give the labels instead (--labels).");
        return labels;
    }

    private HttpResponseBody Post(HttpInput[] inputs, CancellationToken cancellation)
    {
        var body = JsonSerializer.Serialize(new HttpRequestBody(inputs), s_json);
        var backoff = _options.InitialBackoff;
        for (int attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(_options.Timeout);
            string? failure;
            Exception? inner = null;
            try
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
                using var response = _client.Send(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                string text;
                using (var reader = new StreamReader(response.Content.ReadAsStream(timeout.Token)))
                    text = reader.ReadToEnd();
                // The timer that cancels runs on the thread pool; when the pool is starved it fires late and a slow
                // answer gets through. An answer that came after the timeout is a timeout all the same.
                if (clock.Elapsed > _options.Timeout) throw new OperationCanceledException("the answer came after the timeout");
                if (response.IsSuccessStatusCode) return Parse(text);
                failure = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                bool retryable = (int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
                if (!retryable)
                    throw new HttpModelException($"'{Url}' answered {failure}: {Truncate(text)}");
            }
            catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
            {
                throw new HttpModelException($"'{Url}' did not answer within {_options.Timeout.TotalSeconds:0.###} s (timeout); raise it with the model's timeout option or check the server.", e);
            }
            catch (HttpRequestException e)
            {
                failure = e.Message;
                inner = e;
            }
            catch (IOException e)
            {
                failure = e.Message;
                inner = e;
            }
            if (attempt >= _options.MaxRetries)
                throw new HttpModelException($"'{Url}' failed {attempt + 1} times; last: {failure}.", inner);
            Thread.Sleep(backoff);
            backoff *= 2;
        }
    }

    private HttpResponseBody Parse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<HttpResponseBody>(text, s_json)
                ?? throw new HttpModelException($"'{Url}' returned JSON null; expected {{\"labels\":[...],\"probabilities\":[[...], ...]}}.");
        }
        catch (JsonException e)
        {
            throw new HttpModelException($"'{Url}' returned malformed JSON ({e.Message}): {Truncate(text)}. Expected {{\"labels\":[...],\"probabilities\":[[...], ...]}}.", e);
        }
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private sealed record HttpInput(string Text, string? TextPair);
    private sealed record HttpRequestBody(HttpInput[] Inputs);
    private sealed record HttpResponseBody(string[]? Labels, double[][]? Probabilities);
}
