// The `glassbox` command. One verb per job; exit codes 0 ok / 1 failure / 2 bad input.
// Run(args, stdout, stderr) is the whole program, so tests drive it in-process. --version prints the
// informational version; --threads and --progress are recursive root options, so every verb has them
// (CommonOptions, CliProgress). Progress and messages go to stderr, results to stdout or --out.

using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using Glassbox.Tensors;

namespace Glassbox.Cli;

public static class Program
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitBadInput = 2;

    public static int Main(string[] args)
    {
        Console.OutputEncoding = System.Text.Encoding.UTF8;
        using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
        int code = Run(args, stdout, Console.Error);
        stdout.Flush();
        return code;
    }

    /// <summary>Runs the command line <paramref name="args"/>, writing results and messages to the given writers.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = CreateRoot(stdout, stderr, out var threadsOption);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"error: {error.Message}");
            string verb = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
            stderr.WriteLine($"Run 'glassbox {verb}--help' for usage.");
            return ExitBadInput;
        }
        int? threads = parsed.GetValue(threadsOption);
        int previousThreads = Parallelism.ThreadCount;
        if (threads is int n) Parallelism.ThreadCount = n;
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            stderr.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            return ExitFailure;
        }
        finally
        {
            if (threads is not null) Parallelism.ThreadCount = previousThreads;
        }
    }

    /// <summary>The command tree: every verb, and the recursive --threads and --progress options.</summary>
    internal static RootCommand CreateRoot(TextWriter stdout, TextWriter stderr, out Option<int?> threadsOption)
    {
        var root = new RootCommand("Glassbox: explain transformer models from .NET.");
        root.Subcommands.Add(TokenizeCommand.Create(stdout, stderr));
        root.Subcommands.Add(PredictCommand.Create(stdout, stderr));
        root.Subcommands.Add(ExplainCommand.Create(stdout, stderr));
        root.Subcommands.Add(LmCommand.Create(stdout, stderr));
        root.Subcommands.Add(TcavCommand.Create(stdout, stderr));
        root.Subcommands.Add(ExplainDatasetCommand.Create(stdout, stderr));
        root.Subcommands.Add(MergeResultsCommand.Create(stdout, stderr));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(ServeCommand.Create(stdout, stderr));
        root.Subcommands.Add(EvaluateExplanationsCommand.Create(stdout, stderr));
        root.Subcommands.Add(TrainCommand.Create(stdout, stderr));
        // --version prints Glassbox's version (the default prints the entry assembly's, the test host's in-process).
        foreach (var version in root.Options.OfType<VersionOption>()) version.Action = new PrintVersionAction(stdout);
        threadsOption = CommonOptions.CreateThreadsOption();
        root.Options.Add(threadsOption);
        root.Options.Add(CliProgress.CreateOption());
        return root;
    }

    /// <summary>Glassbox's informational version: the package version and, after '+', the commit it was built from.</summary>
    public static string Version { get; } =
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Program).Assembly.GetName().Version?.ToString() ?? "unknown";

    private sealed class PrintVersionAction(TextWriter stdout) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            stdout.WriteLine(Version);
            return ExitOk;
        }
    }
}
