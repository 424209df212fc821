namespace Glassbox.Models.Tests;

/// <summary>Finds ../shared (the read-only reference files) by walking up from the test binaries.</summary>
internal static class SharedData
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
            if (Directory.Exists(Path.Combine(dir.FullName, "models")) && File.Exists(Path.Combine(dir.FullName, "DESIGN.md")))
                return dir.FullName;
            dir = dir.Parent;
        }
        // The build copy may live outside the repository; fall back to the canonical location.
        if (Directory.Exists("/work/shared/models")) return "/work/shared";
        throw new DirectoryNotFoundException($"no 'shared/models' folder above {AppContext.BaseDirectory}");
    });

    public static string Root => s_root.Value;

    public static string Model(string name) => Path.Combine(Root, "models", name);

    public static IEnumerable<string> ModelNames =>
        Directory.GetDirectories(Path.Combine(Root, "models")).Select(Path.GetFileName).OfType<string>().OrderBy(n => n, StringComparer.Ordinal);
}

/// <summary>A temporary folder deleted on Dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glassbox-models-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Goldens are written by Python's json, which emits bare NaN/Infinity; read those as null.</summary>
internal static class PythonJson
{
    public static System.Text.Json.JsonDocument Parse(string path)
    {
        var src = File.ReadAllBytes(path);
        var dst = new List<byte>(src.Length);
        bool inString = false;
        for (int i = 0; i < src.Length; i++)
        {
            byte b = src[i];
            if (inString)
            {
                dst.Add(b);
                if (b == (byte)'\\' && i + 1 < src.Length) dst.Add(src[++i]);
                else if (b == (byte)'"') inString = false;
                continue;
            }
            if (b == (byte)'"') { inString = true; dst.Add(b); continue; }
            int skip = Match(src, i, "NaN") ? 3 : Match(src, i, "-Infinity") ? 9 : Match(src, i, "Infinity") ? 8 : 0;
            if (skip > 0) { dst.AddRange("null"u8.ToArray()); i += skip - 1; continue; }
            dst.Add(b);
        }
        return System.Text.Json.JsonDocument.Parse(dst.ToArray());
    }

    private static bool Match(byte[] s, int i, string word)
    {
        if (i + word.Length > s.Length) return false;
        for (int k = 0; k < word.Length; k++) if (s[i + k] != (byte)word[k]) return false;
        return true;
    }
}
