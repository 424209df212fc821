// `glassbox lm generate|attribute|layer-predictions|rankings|rankings-watch|nmf`: Ecco's analyses
// of a language model's continuation of --prompt, printed as one JSON object (camelCase). Every
// verb generates first (greedy unless --do-sample), so each output carries the tokens and the
// per-step probabilities; then:
//   generate           + attributions for the --method(s) given, if any
//   attribute          + attributions (default --method ig)
//   layer-predictions  + each layer's top tokens at --position (default: the first generated token)
//   rankings           + the rank of every generated token at every layer ([layer][generated token])
//   rankings-watch     + the ranks of --watch tokens at --position ([layer][watched token])
//   nmf                + Ecco's NMF of the MLP neuron activations (--components, --layers)
// --ecco-compatible makes the logit lens Ecco's (no final norm on intermediate layers).
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Explain.LanguageModels;
using Glassbox.Models;
using Glassbox.Models.Configs;
using Glassbox.Models.Hub;
using Glassbox.Tokenizers;

namespace Glassbox.Cli;

internal static class LmCommand
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    private static readonly string[] Verbs = ["generate", "attribute", "layer-predictions", "rankings", "rankings-watch", "nmf"];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var lm = new Command("lm", "Ecco-style language-model analysis: generation with attributions, logit lens, rankings, neuron factors.");
        foreach (var verb in Verbs) lm.Subcommands.Add(CreateVerb(verb, stdout, stderr));
        return lm;
    }

    private static Command CreateVerb(string verb, TextWriter stdout, TextWriter stderr)
    {
        var modelOption = new Option<string>("--model") { Description = "model folder (Hugging Face layout) or Hub id org/name[@revision]", Required = true };
        var promptOption = new Option<string>("--prompt") { Description = "text the model continues", Required = true };
        var maxNewOption = new Option<int>("--max-new-tokens") { Description = "tokens to generate", DefaultValueFactory = _ => 8 };
        var methodOption = new Option<string[]>("--method") { Description = "attribution method(s): ig, saliency, input-x-gradient (Ecco: grad_x_input); repeat or separate by commas", AllowMultipleArgumentsPerToken = true };
        var positionOption = new Option<int?>("--position") { Description = "index of a generated token in the whole sequence (Ecco's numbering; default: the first generated token)" };
        var watchOption = new Option<string?>("--watch") { Description = "comma-separated tokens to watch: vocabulary entries (Ġthe) or text that is one token ( the)" };
        var topKOption = new Option<int>("--top-k") { Description = "tokens per layer for layer-predictions", DefaultValueFactory = _ => 10 };
        var componentsOption = new Option<int>("--components") { Description = "NMF components", DefaultValueFactory = _ => 10 };
        var layersOption = new Option<string?>("--layers") { Description = "comma-separated layers whose neurons are recorded (default all)" };
        var eccoOption = new Option<bool>("--ecco-compatible") { Description = "Ecco's logit lens: no final norm on intermediate layers" };
        var sampleOption = new Option<bool>("--do-sample") { Description = "sample instead of greedy decoding" };
        var seedOption = new Option<int?>("--seed") { Description = "sampling seed" };
        var formatOption = new Option<string>("--format") { Description = "output format", DefaultValueFactory = _ => "json" };
        formatOption.AcceptOnlyFromAmong("json", "html");
        var outOption = new Option<string?>("--out") { Description = "write the output to this file (atomically) instead of standard output" };

        var command = new Command(verb, Describe(verb))
        {
            modelOption, promptOption, maxNewOption, methodOption, positionOption, watchOption, topKOption, componentsOption,
            layersOption, eccoOption, sampleOption, seedOption, formatOption, outOption,
        };
        command.Validators.Add(result =>
        {
            if (verb == "rankings-watch" && result.GetResult(watchOption) is null)
                result.AddError("rankings-watch needs --watch tok1,tok2.");
            // Only values given on the command line are checked (defaults are valid).
            if (result.GetResult(maxNewOption) is not null && Parsed(() => result.GetValue(maxNewOption)) is int n && (n < 1 || n > LanguageModelAnalyzer.MaxNewTokensLimit))
                result.AddError($"--max-new-tokens must be between 1 and {LanguageModelAnalyzer.MaxNewTokensLimit}, not {n}.");
            if (result.GetResult(topKOption) is not null && Parsed(() => result.GetValue(topKOption)) is int k && k < 1)
                result.AddError($"--top-k must be at least 1, not {k}.");
            if (result.GetResult(componentsOption) is not null && Parsed(() => result.GetValue(componentsOption)) is int c && c < 1)
                result.AddError($"--components must be at least 1, not {c}.");
        });

        command.SetAction(parse =>
        {
            if (!CommonOptions.CheckOutPath(parse.GetValue(outOption), stderr)) return Program.ExitBadInput;
            try
            {
                var methods = ParseMethods(parse.GetValue(methodOption), verb);
                var layers = ParseLayers(parse.GetValue(layersOption));
                if (!TryLoad(parse.GetValue(modelOption)!, stderr, out var analyzer)) return Program.ExitBadInput;
                var analysis = analyzer.Generate(parse.GetValue(promptOption)!, new LmGenerateOptions
                {
                    MaxNewTokens = parse.GetValue(maxNewOption),
                    DoSample = parse.GetValue(sampleOption),
                    Seed = parse.GetValue(seedOption),
                    Attributions = methods,
                    CaptureActivations = verb == "nmf",
                    ActivationLayers = layers,
                });
                bool ecco = parse.GetValue(eccoOption);
                if (parse.GetValue(formatOption) == "html")
                {
                    // One page with every Ecco view this generation has data for: attributions (--method),
                    // the logit lens at every generated position (--position first), rankings, rankings
                    // watch (--watch), NMF factors (the nmf verb); tokens shown as the tokenizer decodes them.
                    var tokenizer = analyzer.Tokenizer;
                    string html = Glassbox.Render.LmAnalysisHtml.Render(analysis, parse.GetValue(modelOption)!, new Glassbox.Render.LmViewOptions
                    {
                        EccoCompatible = ecco,
                        TopK = parse.GetValue(topKOption),
                        Position = parse.GetValue(positionOption),
                        Watch = parse.GetValue(watchOption)?.Split(',', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } w ? w
                            : verb == "rankings-watch" ? throw new ArgumentException("--watch lists no token; give tok1,tok2.") : null,
                        NmfComponents = verb == "nmf" ? parse.GetValue(componentsOption) : 0,
                        TokenText = tokenizer is null ? null : id => tokenizer.Decode([id]),
                    });
                    if (parse.GetValue(outOption) is { } htmlPath) Glassbox.Render.AtomicFile.WriteAllText(htmlPath, html);
                    else stdout.WriteLine(html);
                    return Program.ExitOk;
                }
                string json = Write(analysis, w =>
                {
                    w.WriteBoolean("eccoCompatible", ecco);
                    int position = parse.GetValue(positionOption) ?? analysis.FirstGeneratedIndex;
                    switch (verb)
                    {
                        case "layer-predictions":
                            var preds = analysis.LayerPredictions(position, parse.GetValue(topKOption), ecco);
                            w.WriteNumber("position", position);
                            w.WriteStartArray("layerPredictions");
                            foreach (var p in preds)
                            {
                                w.WriteStartObject();
                                w.WriteNumber("layer", p.Layer);
                                Ints(w, "topIds", p.TopIds);
                                Strings(w, "topTokens", p.TopTokens);
                                Floats(w, "topProbabilities", p.TopProbabilities);
                                w.WriteEndObject();
                            }
                            w.WriteEndArray();
                            break;
                        case "rankings":
                            Matrix(w, "rankings", analysis.Rankings(ecco));
                            break;
                        case "rankings-watch":
                            var watch = parse.GetValue(watchOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries);
                            if (watch.Length == 0) throw new ArgumentException("--watch lists no token; give tok1,tok2.");
                            w.WriteNumber("position", position);
                            Strings(w, "watch", watch);
                            Matrix(w, "rankings", analysis.RankingsWatch(watch, position, ecco));
                            break;
                        case "nmf":
                            var f = analysis.Nmf(parse.GetValue(componentsOption));
                            Ints(w, "layers", f.Layers);
                            Strings(w, "componentTokens", f.Tokens);
                            w.WriteStartArray("components");
                            foreach (var c in f.Components) { w.WriteStartArray(); foreach (var v in c) w.WriteNumberValue(v); w.WriteEndArray(); }
                            w.WriteEndArray();
                            w.WriteNumber("reconstructionError", f.ReconstructionError);
                            w.WriteNumber("iterations", f.Iterations);
                            w.WriteBoolean("converged", f.Converged);
                            break;
                    }
                });
                if (parse.GetValue(outOption) is { } outPath) Glassbox.Render.AtomicFile.WriteAllText(outPath, json + "\n");
                else stdout.WriteLine(json);
                return Program.ExitOk;
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
        });
        return command;
    }

    private static string Describe(string verb) => verb switch
    {
        "generate" => "Generate a continuation with every step's top tokens (and attributions with --method).",
        "attribute" => "Generate, and attribute every generated token to the earlier tokens (Ecco's primary attributions).",
        "layer-predictions" => "Generate, and show each layer's top predictions at --position (logit lens).",
        "rankings" => "Generate, and rank every generated token at every layer.",
        "rankings-watch" => "Generate, and rank the --watch tokens at every layer at --position.",
        _ => "Generate, and factorise the MLP neuron activations with NMF (Ecco's run_nmf).",
    };

    private static int? Parsed(Func<int> read)
    {
        try { return read(); }
        catch (InvalidOperationException) { return null; }
    }

    private static IReadOnlyList<LmAttributionMethod> ParseMethods(string[]? given, string verb)
    {
        var names = (given ?? []).SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (names.Length == 0) return verb == "attribute" ? [LmAttributionMethod.IntegratedGradients] : [];
        return [.. names.Select(LmAttributionMethods.Parse).Distinct()];
    }

    private static int[]? ParseLayers(string? given)
    {
        if (given is null) return null;
        var parts = given.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException("--layers lists no layer; give e.g. 0,1.");
        return [.. parts.Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int l) ? l
            : throw new ArgumentException($"--layers: '{p}' is not a layer number."))];
    }

    internal static bool TryLoad(string modelArg, TextWriter stderr, out LanguageModelAnalyzer analyzer)
    {
        analyzer = null!;
        string folder;
        try
        {
            folder = HubClient.ResolveModelFolder(modelArg);
            var model = AutoModel.FromPretrained(folder);
            if (model is not ILanguageModel lm)
            {
                stderr.WriteLine($"error: {modelArg} is a {model.ArchitectureName}, not a language model.");
                stderr.WriteLine("glassbox lm needs a causal language model (GPT-2, GPT-NeoX, Llama) or T5; use glassbox explain for classifiers.");
                return false;
            }
            analyzer = new LanguageModelAnalyzer(lm, TokenizerLoader.Load(folder));
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            stderr.WriteLine($"error: model folder not found: {modelArg}");
            stderr.WriteLine("Pass --model a Hugging Face model folder (config.json, weights, tokenizer.json) or a Hub id in the cache.");
        }
        catch (HubException e)
        {
            stderr.WriteLine($"error: cannot resolve the model '{modelArg}': {e.Message}");
        }
        catch (FileNotFoundException e)
        {
            stderr.WriteLine($"error: {modelArg}: {e.Message}");
            stderr.WriteLine("A model folder needs config.json, weights (model.safetensors or pytorch_model.bin) and tokenizer files.");
        }
        catch (Exception e) when (e is ConfigException or NotSupportedException or Glassbox.Models.Checkpoints.CheckpointFormatException
            or JsonException or InvalidDataException or TokenizerFormatException or FormatException)
        {
            stderr.WriteLine($"error: cannot load the model from {modelArg}: {e.Message}");
        }
        return false;
    }

    private static string Write(LmAnalysis a, Action<Utf8JsonWriter> extra)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            Strings(w, "tokens", a.Tokens);
            Ints(w, "tokenIds", a.TokenIds);
            w.WriteNumber("inputTokenCount", a.InputTokenCount);
            w.WriteNumber("firstGeneratedPosition", a.FirstGeneratedIndex);
            Ints(w, "generatedIds", a.GeneratedIds);
            w.WriteStartArray("steps");
            foreach (var s in a.Steps)
            {
                w.WriteStartObject();
                w.WriteNumber("tokenId", s.TokenId);
                w.WriteNumber("probability", s.Probability);
                Ints(w, "topIds", s.TopIds);
                Floats(w, "topProbabilities", s.TopProbabilities);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (a.Attributions.Count > 0)
            {
                w.WriteStartObject("attributions");
                foreach (var (m, rows) in a.Attributions) Matrix(w, m.EccoName(), rows.Select(r => r.Normalized));
                w.WriteEndObject();
                // Raw: each position's L2 norm of the attribution over the embedding dimension, before
                // Ecco divides by the sum (the full [position, dim] arrays are in the C# API).
                w.WriteStartObject("rawAttributions");
                foreach (var (m, rows) in a.Attributions) Matrix(w, m.EccoName(), rows.Select(r => r.PositionNorms));
                w.WriteEndObject();
                if (a.Attributions.TryGetValue(LmAttributionMethod.IntegratedGradients, out var ig))
                {
                    w.WriteStartArray("convergenceDeltas");
                    foreach (var r in ig) w.WriteNumberValue(r.ConvergenceDelta ?? 0);
                    w.WriteEndArray();
                }
            }
            extra(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Ints(Utf8JsonWriter w, string name, IEnumerable<int> xs) { w.WriteStartArray(name); foreach (var x in xs) w.WriteNumberValue(x); w.WriteEndArray(); }
    private static void Floats(Utf8JsonWriter w, string name, IEnumerable<float> xs) { w.WriteStartArray(name); foreach (var x in xs) w.WriteNumberValue(x); w.WriteEndArray(); }
    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> xs) { w.WriteStartArray(name); foreach (var x in xs) w.WriteStringValue(x); w.WriteEndArray(); }

    private static void Matrix<T>(Utf8JsonWriter w, string name, IEnumerable<IEnumerable<T>> rows)
    {
        w.WriteStartArray(name);
        foreach (var row in rows)
        {
            w.WriteStartArray();
            foreach (var v in row)
                switch (v)
                {
                    case int i: w.WriteNumberValue(i); break;
                    case float f: w.WriteNumberValue(f); break;
                    default: w.WriteNumberValue(Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture)); break;
                }
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }
}
