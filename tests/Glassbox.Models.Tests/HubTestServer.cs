using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Glassbox.Models.Tests;

/// <summary>
/// A loopback HTTP server with the Hub's endpoint shapes: HEAD/GET /{org}/{name}/resolve/{rev}/{file}
/// answering with X-Repo-Commit and ETag (regular files: git blob sha1, served directly) or a 302
/// to /cdn/{sha256} with X-Linked-Etag/X-Linked-Size (LFS files), Range requests (206), the Hub's
/// 401/404 with X-Error-Code, and a switch to drop a connection mid-body. Only 127.0.0.1 is bound.
/// </summary>
internal sealed class HubTestServer : IDisposable
{
    public sealed record Repo(string Id, string Commit, Dictionary<string, byte[]> Files, bool Private);

    public sealed record RequestRecord(string Method, string Path, string? Authorization, string? Range);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Repo> _repos = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly ConcurrentDictionary<string, int> _dropsLeft = new();
    private readonly Task _loop;

    public ConcurrentQueue<RequestRecord> Requests { get; } = new();
    public string Token { get; } = "hf_test_token_123";
    public int DropAfterBytes { get; set; } = 100_000;
    /// <summary>Old repo id → new id, answered with a relative 307 (a renamed repository).</summary>
    public ConcurrentDictionary<string, string> Renamed { get; } = new();

