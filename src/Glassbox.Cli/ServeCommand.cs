// `glassbox serve`: the web app (Glassbox.Server) on the models and datasets named here. Only these
// files are ever read by the server; it binds 127.0.0.1 unless --host says otherwise, and warns
// when it does, because the API then answers anyone who can reach the port. --model takes a Hugging
// Face folder or Hub id, an ONNX export (with --tokenizer) or an HTTP endpoint (ServeModels); --data
// takes CSV/TSV/JSONL/Parquet, its columns named by --text-column/--label-column/--pair-column or found
// by their usual names.
using System.CommandLine;
using Glassbox.Explain.Extensions;
using Glassbox.Models.Data;
using Glassbox.Server;

namespace Glassbox.Cli;

internal static class ServeCommand
{
    /// <summary>The serve verb; <paramref name="ct"/> stops it and <paramref name="started"/> is told the URL (tests).</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken ct = default, Action<Uri>? started = null)
    {
        var modelOption = new Option<string[]>("--model") { Description = "NAME=MODEL to serve under NAME: a model folder (Hugging Face layout) or Hub id, a FILE.onnx (with --tokenizer), or an http://HOST:PORT/PATH endpoint (docs/EXTENDING.md); repeat for more models", Required = true };
        var tokenizerOption = new Option<string[]>("--tokenizer") { Description = "DIR, or NAME=DIR: the tokenizer of the ONNX/HTTP model NAME (default: the files beside the .onnx; an HTTP model without one is explained word by word)" };
        var dataOption = new Option<string[]>("--data") { Description = "NAME=FILE: a dataset (CSV, TSV, JSONL or Parquet with named columns) to serve under NAME; repeat for more" };
        var textColumnOption = new Option<string?>("--text-column") { Description = "column with the text in every --data file (default: found by name: text, sentence, question, ...)" };
        var labelColumnOption = new Option<string?>("--label-column") { Description = "column with the gold label (with --text-column; default: none)" };
        var pairColumnOption = new Option<string?>("--pair-column") { Description = "column with the second text / context (with --text-column; default: none)" };
        var idColumnOption = new Option<string?>("--id-column") { Description = "column with example ids (with --text-column; default: id/idx if present, else row numbers)" };
        var portOption = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 5432 };
        var hostOption = new Option<string>("--host") { Description = "address to bind; anything but 127.0.0.1/localhost exposes the models to the network", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("serve", "Serve the Glassbox web app (LIT-style data table, predictions, salience, attention) on 127.0.0.1.")
        {
            modelOption, tokenizerOption, dataOption, textColumnOption, labelColumnOption, pairColumnOption, idColumnOption, portOption, hostOption,
        };
        command.Validators.Add(result =>
        {
            if (CliParsing.ParsedOrDefault(() => result.GetValue(portOption)) is int p && (p < 0 || p > 65535))
                result.AddError($"--port must be between 0 and 65535, not {p}.");
        });
        command.SetAction(parse =>
        {
            ServerOptions options;
            (string Name, string Value)[] models;
            DataColumns? columns = null;
            try
            {
                string? text = parse.GetValue(textColumnOption), label = parse.GetValue(labelColumnOption), pair = parse.GetValue(pairColumnOption), id = parse.GetValue(idColumnOption);
                if (text is null && (label ?? pair ?? id) is not null)
                    throw new ArgumentException("--label-column, --pair-column and --id-column go with --text-column; name the text column too (e.g. --text-column sentence).");
                if (text is not null) columns = new DataColumns(text, label, pair, id);
                models = parse.GetValue(modelOption)!.Select(a => ServerOptions.ParseNamed(a, "--model")).ToArray();
                options = new ServerOptions
                {
                    Datasets = (parse.GetValue(dataOption) ?? []).Select(a => ServerOptions.ParseNamed(a, "--data")).Select(t => new DatasetSource(t.Name, t.Value, columns)).ToArray(),
                    Port = parse.GetValue(portOption),
                    Host = parse.GetValue(hostOption)!,
                };
                if (columns is not null && options.Datasets.Count == 0)
                    throw new ArgumentException("--text-column names a column of the --data files, and no --data is given.");
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
            var tokenizers = parse.GetValue(tokenizerOption) ?? [];
            return Serve(() =>
            {
                var app = GlassboxApp.Create(options);
                ServeModels.Register(app, models, tokenizers);
                return app;
            }, options, stdout, stderr, ct, started);
        });
        return command;
    }

    /// <summary>Loads, starts, prints the URL and serves until Ctrl+C (or ct). Also used by `glassbox demo`.</summary>
    internal static int Serve(ServerOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct, Action<Uri>? started = null) =>
        Serve(() => GlassboxApp.Create(options), options, stdout, stderr, ct, started);

    /// <summary>Registers (<paramref name="register"/>), loads, starts and serves; a model or dataset that cannot be
    /// served (a bad path, column, ONNX graph or spec) is exit 2 with the message.</summary>
    internal static int Serve(Func<GlassboxApp> register, ServerOptions options, TextWriter stdout, TextWriter stderr, CancellationToken ct, Action<Uri>? started = null)
    {
        if (!GlassboxServer.IsLoopback(options.Host))
            stderr.WriteLine($"warning: --host {options.Host} makes the server reachable from other machines; anyone who can reach port {options.Port} can run the models. Use the default 127.0.0.1 unless you mean it.");
        GlassboxServer server;
        try
        {
            server = register().Build(stdout);
        }
        catch (Exception e) when (e is ArgumentException or SpecException)
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
