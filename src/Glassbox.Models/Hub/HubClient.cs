// Resolves Hub model ids to local folders the way huggingface_hub's hf_hub_download does:
// cache first (a commit-hash revision with its file present never touches the network), then a
// HEAD on /{repo}/resolve/{revision}/{file} whose X-Repo-Commit and X-Linked-Etag/ETag headers
// name the commit and blob, then a GET of the (possibly redirected) download URL into
// blobs/<etag>.incomplete — resumed with a Range request when a previous attempt or a dropped
// connection left one — verified against the ETag digest, renamed into place and linked from
// snapshots/<commit>/<file>. Offline mode reads only the cache. Errors say what to do.
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Glassbox.Models.Hub;

public sealed class HubClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    public HubOptions Options { get; }
    public HubCache Cache { get; }

    /// <summary>Files fetched alongside the weights when present (tokenizer, generation and image-processor settings).</summary>
    public static readonly string[] OptionalModelFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "tokenizer.model", "sentencepiece.bpe.model",
        "generation_config.json", "preprocessor_config.json",
    ];

    public HubClient(HubOptions? options = null, HttpMessageHandler? handler = null)
    {
        Options = options ?? HubOptions.FromEnvironment();
        Cache = new HubCache(Options.CacheDir);
        _ownsHttp = true;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,           // redirects are followed by hand (auth is only sent to the Hub itself)
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,  // per-request timeouts below
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("glassbox/0.1");
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    /// <summary>
    /// A model folder for <paramref name="idOrPath"/>: an existing local folder as is, otherwise a
    /// Hub id ("org/name[@revision]") resolved through the cache (downloading what is missing
    /// unless offline). Uses HubOptions.FromEnvironment() unless options are given.
    /// </summary>
    public static string ResolveModelFolder(string idOrPath, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (Directory.Exists(idOrPath)) return Path.GetFullPath(idOrPath);
        if (LooksLikePath(idOrPath))
            throw new DirectoryNotFoundException($"{idOrPath}: no such model folder (and it is not a Hub id of the form org/name[@revision]).");
        using var client = new HubClient(options);
        return client.ResolveModel(ModelId.Parse(idOrPath), cancellationToken);
    }

    private static bool LooksLikePath(string s) =>
        s.StartsWith('.') || s.StartsWith('/') || s.StartsWith('~') || s.Contains('\\') || s.Count(ch => ch == '/') > 1 || (s.Length > 1 && s[1] == ':');

    // ---- whole models -----------------------------------------------------------------------

    /// <summary>
    /// Ensures config.json, the preferred weights (model.safetensors, then its sharded index and
    /// shards, then pytorch_model.bin and its index) and the optional tokenizer/generation files are
    /// in the cache; returns snapshots/&lt;commit&gt;. All files come from one commit.
    /// </summary>
    public string ResolveModel(ModelId id, CancellationToken cancellationToken = default) =>
        ResolveModelAsync(id, cancellationToken).GetAwaiter().GetResult();

    public async Task<string> ResolveModelAsync(ModelId id, CancellationToken cancellationToken = default)
    {
        if (Options.Offline) return ResolveModelOffline(id);

        // The first file pins the commit; later files use the hash, so a push in between cannot mix versions.
        var (_, commit) = await FetchAsync(id.RepoId, "config.json", id.Revision, required: false, cancellationToken).ConfigureAwait(false);
        string revision = commit;
        string? weights = null;
        foreach (var candidate in Checkpoints.Checkpoint.WeightFileNames)
        {
            var (path, c) = await FetchAsync(id.RepoId, candidate, revision, required: false, cancellationToken).ConfigureAwait(false);
            if (path is null) continue;
            commit = revision = c;
            weights = path;
            if (candidate.EndsWith(".index.json", StringComparison.Ordinal))
                foreach (var shard in ShardNames(path))
                    await FetchAsync(id.RepoId, shard, revision, required: true, cancellationToken).ConfigureAwait(false);
            break;
        }
        if (weights is null)
            throw new HubException(HubErrorKind.EntryNotFound, $"{id}: the repository has no weights (looked for {string.Join(", ", Checkpoints.Checkpoint.WeightFileNames)}).");
        foreach (var f in OptionalModelFiles)
            await FetchAsync(id.RepoId, f, revision, required: false, cancellationToken).ConfigureAwait(false);
        return Cache.SnapshotFolder(id.RepoId, commit);
    }

    private string ResolveModelOffline(ModelId id)
    {
        string? commit = Cache.ResolveCommit(id.RepoId, id.Revision);
        if (commit is null || !Directory.Exists(Cache.SnapshotFolder(id.RepoId, commit)))
            throw NotCached(id.RepoId, id.Revision, null);
        string folder = Cache.SnapshotFolder(id.RepoId, commit);
        foreach (var w in Checkpoints.Checkpoint.WeightFileNames)
        {
            string p = Path.Combine(folder, w);
            if (!File.Exists(p)) continue;
            if (w.EndsWith(".index.json", StringComparison.Ordinal))
                foreach (var shard in ShardNames(p))
                    if (!File.Exists(Path.Combine(folder, HubCache.ToLocal(shard))))
                        throw NotCached(id.RepoId, id.Revision, shard);
            return folder;
        }
        throw NotCached(id.RepoId, id.Revision, "model weights");
    }

    private static IEnumerable<string> ShardNames(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new HubException(HubErrorKind.BadResponse, $"{indexPath}: index has no weight_map.");
            return map.EnumerateObject().Select(p => p.Value.GetString() ?? "").Distinct(StringComparer.Ordinal).Select(s =>
            {
                HubCache.ToLocal(s); // refuses traversal
                return s;
            }).ToList();
        }
        catch (JsonException e)
        {
            throw new HubException(HubErrorKind.BadResponse, $"{indexPath}: index is not valid JSON ({e.Message}).", e);
        }
    }

    // ---- single files -----------------------------------------------------------------------

    /// <summary>hf_hub_download: the local path of one file (downloaded if needed).</summary>
    public string DownloadFile(string repoId, string fileName, string revision = "main", CancellationToken cancellationToken = default) =>
        FetchAsync(repoId, fileName, revision, required: true, cancellationToken).GetAwaiter().GetResult().Path!;

    /// <summary>Like DownloadFile, but null when the repository has no such file.</summary>
    public string? TryDownloadFile(string repoId, string fileName, string revision = "main", CancellationToken cancellationToken = default) =>
        FetchAsync(repoId, fileName, revision, required: false, cancellationToken).GetAwaiter().GetResult().Path;

    private async Task<(string? Path, string Commit)> FetchAsync(string repoId, string file, string revision, bool required, CancellationToken ct)
    {
        HubCache.ToLocal(file);
        // A commit hash whose file is already cached needs no network at all.
        if (HubCache.IsCommitHash(revision))
        {
            string p = Cache.SnapshotPath(repoId, revision, file);
            if (File.Exists(p)) return (p, revision);
            if (File.Exists(Cache.NoExistPath(repoId, revision, file)) && !required) return (null, revision);
        }
        if (Options.Offline) return FromCacheOnly(repoId, file, revision, required, null);

        FileMetadata meta;
        try
        {
            meta = await HeadAsync(repoId, file, revision, ct).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.EntryNotFound && !required)
        {
            return (null, Cache.ResolveCommit(repoId, revision) ?? revision);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Network)
        {
            // Like huggingface_hub: when the Hub cannot be reached, fall back to what the cache has.
            return FromCacheOnly(repoId, file, revision, required, e);
        }

        if (meta.Missing)
        {
            Cache.MarkMissing(repoId, meta.Commit, file);
            Cache.WriteRef(repoId, revision, meta.Commit);
            if (required) throw new HubException(HubErrorKind.EntryNotFound, $"'{file}' does not exist in {repoId} at revision {revision}.");
            return (null, meta.Commit);
        }
        Cache.WriteRef(repoId, revision, meta.Commit);
        string pointer = Cache.SnapshotPath(repoId, meta.Commit, file);
        if (File.Exists(pointer)) return (pointer, meta.Commit);
        string blob = Cache.BlobPath(repoId, meta.Etag);
        if (!File.Exists(blob))
            await DownloadBlobAsync(repoId, file, meta, blob, ct).ConfigureAwait(false);
        Cache.LinkSnapshot(repoId, meta.Commit, file, blob);
        return (pointer, meta.Commit);
    }

    private (string?, string) FromCacheOnly(string repoId, string file, string revision, bool required, HubException? cause)
    {
        string? commit = Cache.ResolveCommit(repoId, revision);
        if (commit is not null)
        {
            string p = Cache.SnapshotPath(repoId, commit, file);
            if (File.Exists(p)) return (p, commit);
            if (File.Exists(Cache.NoExistPath(repoId, commit, file)))
            {
                if (!required) return (null, commit);
                throw new HubException(HubErrorKind.EntryNotFound, $"'{file}' does not exist in {repoId} at revision {revision} (per the cache).");
            }
            // Offline, an optional file the cache knows nothing about is treated as absent.
            if (!required && Directory.Exists(Cache.SnapshotFolder(repoId, commit))) return (null, commit);
        }
        throw cause is null ? NotCached(repoId, revision, file)
            : new HubException(HubErrorKind.Network, $"{cause.Message} '{file}' of {repoId}@{revision} is not in the cache ({Cache.Root}) either: check the network or HF_ENDPOINT, or pre-download the model and set HF_HUB_OFFLINE=1.", cause);
    }

    private HubException NotCached(string repoId, string revision, string? file) => new(HubErrorKind.NotCached,
        $"HF_HUB_OFFLINE is set and {(file is null ? "" : $"'{file}' of ")}{repoId}@{revision} is not in the Hub cache ({Cache.Root}). " +
        $"Unset HF_HUB_OFFLINE to download it, or pre-download it on a connected machine (e.g. `hf download {repoId}`) into this cache (HF_HUB_CACHE / HF_HOME).");

    // ---- HTTP -------------------------------------------------------------------------------

    private sealed record FileMetadata(string Commit, string Etag, long? Size, Uri DownloadUrl, bool Missing);

    private Uri ResolveUrl(string repoId, string revision, string file) =>
        new($"{Options.Endpoint.TrimEnd('/')}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    private HttpRequestMessage Request(HttpMethod method, Uri url, bool withAuth)
    {
        var req = new HttpRequestMessage(method, url);
        req.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        if (withAuth && Options.Token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.Token);
        return req;
    }

    private bool IsHubHost(Uri url) => Uri.TryCreate(Options.Endpoint, UriKind.Absolute, out var ep) && Uri.Compare(ep, url, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private async Task<FileMetadata> HeadAsync(string repoId, string file, string revision, CancellationToken ct)
    {
        Uri url = ResolveUrl(repoId, revision, file);
        for (int hop = 0; hop < 10; hop++)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Options.MetadataTimeout);
            HttpResponseMessage resp;
            try
            {
                resp = await _http.SendAsync(Request(HttpMethod.Head, url, IsHubHost(url)), HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                throw new HubException(HubErrorKind.Network, $"Could not reach {Options.Endpoint} for {repoId} ({e.Message}).", e);
            }
            using (resp)
            {
                int status = (int)resp.StatusCode;
                // Relative redirects (a renamed repo) are followed; absolute ones (the CDN) are where the bytes live.
                if (status is >= 300 and < 400 && resp.Headers.Location is { } loc && !loc.IsAbsoluteUri)
                {
                    url = new Uri(url, loc);
                    continue;
                }
                string? commit = Header(resp, "X-Repo-Commit");
                // The Hub names the commit even when the file is absent: remembered as .no_exist.
                if (status == 404 && Header(resp, "X-Error-Code") == "EntryNotFound" && commit is not null && HubCache.IsCommitHash(commit))
                    return new FileMetadata(commit, "", null, url, Missing: true);
                if (status >= 400) throw HttpError(resp, repoId, revision, file);
                string? etag = Header(resp, "X-Linked-Etag") ?? resp.Headers.ETag?.Tag ?? Header(resp, "ETag");
                if (commit is null || !HubCache.IsCommitHash(commit))
                    throw new HubException(HubErrorKind.BadResponse, $"{url}: the server did not send an X-Repo-Commit header; is HF_ENDPOINT ({Options.Endpoint}) a Hugging Face Hub?");
                if (etag is null)
                    throw new HubException(HubErrorKind.BadResponse, $"{url}: the server did not send an ETag; cannot cache the file safely.");
                etag = NormalizeEtag(etag);
                if (etag.Length == 0 || etag.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch is not '-' and not '_'))
                    throw new HubException(HubErrorKind.BadResponse, $"{url}: ETag '{etag}' is not a plain digest.");
                long? size = long.TryParse(Header(resp, "X-Linked-Size"), out var ls) ? ls : resp.Content.Headers.ContentLength;
                Uri download = status is >= 300 and < 400 && resp.Headers.Location is { } abs ? abs : url;
                return new FileMetadata(commit, etag, size, download, Missing: false);
            }
        }
        throw new HubException(HubErrorKind.BadResponse, $"{repoId}: too many redirects resolving '{file}'.");
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : r.Content.Headers.TryGetValues(name, out var c) ? c.FirstOrDefault() : null;

    /// <summary>huggingface_hub's normalisation: drop a weak-validator "W/" prefix and the quotes.</summary>
    internal static string NormalizeEtag(string etag)
    {
        string e = etag.Trim();
        if (e.StartsWith("W/", StringComparison.Ordinal)) e = e[2..];
        return e.Trim('"');
    }

    private HubException HttpError(HttpResponseMessage resp, string repoId, string revision, string file)
    {
        int status = (int)resp.StatusCode;
        string? code = Header(resp, "X-Error-Code");
        string? hubMessage = Header(resp, "X-Error-Message");
        string detail = hubMessage is null ? "" : $" (Hub says: {hubMessage})";
        string tokenHint = Options.Token is null ? "set HF_TOKEN to a token with read access (https://huggingface.co/settings/tokens)" : "check that HF_TOKEN grants access to it";
        if (code == "GatedRepo" || (status == 403 && code is null))
            return new HubException(HubErrorKind.GatedRepo, $"{repoId} is gated or forbidden ({status}){detail}: accept its terms at {Options.Endpoint}/{repoId} and {tokenHint}.");
        if (code == "EntryNotFound")
            return new HubException(HubErrorKind.EntryNotFound, $"'{file}' does not exist in {repoId} at revision {revision}{detail}.");
        if (code == "RevisionNotFound")
            return new HubException(HubErrorKind.RevisionNotFound, $"revision '{revision}' does not exist in {repoId}{detail}: check the branch, tag or commit after '@'.");
        if (status == 401)
            return new HubException(HubErrorKind.Unauthorized, $"{Options.Endpoint} answered 401 Unauthorized for {repoId}{detail}: the repository is private, gated or does not exist — {tokenHint}, and check the model id.");
        if (status == 404)
            return new HubException(code == "RepoNotFound" || code is null ? HubErrorKind.RepoNotFound : HubErrorKind.EntryNotFound,
                $"{repoId} was not found on {Options.Endpoint} (404){detail}: check the model id (org/name){(Options.Token is null ? ", or set HF_TOKEN if it is private" : "")}.");
        return new HubException(HubErrorKind.BadResponse, $"{Options.Endpoint} answered {status} {resp.ReasonPhrase} for '{file}' of {repoId}{detail}.");
    }

    private async Task DownloadBlobAsync(string repoId, string file, FileMetadata meta, string blob, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        string lockPath = Cache.LockPath(repoId, meta.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using var fileLock = await AcquireLockAsync(lockPath, ct).ConfigureAwait(false);
        if (File.Exists(blob)) return; // another process finished it while we waited
        string incomplete = blob + ".incomplete";
        Exception? last = null;
        for (int attempt = 1; attempt <= Math.Max(1, Options.MaxAttempts); attempt++)
        {
            try
            {
                await DownloadOnceAsync(repoId, file, meta, incomplete, ct).ConfigureAwait(false);
                last = null;
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                last = e; // the partial file stays; the next attempt resumes it with a Range request
                if (attempt < Options.MaxAttempts) await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), ct).ConfigureAwait(false);
            }
        }
        if (last is not null)
            throw new HubException(HubErrorKind.Network, $"Downloading '{file}' of {repoId} failed after {Options.MaxAttempts} attempts ({last.Message}). The partial file {incomplete} is kept and will be resumed next time.", last);

        long got = new FileInfo(incomplete).Length;
        if (meta.Size is { } size && got != size)
        {
            File.Delete(incomplete);
            throw new HubException(HubErrorKind.BadResponse, $"'{file}' of {repoId}: downloaded {got} bytes but the Hub announced {size}; the partial file was discarded, try again.");
        }
        if (!VerifyDigest(incomplete, meta.Etag))
        {
            File.Delete(incomplete);
            throw new HubException(HubErrorKind.BadResponse, $"'{file}' of {repoId}: the downloaded bytes do not match ETag {meta.Etag}; the file was discarded, try again.");
        }
        File.Move(incomplete, blob, overwrite: true);
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task DownloadOnceAsync(string repoId, string file, FileMetadata meta, string incomplete, CancellationToken ct)
    {
        long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
        if (meta.Size is { } total && have == total && total > 0) return;
        if (meta.Size is { } t2 && have > t2) { File.Delete(incomplete); have = 0; }
        Uri url = meta.DownloadUrl;
        HttpResponseMessage? resp = null;
        try
        {
            for (int hop = 0; ; hop++)
            {
                var req = Request(HttpMethod.Get, url, IsHubHost(url));
                if (have > 0) req.Headers.Range = new RangeHeaderValue(have, null);
                using var headerCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                headerCts.CancelAfter(Options.ReadTimeout);
                resp = await _http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, headerCts.Token).ConfigureAwait(false);
                int status = (int)resp.StatusCode;
                if (status is >= 300 and < 400 && resp.Headers.Location is { } loc)
                {
                    if (hop >= 10) throw new HubException(HubErrorKind.BadResponse, $"'{file}' of {repoId}: too many redirects.");
                    url = loc.IsAbsoluteUri ? loc : new Uri(url, loc);
                    resp.Dispose();
                    resp = null;
                    continue;
                }
                if (status == 416 && have > 0)
                {
                    // Range not satisfiable: what we have is stale or complete; start over if it is not complete.
                    if (meta.Size == have) return;
                    File.Delete(incomplete);
                    have = 0;
                    resp.Dispose();
                    resp = null;
                    continue;
                }
                if (status >= 400) throw HttpError(resp, repoId, "(download)", file);
                break;
            }
            bool append = have > 0 && resp.StatusCode == HttpStatusCode.PartialContent;
            if (append && resp.Content.Headers.ContentRange is { From: { } from } && from != have)
                throw new IOException($"server resumed at byte {from}, expected {have}");
            if (!append) have = 0;
            long? expected = meta.Size;
            using var output = new FileStream(incomplete, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var body = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var buffer = new byte[1 << 16];
            long lastReport = -1;
            Report(repoId, file, have, expected, ref lastReport, force: true);
            while (true)
            {
                using var readCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                readCts.CancelAfter(Options.ReadTimeout);
                int n = await body.ReadAsync(buffer, readCts.Token).ConfigureAwait(false);
                if (n == 0) break;
                await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                have += n;
                Report(repoId, file, have, expected, ref lastReport, force: false);
            }
            await output.FlushAsync(ct).ConfigureAwait(false);
            if (expected is { } exp && have < exp) throw new IOException($"connection closed after {have} of {exp} bytes");
            Report(repoId, file, have, expected, ref lastReport, force: true);
        }
        finally
        {
            resp?.Dispose();
        }
    }

    private void Report(string repoId, string file, long done, long? total, ref long last, bool force)
    {
        if (Options.Progress is null) return;
        if (!force && done - last < (1 << 20)) return;
        if (done == last) return;
        last = done;
        Options.Progress(new DownloadProgress(repoId, file, done, total));
    }

    /// <summary>LFS ETags are the file's sha256; regular files' are the git blob sha1. Anything else is not checked.</summary>
    private static bool VerifyDigest(string path, string etag)
    {
        bool hex = etag.All(char.IsAsciiHexDigit);
        if (!hex || (etag.Length != 64 && etag.Length != 40)) return true;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        string actual;
        if (etag.Length == 64)
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(fs));
        }
        else
        {
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(System.Text.Encoding.ASCII.GetBytes($"blob {fs.Length}\0"));
            var buf = new byte[1 << 20];
            int n;
            while ((n = fs.Read(buf)) > 0) sha1.AppendData(buf, 0, n);
            actual = Convert.ToHexStringLower(sha1.GetHashAndReset());
        }
        return string.Equals(actual, etag, StringComparison.OrdinalIgnoreCase);
    }
}
