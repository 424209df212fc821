using System.Text.Json;

namespace Glassbox.Cli.Tests;

internal static class CliTestSupport
{
    public static string SharedDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared");
                if (Directory.Exists(Path.Combine(candidate, "golden", "tokenizers")))
                    return Path.GetFullPath(candidate);
                dir = dir.Parent;
            }
            return "/work/shared";
        }
    }

    public static string TokenizerDir(string name) => Path.Combine(SharedDir, "tokenizers", name);

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static JsonElement[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .ToArray();

    public static string TempFile(string content, string extension = ".jsonl")
    {
        string path = Path.Combine(Path.GetTempPath(), $"glassbox-cli-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, content);
        return path;
    }
}