    public HubTestServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public void AddRepo(string id, Dictionary<string, byte[]> files, bool isPrivate = false, string? commit = null)
    {
        commit ??= Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(id + string.Join(",", files.Keys))));
        _repos[id] = new Repo(id, commit, files, isPrivate);
        foreach (var f in files.Values) _blobs[Sha256(f)] = f;
    }

    public Repo Get(string id) => _repos[id];

    /// <summary>The next <paramref name="times"/> GETs of this content are cut after DropAfterBytes.</summary>
    public void DropConnection(byte[] content, int times = 1) => _dropsLeft[Sha256(content)] = times;

    public static bool IsLfs(string file) => file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".bin", StringComparison.Ordinal);

    public static string Sha256(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    public static string GitSha1(byte[] b) => Convert.ToHexStringLower(SHA1.HashData(Encoding.ASCII.GetBytes($"blob {b.Length}\0").Concat(b).ToArray()));

    public int Count(string method, string pathFragment = "") => Requests.Count(r => r.Method == method && r.Path.Contains(pathFragment, StringComparison.Ordinal));

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Handle(client));
        }
    }

    private async Task Handle(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (method, target, headers) = await ReadRequest(stream);
                if (method is null) return;
                headers.TryGetValue("authorization", out var auth);
                headers.TryGetValue("range", out var range);
                string path = Uri.UnescapeDataString(target.Split('?')[0]);
                Requests.Enqueue(new RequestRecord(method, path, auth, range));
                await Respond(client, stream, method, target, path, auth, range);
            }
            catch (IOException) { }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        }
    }

    private async Task Respond(TcpClient client, NetworkStream stream, string method, string target, string path, string? auth, string? range)
    {
        if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            string sha = path[5..];
            if (!_blobs.TryGetValue(sha, out var content)) { await Send(stream, 404, "Not Found", [], []); return; }
            await SendBody(client, stream, method, content, range, [], drop: method == "GET" && TakeDrop(sha));
            return;
        }
        var parts = path.TrimStart('/').Split('/');
        if (parts.Length < 5 || parts[2] != "resolve") { await Send(stream, 404, "Not Found", [], []); return; }
        string repoId = parts[0] + "/" + parts[1];
        string revision = parts[3];
        string file = string.Join('/', parts.Skip(4));
        if (Renamed.TryGetValue(repoId, out var newId))
        {
            string rest = target[(1 + repoId.Length)..];
            await Send(stream, 307, "Temporary Redirect", [("Location", "/" + newId + rest)], []);
            return;
        }
        bool authorized = auth == "Bearer " + Token;
        if (!_repos.TryGetValue(repoId, out var repo) || (repo.Private && !authorized))
        {
            // The Hub answers 401 to anonymous requests for missing or private repos, 404 to authenticated ones.
            int status = authorized ? 404 : 401;
            await Send(stream, status, status == 401 ? "Unauthorized" : "Not Found",
                [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")], []);
            return;
        }
        if (revision != "main" && revision != repo.Commit)
        {
            await Send(stream, 404, "Not Found", [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", "Invalid rev id: " + revision)], []);
            return;
        }
        if (!repo.Files.TryGetValue(file, out var bytes))
        {
            await Send(stream, 404, "Not Found", [("X-Error-Code", "EntryNotFound"), ("X-Error-Message", "Entry not found"), ("X-Repo-Commit", repo.Commit)], []);
            return;
        }
        if (IsLfs(file))
        {
            string sha = Sha256(bytes);
            await Send(stream, 302, "Found",
            [
                ("Location", $"{Endpoint}/cdn/{sha}?signature=abc"),
                ("X-Repo-Commit", repo.Commit),
                ("X-Linked-Etag", $"\"{sha}\""),
                ("X-Linked-Size", bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("ETag", $"\"{GitSha1(Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\n"))}\""),
            ], []);
            return;
        }
        await SendBody(client, stream, method, bytes, range, [("X-Repo-Commit", repo.Commit), ("ETag", $"\"{GitSha1(bytes)}\"")], drop: false);
    }

    private bool TakeDrop(string sha)
    {
        while (_dropsLeft.TryGetValue(sha, out int left) && left > 0)
            if (_dropsLeft.TryUpdate(sha, left - 1, left)) return true;
        return false;
    }

    private async Task SendBody(TcpClient client, NetworkStream stream, string method, byte[] content, string? range, (string, string)[] extra, bool drop)
    {
        long from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            from = long.Parse(range[6..^1], System.Globalization.CultureInfo.InvariantCulture);
        if (from > content.Length)
        {
            await Send(stream, 416, "Range Not Satisfiable", [("Content-Range", $"bytes */{content.Length}")], []);
            return;
        }
        var body = content.AsSpan((int)from).ToArray();
        var headers = extra.ToList();
        int status = 200;
        if (from > 0)
        {
            status = 206;
            headers.Add(("Content-Range", $"bytes {from}-{content.Length - 1}/{content.Length}"));
        }
        headers.Add(("Accept-Ranges", "bytes"));
        if (method == "HEAD") { await Send(stream, status, status == 206 ? "Partial Content" : "OK", [.. headers], [], contentLength: body.Length); return; }
        if (drop && body.Length > DropAfterBytes)
        {
            await WriteHead(stream, status, "OK", [.. headers], body.Length);
            await stream.WriteAsync(body.AsMemory(0, DropAfterBytes));
            await stream.FlushAsync();
            // Close mid-body: the client has every byte sent so far, then the connection ends early.
            client.Client.Shutdown(SocketShutdown.Both);
            client.Client.Close();
            return;
        }
        await Send(stream, status, status == 206 ? "Partial Content" : "OK", [.. headers], body);
    }

    private static async Task Send(NetworkStream s, int status, string reason, (string, string)[] headers, byte[] body, long? contentLength = null)
    {
        await WriteHead(s, status, reason, headers, contentLength ?? body.Length);
        if (body.Length > 0) await s.WriteAsync(body);
        await s.FlushAsync();
    }

    private static async Task WriteHead(NetworkStream s, int status, string reason, (string Name, string Value)[] headers, long contentLength)
    {
        var sb = new StringBuilder($"HTTP/1.1 {status} {reason}\r\n");
        foreach (var (n, v) in headers) sb.Append($"{n}: {v}\r\n");
        sb.Append($"Content-Length: {contentLength}\r\nConnection: close\r\n\r\n");
        await s.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()));
    }

    private static async Task<(string? Method, string Target, Dictionary<string, string> Headers)> ReadRequest(NetworkStream s)
    {
        var buf = new List<byte>();
        var one = new byte[1];
        while (buf.Count < 65536)
        {
            int n = await s.ReadAsync(one);
            if (n == 0) return (null, "", []);
            buf.Add(one[0]);
            int c = buf.Count;
            if (c >= 4 && buf[c - 4] == '\r' && buf[c - 3] == '\n' && buf[c - 2] == '\r' && buf[c - 1] == '\n') break;
        }
        var lines = Encoding.ASCII.GetString(buf.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var l in lines.Skip(1))
        {
            int i = l.IndexOf(':');
            if (i > 0) headers[l[..i].Trim().ToLowerInvariant()] = l[(i + 1)..].Trim();
        }
        return (first[0], first.Length > 1 ? first[1] : "/", headers);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
