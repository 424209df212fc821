// `glassbox train classifier` and `glassbox train lm`: the command-line face of
// Glassbox.Models.Training. The library does the work and reports progress through
// IProgress<TrainProgress>; this file parses options, prints one progress line every
// --log-every steps to stderr, prints the result as JSON on stdout and maps bad input to exit 2.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Glassbox.Models.Data;
using Glassbox.Models.Training;

namespace Glassbox.Cli;

internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var train = new Command("train", "Train a model: a text classifier (DistilBERT, BERT, RoBERTa) or a small GPT-2 language model. Writes a Hugging Face model folder.");
        train.Subcommands.Add(Classifier(stdout, stderr));
        train.Subcommands.Add(LanguageModel(stdout, stderr));
        return train;
    }

    private static Command Classifier(TextWriter stdout, TextWriter stderr)
    {
        var data = new Option<string>("--data") { Description = "training data: .csv, .tsv or .jsonl", Required = true };
        var textColumn = new Option<string>("--text-column") { Description = "column with the text", DefaultValueFactory = _ => "text" };
        var labelColumn = new Option<string>("--label-column") { Description = "column with the label (strings are sorted into ids; numeric labels are kept as ids)", DefaultValueFactory = _ => "label" };
        var pairColumn = new Option<string?>("--pair-column") { Description = "column with the second text of a pair (NLI, cross-encoders)" };
        var evalData = new Option<string?>("--eval-data") { Description = "evaluation data (same columns), evaluated after every epoch; the best epoch is kept" };
        var init = new Option<string?>("--init") { Description = "model folder or Hub id to start from (a new head is added when its labels do not fit)" };
        var config = new Option<string?>("--config") { Description = "config.json (or inline JSON) for a randomly initialised model" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer folder (default: the --init folder)" };
        var labelNames = new Option<string?>("--label-names") { Description = "comma-separated class names for numeric labels 0..n-1 (e.g. NEGATIVE,POSITIVE)" };
        var epochs = new Option<int>("--epochs") { Description = "passes over the training data", DefaultValueFactory = _ => 3 };
        var lr = new Option<float>("--lr") { Description = "peak learning rate (AdamW)", DefaultValueFactory = _ => 5e-5f };
        var batch = new Option<int>("--batch-size") { Description = "examples per optimiser step", DefaultValueFactory = _ => 32 };
        var maxLength = new Option<int>("--max-length") { Description = "truncate inputs to this many tokens", DefaultValueFactory = _ => 128 };
        var warmup = new Option<float>("--warmup-ratio") { Description = "fraction of steps for the linear warm-up", DefaultValueFactory = _ => 0.1f };
        var decay = new Option<float>("--weight-decay") { Description = "AdamW decoupled weight decay (not on biases and LayerNorm weights)", DefaultValueFactory = _ => 0.01f };
        var clip = new Option<float>("--clip") { Description = "global gradient-norm limit (0 = off)", DefaultValueFactory = _ => 1f };
        var seed = new Option<int>("--seed") { Description = "seed for initialisation, shuffling and dropout", DefaultValueFactory = _ => 0 };
        var saveEvery = new Option<bool>("--save-every-epoch") { Description = "also keep each epoch's model in OUT/checkpoints/epoch-N (for training-data attribution)" };
        var noDropout = new Option<bool>("--no-dropout") { Description = "train without dropout" };
        var logEvery = new Option<int>("--log-every") { Description = "print a progress line every N steps", DefaultValueFactory = _ => 50 };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a non-empty --out folder" };
        var output = new Option<string>("--out") { Description = "output model folder (written only when training has finished)", Required = true };

        var command = new Command("classifier", "Train a sequence classifier with AdamW, linear warm-up/decay and gradient clipping; keep the best epoch.")
        {
            data, textColumn, labelColumn, pairColumn, evalData, init, config, tokenizer, labelNames, epochs, lr, batch, maxLength,
            warmup, decay, clip, seed, saveEvery, noDropout, logEvery, overwrite, output,
        };
        command.Validators.Add(r =>
        {
            bool hasInit = r.GetResult(init) is not null, hasConfig = r.GetResult(config) is not null;
            if (hasInit == hasConfig) r.AddError("Give exactly one of --init (a model to fine-tune) or --config (a config.json for random initialisation).");
        });
        command.SetAction(parse =>
        {
            var options = new ClassifierTrainingOptions
            {
                DataPath = parse.GetValue(data)!,
                Columns = new DataColumns(parse.GetValue(textColumn)!, parse.GetValue(labelColumn)!, parse.GetValue(pairColumn)),
                EvalDataPath = parse.GetValue(evalData),
                Init = parse.GetValue(init),
                Config = parse.GetValue(config),
                Tokenizer = parse.GetValue(tokenizer),
                LabelNames = parse.GetValue(labelNames)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Epochs = parse.GetValue(epochs),
                LearningRate = parse.GetValue(lr),
                BatchSize = parse.GetValue(batch),
                MaxLength = parse.GetValue(maxLength),
                WarmupRatio = parse.GetValue(warmup),
                WeightDecay = parse.GetValue(decay),
                Clip = parse.GetValue(clip),
                Seed = parse.GetValue(seed),
                SaveEveryEpoch = parse.GetValue(saveEvery),
                NoDropout = parse.GetValue(noDropout),
                OutputDir = parse.GetValue(output)!,
                Overwrite = parse.GetValue(overwrite),
                CommandLine = CommandLine(parse),
            };
            return Run(stderr, () =>
            {
                var r = WithProgress(parse, stderr, "training", parse.GetValue(logEvery), p => ClassifierTrainer.Train(options, p));
                stdout.WriteLine(JsonSerializer.Serialize(new
                {
                    output = r.OutputDir,
                    labels = r.Labels,
                    bestEpoch = r.BestEpoch,
                    evalAccuracy = r.EvalAccuracy,
                    trainSeconds = Math.Round(r.TrainSeconds, 1),
                    parameters = r.Parameters,
                    history = r.History,
                }, JsonOptions));
            });
        });
        return command;
    }

    private static Command LanguageModel(TextWriter stdout, TextWriter stderr)
    {
        var data = new Option<string>("--data") { Description = "a UTF-8 text file; the first (1 − val-fraction) of its characters train, the rest validate", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer folder (tokenizer.json)", Required = true };
        var config = new Option<string>("--config") { Description = "GPT-2 config.json (or inline JSON): n_embd, n_layer, n_head, n_positions, vocab_size", Required = true };
        var steps = new Option<int>("--steps") { Description = "optimiser steps", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "sequences per step", DefaultValueFactory = _ => 16 };
        var block = new Option<int?>("--block-size") { Description = "tokens per sequence (default: n_positions)" };
        var lr = new Option<float>("--lr") { Description = "peak learning rate (AdamW)", DefaultValueFactory = _ => 2e-3f };
        var warmup = new Option<float>("--warmup-ratio") { Description = "fraction of steps for the linear warm-up", DefaultValueFactory = _ => 0.1f };
        var decay = new Option<float>("--weight-decay") { Description = "AdamW decoupled weight decay (not on biases and LayerNorm weights)", DefaultValueFactory = _ => 0.1f };
        var clip = new Option<float>("--clip") { Description = "global gradient-norm limit (0 = off)", DefaultValueFactory = _ => 1f };
        var evalEvery = new Option<int?>("--eval-every") { Description = "evaluate the validation loss every N steps (default: steps/5)" };
        var valFraction = new Option<float>("--val-fraction") { Description = "last fraction of the characters held out for validation", DefaultValueFactory = _ => 0.1f };
        var seed = new Option<int>("--seed") { Description = "seed for initialisation, batches and dropout", DefaultValueFactory = _ => 0 };
        var noDropout = new Option<bool>("--no-dropout") { Description = "train without dropout" };
        var logEvery = new Option<int>("--log-every") { Description = "print a progress line every N steps", DefaultValueFactory = _ => 50 };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a non-empty --out folder" };
        var output = new Option<string>("--out") { Description = "output model folder (written only when training has finished)", Required = true };

        var command = new Command("lm", "Train a small GPT-2 causal language model on a text file; report the validation loss in nats per token.")
        {
            data, tokenizer, config, steps, batch, block, lr, warmup, decay, clip, evalEvery, valFraction, seed, noDropout, logEvery, overwrite, output,
        };
        command.SetAction(parse =>
        {
            var options = new LanguageModelTrainingOptions
            {
                DataPath = parse.GetValue(data)!,
                Tokenizer = parse.GetValue(tokenizer)!,
                Config = parse.GetValue(config)!,
                Steps = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                BlockSize = parse.GetValue(block),
                LearningRate = parse.GetValue(lr),
                WarmupRatio = parse.GetValue(warmup),
                WeightDecay = parse.GetValue(decay),
                Clip = parse.GetValue(clip),
                EvalEvery = parse.GetValue(evalEvery),
                ValFraction = parse.GetValue(valFraction),
                Seed = parse.GetValue(seed),
                NoDropout = parse.GetValue(noDropout),
                OutputDir = parse.GetValue(output)!,
                Overwrite = parse.GetValue(overwrite),
                CommandLine = CommandLine(parse),
            };
            return Run(stderr, () =>
            {
                var r = WithProgress(parse, stderr, "training", parse.GetValue(logEvery), p => LanguageModelTrainer.Train(options, p));
                stdout.WriteLine(JsonSerializer.Serialize(new
                {
                    output = r.OutputDir,
                    valLossNatsPerToken = r.ValidationLoss,
                    trainSeconds = Math.Round(r.TrainSeconds, 1),
                    parameters = r.Parameters,
                    history = r.History,
                }, JsonOptions));
            });
        });
        return command;
    }

    /// <summary>On a terminal a progress bar (steps, loss, ETA); otherwise one line per --log-every steps on stderr.
    /// Kernel threads come from the global --threads option (the trainer records the count in its model card).</summary>
    private static T WithProgress<T>(ParseResult parse, TextWriter stderr, string label, int logEvery, Func<IProgress<TrainProgress>, T> train)
    {
        if (CliProgress.ModeFor(parse, stderr) != ProgressMode.Live) return train(new LineProgress(stderr, logEvery));
        return CliProgress.Run(ProgressMode.Live, stderr, label, 1, bar => train(bar.Reporter<TrainProgress>((b, p) =>
        {
            if (p.Phase != "train") return;
            b.Total = p.TotalSteps;
            b.Value = p.Step;
            b.Status = string.Create(CultureInfo.InvariantCulture, $"{(p.Epochs > 0 ? $"epoch {p.Epoch}/{p.Epochs}, " : "")}loss {p.Loss:F3}");
        })));
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static int Run(TextWriter stderr, Action body)
    {
        try
        {
            body();
            return Program.ExitOk;
        }
        catch (TrainingInputException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Program.ExitBadInput;
        }
    }

    /// <summary>The command line as typed (arguments quoted where needed), for the model card.</summary>
    private static string CommandLine(ParseResult parse)
    {
        static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
        return "glassbox " + string.Join(' ', parse.Tokens.Select(t => Quote(t.Value)));
    }

    /// <summary>One line per N training steps (and one per evaluation) on stderr.</summary>
    private sealed class LineProgress(TextWriter stderr, int every) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress p)
        {
            var inv = CultureInfo.InvariantCulture;
            switch (p.Phase)
            {
                case "train" when every > 0 && (p.Step % every == 0 || p.Step == p.TotalSteps):
                    string epoch = p.Epochs > 0 ? $"epoch {p.Epoch}/{p.Epochs} " : "";
                    double rate = p.Step / Math.Max(1e-9, p.Elapsed.TotalSeconds);
                    var eta = TimeSpan.FromSeconds((p.TotalSteps - p.Step) / Math.Max(1e-9, rate));
                    stderr.WriteLine(string.Format(inv, "{0}step {1}/{2} loss {3:F4} lr {4:G3} {5:F2} steps/s eta {6:hh\\:mm\\:ss}",
                        epoch, p.Step, p.TotalSteps, p.Loss, p.LearningRate, rate, eta));
                    break;
                case "evaluate":
                    stderr.WriteLine(string.Format(inv, "evaluate {0}step {1}: loss {2:F4}{3}",
                        p.Epochs > 0 ? $"epoch {p.Epoch} " : "", p.Step, p.EvalLoss, p.EvalAccuracy is double a ? string.Format(inv, " accuracy {0:F4}", a) : ""));
                    break;
                case "tokenize" when p.Message is not null && p.Step == p.TotalSteps:
                case "save" when p.Message is not null:
                    stderr.WriteLine(p.Message);
                    break;
            }
            stderr.Flush();
        }
    }
}
