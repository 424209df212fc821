// `glassbox tokenize`: encode text (or a JSONL file of {"text", "pair"} objects) and print, per
// input, one JSON object with ids, tokens, UTF-16 offsets, type ids, special-tokens mask, word
// ids and the decoded text. --out writes the same lines to a file, atomically, once every input
// has been encoded (a bad line leaves no file behind). --model is an alias of --tokenizer (a model
// folder holds the tokenizer), so the option reads the same as in the other verbs.

using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Tokenizers;

namespace Glassbox.Cli;

internal static class TokenizeCommand
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var tokenizerOption = new Option<string>("--tokenizer")
        {
            Description = "tokenizer.json file, SentencePiece .model file, or a model folder (tokenizer.json, vocab.txt, vocab.json + merges.txt, spiece.model / tokenizer.model)",
            Required = true,
        };
        tokenizerOption.Aliases.Add("--model");
        var textOption = new Option<string?>("--text") { Description = "text to encode" };
        var pairOption = new Option<string?>("--pair") { Description = "second sequence of a pair (with --text)" };
        var inputOption = new Option<string?>("--input") { Description = "JSONL file, one {\"text\": ..., \"pair\": ...} object per line" };
        var noSpecialOption = new Option<bool>("--no-special-tokens") { Description = "do not add the post-processor's special tokens" };
        var maxLengthOption = new Option<int?>("--max-length") { Description = "truncate to this many tokens (special tokens included)" };
        var truncationOption = new Option<string?>("--truncation") { Description = "truncation strategy when --max-length is set (default longest_first)" };
        truncationOption.AcceptOnlyFromAmong("longest_first", "only_first", "only_second");
        var strideOption = new Option<int>("--stride") { Description = "overlap of overflowing windows when truncating", DefaultValueFactory = _ => 0 };
        var formatOption = new Option<string>("--format") { Description = "output format", DefaultValueFactory = _ => "json" };
        formatOption.AcceptOnlyFromAmong("json");
        var outOption = new Option<string?>("--out") { Description = "write the JSON lines to this file (atomically) instead of standard output" };

        var command = new Command("tokenize", "Encode text with a Hugging Face tokenizer and print ids, tokens and offsets as JSON.")
        {
            tokenizerOption, textOption, pairOption, inputOption, noSpecialOption, maxLengthOption, truncationOption, strideOption, formatOption, outOption,
        };

        command.Validators.Add(result =>
        {
            bool hasText = result.GetResult(textOption) != null;
            bool hasInput = result.GetResult(inputOption) != null;
            if (hasText == hasInput)
                result.AddError("Give exactly one of --text or --input.");
            if (result.GetResult(pairOption) != null && !hasText)
                result.AddError("--pair goes with --text (in a --input file, give \"pair\" on each line).");
            if (result.GetResult(truncationOption) != null && result.GetResult(maxLengthOption) == null)
                result.AddError("--truncation needs --max-length.");
            // Values that failed to parse are already reported; read only the ones that parsed.
            if (ParsedOrDefault(() => result.GetValue(maxLengthOption)) is int n && n < 0)
                result.AddError($"--max-length must be at least 0, not {n}.");
            if (ParsedOrDefault(() => result.GetValue(strideOption)) < 0)
                result.AddError("--stride must be at least 0.");
        });

        command.SetAction(parse =>
        {
            string? outPath = parse.GetValue(outOption);
            if (!CommonOptions.CheckOutPath(outPath, stderr)) return Program.ExitBadInput;
            var sink = outPath is null ? stdout : new StringWriter();
            int code = Encode(parse, sink);
            if (code == Program.ExitOk && outPath is not null)
            {
                Glassbox.Render.AtomicFile.WriteAllText(outPath, sink.ToString()!);
                stderr.WriteLine($"wrote {outPath}");
            }
            return code;
        });
        return command;

        int Encode(ParseResult parse, TextWriter stdout)
        {
            string tokenizerPath = parse.GetValue(tokenizerOption)!;
            Tokenizer tokenizer;
            try
            {
                tokenizer = TokenizerLoader.Load(tokenizerPath);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                stderr.WriteLine($"error: {e.Message}");
                stderr.WriteLine("Pass --tokenizer a tokenizer.json file, a SentencePiece .model file, or a folder that holds one of them (or vocab.txt, or vocab.json + merges.txt).");
                return Program.ExitBadInput;
            }
            catch (Exception e) when (e is TokenizerFormatException or FormatException or JsonException or InvalidDataException)
            {
                stderr.WriteLine($"error: cannot load the tokenizer from {tokenizerPath}: {e.Message}");
                return Program.ExitBadInput;
            }

            if (parse.GetValue(maxLengthOption) is int maxLength)
            {
                tokenizer.Truncation = new TruncationOptions
                {
                    MaxLength = maxLength,
                    Stride = parse.GetValue(strideOption),
                    Strategy = (parse.GetValue(truncationOption) ?? "longest_first") switch
                    {
                        "only_first" => TruncationStrategy.OnlyFirst,
                        "only_second" => TruncationStrategy.OnlySecond,
                        _ => TruncationStrategy.LongestFirst,
                    },
                };
            }
            bool addSpecial = !parse.GetValue(noSpecialOption);

            string? text = parse.GetValue(textOption);
            if (text != null)
            {
                return EncodeAndPrint(tokenizer, text, parse.GetValue(pairOption), addSpecial, stdout, stderr, "--text");
            }

            string inputPath = parse.GetValue(inputOption)!;
            if (!File.Exists(inputPath))
            {
                stderr.WriteLine($"error: input file not found: {inputPath}");
                stderr.WriteLine("Pass --input a JSONL file with one {\"text\": \"...\", \"pair\": \"...\"} object per line (\"pair\" optional).");
                return Program.ExitBadInput;
            }
            int lineNumber = 0;
            foreach (string line in File.ReadLines(inputPath))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (!TryParseLine(line, out string? lineText, out string? linePair, out string? problem))
                {
                    stderr.WriteLine($"error: {inputPath}:{lineNumber}: {problem}");
                    stderr.WriteLine("Each line must be a JSON object like {\"text\": \"...\", \"pair\": \"...\"} (\"pair\" optional or null). Fix or remove that line and run again.");
                    stdout.Flush();
                    return Program.ExitBadInput;
                }
                int code = EncodeAndPrint(tokenizer, lineText!, linePair, addSpecial, stdout, stderr, $"{inputPath}:{lineNumber}");
                if (code != Program.ExitOk) return code;
            }
            return Program.ExitOk;
        }
    }

    private static T? ParsedOrDefault<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }

    internal static bool TryParseLine(string line, out string? text, out string? pair, out string? problem)
    {
        text = pair = problem = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            problem = $"not valid JSON ({e.Message})";
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"expected a JSON object, found {root.ValueKind}";
                return false;
            }
            if (!root.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
            {
                problem = t.ValueKind == JsonValueKind.Undefined ? "missing \"text\"" : $"\"text\" must be a string, found {t.ValueKind}";
                return false;
            }
            text = t.GetString();
            if (root.TryGetProperty("pair", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                if (p.ValueKind != JsonValueKind.String)
                {
                    problem = $"\"pair\" must be a string or null, found {p.ValueKind}";
                    return false;
                }
                pair = p.GetString();
            }
            return true;
        }
    }

    private static int EncodeAndPrint(Tokenizer tokenizer, string text, string? pair, bool addSpecial,
        TextWriter stdout, TextWriter stderr, string where)
    {
        Encoding encoding;
        try
        {
            encoding = tokenizer.Encode(text, pair, addSpecial);
        }
        catch (TokenizationException e)
        {
            stderr.WriteLine($"error: {where}: {e.Message}");
            stderr.WriteLine("Change --max-length / --truncation so that the input can be truncated that way.");
            return Program.ExitBadInput;
        }
        int[] ids = encoding.Ids;
        string decoded = tokenizer.Decode(ids, skipSpecialTokens: false);
        stdout.WriteLine(ToJson(encoding, ids, decoded));
        return Program.ExitOk;
    }

    internal static string ToJson(Encoding encoding, int[] ids, string decoded)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartArray("ids");
            foreach (int id in ids) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            foreach (string t in encoding.Tokens) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteStartArray("offsets");
            foreach (var (s, e) in encoding.Offsets)
            {
                w.WriteStartArray();
                w.WriteNumberValue(s);
                w.WriteNumberValue(e);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartArray("typeIds");
            foreach (int t in encoding.TypeIds) w.WriteNumberValue(t);
            w.WriteEndArray();
            w.WriteStartArray("specialTokensMask");
            foreach (int m in encoding.SpecialTokensMask) w.WriteNumberValue(m);
            w.WriteEndArray();
            w.WriteStartArray("wordIds");
            foreach (int? word in encoding.WordIds)
            {
                if (word is int v) w.WriteNumberValue(v);
                else w.WriteNullValue();
            }
            w.WriteEndArray();
            w.WriteString("decoded", decoded);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
