// The front end's files (web/ built by Vite at build time), embedded in this assembly under
// "wwwroot/" and served from memory: the app needs no folder beside the executable.
using System.Reflection;

namespace Glassbox.Server;

internal sealed record Asset(byte[] Bytes, string ContentType);

internal sealed class EmbeddedAssets
{
    private readonly Dictionary<string, Asset> _files;

    private EmbeddedAssets(Dictionary<string, Asset> files) => _files = files;

    public static EmbeddedAssets Load()
    {
        var asm = typeof(EmbeddedAssets).Assembly;
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            string path = name["wwwroot/".Length..].Replace('\\', '/');
            files[path] = new Asset(ms.ToArray(), ContentType(path));
        }
        if (!files.ContainsKey("index.html"))
            throw new InvalidOperationException("Glassbox.Server was built without its web front end (no embedded wwwroot/index.html); rebuild with npm on PATH.");
        return new EmbeddedAssets(files);
    }

    public Asset Index => _files["index.html"];

    public IEnumerable<string> Paths => _files.Keys;

    public bool TryGet(string path, out Asset asset) => _files.TryGetValue(path, out asset!);

    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" or ".mjs" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".json" => "application/json; charset=utf-8",
        ".map" => "application/json; charset=utf-8",
        _ => "application/octet-stream",
    };
}
