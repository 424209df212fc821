// Where the Hub cache lives and how to reach the Hub, read from the same environment variables
// huggingface_hub reads, so Glassbox and Python share one cache:
//   HF_HUB_CACHE (else $HF_HOME/hub, else ~/.cache/huggingface/hub), HF_ENDPOINT
//   (https://huggingface.co), HF_TOKEN (else the token file $HF_HOME/token), HF_HUB_OFFLINE.
namespace Glassbox.Models.Hub;

/// <summary>Progress of one file download: bytes on disk so far (including a resumed prefix) and the expected total when known.</summary>
public sealed record DownloadProgress(string RepoId, string FileName, long BytesDone, long? TotalBytes);

public sealed record HubOptions
{
    public required string CacheDir { get; init; }
    public string Endpoint { get; init; } = "https://huggingface.co";
    public string? Token { get; init; }
    /// <summary>Never touch the network; resolve from the cache only (HF_HUB_OFFLINE=1).</summary>
    public bool Offline { get; init; }
    /// <summary>Timeout for metadata (HEAD) requests, like HF_HUB_ETAG_TIMEOUT.</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Longest wait for the next bytes of a download, like HF_HUB_DOWNLOAD_TIMEOUT.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Attempts per file when a connection drops mid-download (each resumes with a Range request).</summary>
    public int MaxAttempts { get; init; } = 5;
    public Action<DownloadProgress>? Progress { get; init; }

    public static HubOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Reads the huggingface_hub environment variables through <paramref name="getenv"/> (tests pass a dictionary).</summary>
    public static HubOptions FromEnvironment(Func<string, string?> getenv)
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string? xdg = NonEmpty(getenv("XDG_CACHE_HOME"));
        string hfHome = Expand(NonEmpty(getenv("HF_HOME")) ?? Path.Combine(xdg ?? Path.Combine(home, ".cache"), "huggingface"), home);
        string cache = Expand(NonEmpty(getenv("HF_HUB_CACHE")) ?? NonEmpty(getenv("HUGGINGFACE_HUB_CACHE")) ?? Path.Combine(hfHome, "hub"), home);
        string? token = NonEmpty(getenv("HF_TOKEN")) ?? NonEmpty(getenv("HUGGING_FACE_HUB_TOKEN"));
        if (token is null)
        {
            string tokenFile = Expand(NonEmpty(getenv("HF_TOKEN_PATH")) ?? Path.Combine(hfHome, "token"), home);
            try
            {
                if (File.Exists(tokenFile)) token = NonEmpty(File.ReadAllText(tokenFile).Trim());
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return new HubOptions
        {
            CacheDir = cache,
            Endpoint = (NonEmpty(getenv("HF_ENDPOINT")) ?? "https://huggingface.co").TrimEnd('/'),
            Token = token,
            Offline = IsTrue(getenv("HF_HUB_OFFLINE")) || IsTrue(getenv("TRANSFORMERS_OFFLINE")),
        };
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string Expand(string p, string home) => p == "~" ? home : p.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, p[2..]) : p;

    private static bool IsTrue(string? v) => v is not null && v.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
