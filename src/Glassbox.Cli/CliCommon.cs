// Options every verb shares, so that they mean the same everywhere:
//   --threads N   kernel threads (Parallelism.ThreadCount; default GLASSBOX_THREADS or all cores). Results do
//                 not depend on it: kernels split work so that each output is computed by one thread.
//   --progress    progress on standard error even when it is redirected (CliProgress).
// Both are recursive options of the root command, so `glassbox VERB --help` lists them. The per-verb
// options --model, --format, --out and --seed are created by each verb with the same names and meanings;
// an --out whose folder does not exist is bad input (exit 2) before any work starts.
using System.CommandLine;

namespace Glassbox.Cli;

internal static class CommonOptions
{
    public const string ThreadsName = "--threads";

    /// <summary>--threads N (recursive, on the root command).</summary>
    public static Option<int?> CreateThreadsOption()
    {
        var option = new Option<int?>(ThreadsName)
        {
            Description = "threads for the tensor kernels (default: GLASSBOX_THREADS, else all cores); results do not depend on it",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            if (CliParsing.ParsedOrDefault(() => result.GetValueOrDefault<int?>()) is int n && n < 1)
                result.AddError($"--threads must be at least 1, not {n}.");
        });
        return option;
    }

    /// <summary>False (after writing a message naming the option and the way out) when <paramref name="path"/>'s folder
    /// does not exist, or when a file is expected (<paramref name="file"/>) and the path is an existing folder.</summary>
    public static bool CheckOutPath(string? path, TextWriter stderr, string option = "--out", bool file = true)
    {
        if (path is null) return true;
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            stderr.WriteLine($"error: {option} {path} is not a valid path: {e.Message}");
            return false;
        }
        if (file && Directory.Exists(full))
        {
            stderr.WriteLine($"error: {option} {path} is a folder; give a file name, e.g. {Path.Combine(path, "out.json")}.");
            return false;
        }
        string? dir = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar));
        if (dir is not null && !Directory.Exists(dir))
        {
            stderr.WriteLine($"error: cannot write {option} {path}: the folder {dir} does not exist; create it or choose another path.");
            return false;
        }
        return true;
    }
}
