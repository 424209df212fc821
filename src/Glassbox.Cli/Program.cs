// The `glassbox` command. One verb per job; exit codes 0 ok / 1 failure / 2 bad input.
// Run(args, stdout, stderr) is the whole program, so tests drive it in-process.

using System.CommandLine;

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
        var root = new RootCommand("Glassbox: explain transformer models from .NET.");
        root.Subcommands.Add(TokenizeCommand.Create(stdout, stderr));
        root.Subcommands.Add(PredictCommand.Create(stdout, stderr));
        root.Subcommands.Add(ExplainCommand.Create(stdout, stderr));
        root.Subcommands.Add(LmCommand.Create(stdout, stderr));
        root.Subcommands.Add(ServeCommand.Create(stdout, stderr));

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"error: {error.Message}");
            string verb = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
            stderr.WriteLine($"Run 'glassbox {verb}--help' for usage.");
            return ExitBadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            stderr.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            return ExitFailure;
        }
    }
}
