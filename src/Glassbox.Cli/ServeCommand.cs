// `glassbox serve`: the web app (Glassbox.Server) on the models and datasets named here. Only these
// files are ever read by the server; it binds 127.0.0.1 unless --host says otherwise, and warns
// when it does, because the API then answers anyone who can reach the port.
using System.CommandLine;
using Glassbox.Server;

namespace Glassbox.Cli;

internal static class ServeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var modelOption = new Option<string[]>("--model") { Description = "NAME=DIR_OR_ID: a model folder (Hugging Face layout) or Hub id to serve under NAME; repeat for more models", Required = true };
        var dataOption = new Option<string[]>("--data") { Description = "NAME=FILE: a dataset (TSV/CSV with a header, or JSONL) to serve under NAME; repeat for more" };
        var portOption = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 5432 };
        var hostOption = new Option<string>("--host") { Description = "address to bind; anything but 127.0.0.1/localhost exposes the models to the network", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("serve", "Serve the Glassbox web app (LIT-style data table, predictions, salience, attention) on 127.0.0.1.")
        {
            modelOption, dataOption, portOption, hostOption,
        };
        command.Validators.Add(result =>
        {
            if (CliParsing.ParsedOrDefault(() => result.GetValue(portOption)) is int p && (p < 0 || p > 65535))
                result.AddError($"--port must be between 0 and 65535, not {p}.");
        });
        command.SetAction(parse =>
        {
            ServerOptions options;
            try
            {
                options = new ServerOptions
                {
                    Models = parse.GetValue(modelOption)!.Select(a => ServerOptions.ParseNamed(a, "--model")).Select(t => new ModelSource(t.Name, t.Value)).ToArray(),
                    Datasets = (parse.GetValue(dataOption) ?? []).Select(a => ServerOptions.ParseNamed(a, "--data")).Select(t => new DatasetSource(t.Name, t.Value)).ToArray(),
                    Port = parse.GetValue(portOption),
                    Host = parse.GetValue(hostOption)!,
                };
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
            return Serve(options, stdout, stderr, CancellationToken.None);
        });
        return command;
    }

    /// <summary>Loads, starts, prints the URL and serves until Ctrl+C (or ct). Also used by `glassbox demo`.</summary>
    internal static int Serve(ServerOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct, Action<Uri>? started = null)
    {
        if (!GlassboxServer.IsLoopback(options.Host))
            stderr.WriteLine($"warning: --host {options.Host} makes the server reachable from other machines; anyone who can reach port {options.Port} can run the models. Use the default 127.0.0.1 unless you mean it.");
        GlassboxServer server;
        try
        {
            server = GlassboxServer.Create(options, stdout);
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Program.ExitBadInput;
        }
        try
        {
            try
            {
                server.StartAsync(ct).GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                stderr.WriteLine($"error: cannot listen on {options.Host}:{options.Port}: {e.Message} Pass another --port (or --port 0 for any free one).");
                return Program.ExitFailure;
            }
            stdout.WriteLine($"Glassbox is serving at {server.Url} (Ctrl+C to stop)");
            stdout.Flush();
            started?.Invoke(server.Url);
            server.WaitForShutdownAsync(ct).GetAwaiter().GetResult();
            return Program.ExitOk;
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
