// Training a small GPT-2 causal language model on one text file, nanoGPT-style: the first
// (1 − val-fraction) of the characters are the training text and the rest the validation text,
// each tokenized on its own; every step draws batch-size random windows of block-size + 1 tokens
// from the training ids (inputs and next-token targets); the loss is the mean next-token
// cross-entropy. AdamW (betas 0.9, 0.95 as nanoGPT; no decay on biases and LayerNorm weights),
// linear warm-up/decay, gradient clipping and dropout in training mode as the classifier trainer.
//
// Validation loss (nats per token) is measured on the non-overlapping windows of block-size + 1
// tokens that tile the validation ids from the start (every window predicts block-size tokens),
// in inference mode. ValidationLoss below is the same computation for a saved model.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Models.Training;

/// <summary>Everything <c>glassbox train lm</c> takes.</summary>
public sealed record LanguageModelTrainingOptions
{
    /// <summary>A UTF-8 text file.</summary>
    public required string DataPath { get; init; }
    /// <summary>Tokenizer folder (tokenizer.json); its files are copied to the output.</summary>
    public required string Tokenizer { get; init; }
    /// <summary>GPT-2 config.json (file, folder or inline JSON).</summary>
    public required string Config { get; init; }
    public required int Steps { get; init; }
    public int BatchSize { get; init; } = 16;
    /// <summary>Tokens per training sequence; null = n_positions.</summary>
    public int? BlockSize { get; init; }
    public float LearningRate { get; init; } = 2e-3f;
    public float Beta2 { get; init; } = 0.95f;
    public float WarmupRatio { get; init; } = 0.1f;
    public float WeightDecay { get; init; } = 0.1f;
    public float Clip { get; init; } = 1f;
    /// <summary>Validation every N steps (and at the end); null = steps / 5.</summary>
    public int? EvalEvery { get; init; }
    public float ValFraction { get; init; } = 0.1f;
    public int Seed { get; init; }
    public int? Threads { get; init; }
    public bool NoDropout { get; init; }
    public required string OutputDir { get; init; }
    public bool Overwrite { get; init; }
    public string? CommandLine { get; init; }
}

/// <summary>One validation point of a language-model run.</summary>
public sealed record LanguageModelEval(int Step, double TrainLoss, double ValLoss, double LearningRate, double Seconds);

/// <summary>The outcome of a language-model run.</summary>
public sealed record LanguageModelTrainingResult(
    string OutputDir, double ValidationLoss, IReadOnlyList<LanguageModelEval> History, double TrainSeconds, double CpuSeconds,
    long Parameters, long WeightBytes, int TrainTokens, int ValidationTokens);

/// <summary>Trains GPT-2 causal language models.</summary>
public static class LanguageModelTrainer
{
    private const int EvalBatch = 8;

    /// <summary>Runs the training and writes the model folder to <see cref="LanguageModelTrainingOptions.OutputDir"/>.</summary>
    /// <exception cref="TrainingInputException">Bad input; nothing has been written.</exception>
    public static LanguageModelTrainingResult Train(LanguageModelTrainingOptions o, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (o.Steps < 1) throw new TrainingInputException($"--steps must be at least 1, not {o.Steps}.");
        if (o.BatchSize < 1) throw new TrainingInputException($"--batch-size must be at least 1, not {o.BatchSize}.");
        if (!(o.LearningRate > 0)) throw new TrainingInputException($"--lr must be positive, not {o.LearningRate}.");
        if (!(o.ValFraction > 0 && o.ValFraction < 1)) throw new TrainingInputException($"--val-fraction must be between 0 and 1, not {o.ValFraction}.");
        if (!(o.WarmupRatio >= 0 && o.WarmupRatio <= 1)) throw new TrainingInputException($"--warmup-ratio must be in [0, 1], not {o.WarmupRatio}.");
        if (o.EvalEvery is int ee && ee < 1) throw new TrainingInputException($"--eval-every must be at least 1, not {ee}.");
        if (o.Threads is int t && t < 1) throw new TrainingInputException($"--threads must be at least 1, not {t}.");
        ModelSetup.CheckOut(o.OutputDir, o.Overwrite);

        int savedThreads = Parallelism.ThreadCount;
        if (o.Threads is int th) Parallelism.ThreadCount = th;
        string? staging = null;
        try
        {
            if (!File.Exists(o.DataPath)) throw new TrainingInputException($"--data {o.DataPath}: file not found; give a UTF-8 text file.");
            var raw = ModelSetup.ReadConfig(o.Config);
            if (raw["model_type"]?.ToString() != "gpt2")
                throw new TrainingInputException($"--config {o.Config}: model_type is '{raw["model_type"]}'; glassbox train lm trains GPT-2 (\"model_type\": \"gpt2\").");
            var tokenizer = ClassifierTrainer.LoadTokenizer(o.Tokenizer);
            raw = (JsonObject)raw.DeepClone();
            raw["architectures"] = new JsonArray("GPT2LMHeadModel");
            raw["dtype"] = "float32";
            if (raw["vocab_size"] is null) raw["vocab_size"] = tokenizer.VocabSize;
            var config = (Gpt2Config)ModelSetup.Typed(raw, o.Config);
            if (tokenizer.VocabSize > config.VocabSize)
                throw new TrainingInputException($"the tokenizer in {o.Tokenizer} has {tokenizer.VocabSize} tokens but vocab_size is {config.VocabSize}; raise vocab_size or leave it out.");
            if (config.NEmbd % config.NHead != 0)
                throw new TrainingInputException($"--config {o.Config}: n_embd {config.NEmbd} is not a multiple of n_head {config.NHead}.");
            int block = o.BlockSize ?? config.NPositions;
            if (block < 1 || block > config.NPositions)
                throw new TrainingInputException($"--block-size {block} must be between 1 and n_positions ({config.NPositions}).");

            string text = File.ReadAllText(o.DataPath);
            var (trainText, valText) = Split(text, o.ValFraction);
            progress?.Report(new TrainProgress("tokenize", 0, 0, 1, 1, double.NaN, 0, TimeSpan.Zero, Message: $"tokenizing {text.Length} characters"));
            int[] trainIds = tokenizer.Encode(trainText, addSpecialTokens: false).Ids;
            int[] valIds = tokenizer.Encode(valText, addSpecialTokens: false).Ids;
            if (trainIds.Length < block + 1)
                throw new TrainingInputException($"--data {o.DataPath}: the training part has {trainIds.Length} tokens, fewer than one window of --block-size {block} + 1.");
            if (valIds.Length < block + 1)
                throw new TrainingInputException($"--data {o.DataPath}: the validation part ({o.ValFraction:P0} of the characters) has {valIds.Length} tokens, fewer than one window of --block-size {block} + 1; lower --block-size or raise --val-fraction.");

            var arch = new Gpt2LanguageModel();
            var start = ModelSetup.Create(arch, config, raw, null, o.Seed);
            staging = ModelSetup.StagingFolder(o.OutputDir);
            var result = Run(o, arch, start, raw, trainIds, valIds, block, staging, progress, cancellationToken);
            ModelSetup.Publish(staging, o.OutputDir);
            staging = null;
            return result with { OutputDir = Path.GetFullPath(o.OutputDir) };
        }
        finally
        {
            if (staging is not null) ModelSetup.DeleteQuietly(staging);
            Parallelism.ThreadCount = savedThreads;
        }
    }

    /// <summary>The first (1 − valFraction) of the characters and the rest (never splitting a surrogate pair).</summary>
    public static (string Train, string Validation) Split(string text, float valFraction)
    {
        // (decimal) keeps 0.1f as 0.1, so a 10-character text splits 9 + 1 as Python's int(n * 0.9) does.
        int cut = (int)(text.Length * (1.0 - (double)(decimal)valFraction));
        if (cut > 0 && cut < text.Length && char.IsLowSurrogate(text[cut])) cut--;
        return (text[..cut], text[cut..]);
    }

    private static LanguageModelTrainingResult Run(LanguageModelTrainingOptions o, TrainableArchitecture arch, StartingModel start, JsonObject raw,
        int[] trainIds, int[] valIds, int block, string staging, IProgress<TrainProgress>? progress, CancellationToken ct)
    {
        var parameters = start.Parameters;
        var optimizer = new DecayGroups(parameters, o.LearningRate, o.WeightDecay, o.Beta2);
        var all = optimizer.All;
        int warmup = (int)Math.Ceiling(o.Steps * (double)o.WarmupRatio);
        var schedule = new LinearSchedule(o.LearningRate, warmup, o.Steps);
        var rates = o.NoDropout ? DropoutRates.None : arch.Dropout(raw);
        var dropout = new Dropout(new TrainingRandom(o.Seed, "dropout"));
        var sampler = new TrainingRandom(o.Seed, "batches");
        int evalEvery = o.EvalEvery ?? Math.Max(1, o.Steps / 5);
        var model = (Gpt2)start.Model;

        var history = new List<LanguageModelEval>();
        var clock = Stopwatch.StartNew();
        var cpu0 = MachineInfo.CpuTime();
        double lossSum = 0;
        int lossCount = 0;
        int b = o.BatchSize;
        for (int step = 0; step < o.Steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            var ids = new int[b * block];
            var targets = new int[b * block];
            for (int i = 0; i < b; i++)
            {
                int s0 = sampler.NextInt(trainIds.Length - block);
                Array.Copy(trainIds, s0, ids, i * block, block);
                Array.Copy(trainIds, s0 + 1, targets, i * block, block);
            }
            float lr = schedule.RateAt(step);
            float loss;
            using (var tape = Tape.Record())
            {
                tape.Watch(all);
                Tensor logits;
                using (dropout.Install(model, rates))
                    logits = model.Forward(new ModelInput(b, block, ids)).Logits!;
                var lossT = Ops.CrossEntropy(Ops.Reshape(logits, b * block, logits.Shape[2]), targets);
                loss = lossT.Item();
                if (!float.IsFinite(loss))
                    throw new InvalidOperationException($"training diverged at step {step + 1}: the loss is {loss}; lower --lr.");
                var grads = tape.Gradient(lossT, all);
                optimizer.Step(grads, lr, o.Clip);
            }
            lossSum += loss; lossCount++;
            progress?.Report(new TrainProgress("train", 0, 0, step + 1, o.Steps, loss, lr, clock.Elapsed));
            if ((step + 1) % evalEvery == 0 || step + 1 == o.Steps)
            {
                double val = ValidationLoss(model, valIds, block, null);
                history.Add(new LanguageModelEval(step + 1, lossSum / lossCount, val, lr, clock.Elapsed.TotalSeconds));
                progress?.Report(new TrainProgress("evaluate", 0, 0, step + 1, o.Steps, lossSum / lossCount, lr, clock.Elapsed, EvalLoss: val));
                lossSum = 0; lossCount = 0;
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (MachineInfo.CpuTime() - cpu0).TotalSeconds;
        long bytes = ModelSetup.WriteModelFolder(staging, raw, parameters, o.Tokenizer);
        long count = parameters.Sum(p => (long)p.Value.Length);
        var result = new LanguageModelTrainingResult(o.OutputDir, history[^1].ValLoss, history, seconds, cpuSeconds, count, bytes, trainIds.Length, valIds.Length);
        File.WriteAllText(Path.Combine(staging, "training.json"), Card(o, result, raw, block, warmup, rates, evalEvery));
        progress?.Report(new TrainProgress("done", 0, 0, o.Steps, o.Steps, history[^1].TrainLoss, 0, clock.Elapsed, EvalLoss: result.ValidationLoss));
        return result;
    }

    /// <summary>Mean next-token cross-entropy (nats per token) over the non-overlapping windows of
    /// blockSize + 1 tokens tiling <paramref name="ids"/> from the start; maxWindows limits them to the first n.</summary>
    public static double ValidationLoss(Gpt2 model, int[] ids, int blockSize, int? maxWindows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        int windows = (ids.Length - 1) / blockSize;
        if (maxWindows is int m) windows = Math.Min(windows, m);
        if (windows < 1) throw new ArgumentException($"ValidationLoss: {ids.Length} tokens do not fill one window of {blockSize} + 1.");
        double nats = 0;
        long tokens = 0;
        for (int w0 = 0; w0 < windows; w0 += EvalBatch)
        {
            int n = Math.Min(EvalBatch, windows - w0);
            var x = new int[n * blockSize];
            var y = new int[n * blockSize];
            for (int i = 0; i < n; i++)
            {
                Array.Copy(ids, (w0 + i) * blockSize, x, i * blockSize, blockSize);
                Array.Copy(ids, (w0 + i) * blockSize + 1, y, i * blockSize, blockSize);
            }
            using var scope = TensorScope.Enter();
            var logits = model.Forward(new ModelInput(n, blockSize, x)).Logits!;
            nats += (double)Ops.CrossEntropy(Ops.Reshape(logits, n * blockSize, logits.Shape[2]), y).Item() * n * blockSize;
            tokens += n * blockSize;
        }
        return nats / tokens;
    }

    /// <summary>The validation loss of a saved model on a text file, split and tokenized as in training.</summary>
    public static double ValidationLoss(Gpt2 model, Tokenizer tokenizer, string textPath, float valFraction, int blockSize, int? maxWindows = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var (_, val) = Split(File.ReadAllText(textPath), valFraction);
        return ValidationLoss(model, tokenizer.Encode(val, addSpecialTokens: false).Ids, blockSize, maxWindows);
    }

    private static string Card(LanguageModelTrainingOptions o, LanguageModelTrainingResult r, JsonObject raw, int block, int warmup, DropoutRates rates, int evalEvery)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("task", "causal-lm");
            w.WriteString("architecture", "GPT2LMHeadModel");
            w.WriteString("trainedBy", $"glassbox train lm {typeof(LanguageModelTrainer).Assembly.GetName().Version}");
            if (o.CommandLine is not null) w.WriteString("command", o.CommandLine);
            w.WriteStartObject("config");
            foreach (var key in new[] { "n_embd", "n_layer", "n_head", "n_positions", "vocab_size" })
                if (raw[key] is JsonValue v && v.TryGetValue(out int iv)) w.WriteNumber(key, iv);
            w.WriteEndObject();
            w.WriteStartObject("data");
            w.WriteString("file", o.DataPath);
            w.WriteString("sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(o.DataPath))));
            w.WriteString("split", string.Create(CultureInfo.InvariantCulture, $"first {1 - o.ValFraction:P0} of the characters train, last {o.ValFraction:P0} validation"));
            w.WriteNumber("trainTokens", r.TrainTokens);
            w.WriteNumber("validationTokens", r.ValidationTokens);
            w.WriteString("tokenizer", o.Tokenizer);
            w.WriteEndObject();
            w.WriteStartObject("recipe");
            w.WriteString("init", "random (transformers' GPT-2 _init_weights, initializer_range " + ModelSetup.InitializerRange(raw).ToString(CultureInfo.InvariantCulture) + ", residual projections scaled by 1/√(2·n_layer))");
            w.WriteString("optimizer", string.Create(CultureInfo.InvariantCulture, $"AdamW (betas 0.9, {o.Beta2}; eps 1e-8; decoupled weight decay, none on biases and LayerNorm weights)"));
            w.WriteNumber("learningRate", o.LearningRate);
            w.WriteNumber("weightDecay", o.WeightDecay);
            w.WriteNumber("steps", o.Steps);
            w.WriteNumber("batchSize", o.BatchSize);
            w.WriteNumber("blockSize", block);
            w.WriteNumber("tokensPerStep", o.BatchSize * block);
            w.WriteString("batches", "random windows of block-size + 1 training tokens (seeded)");
            w.WriteString("schedule", "linear warm-up then linear decay to 0");
            w.WriteNumber("warmupSteps", warmup);
            w.WriteNumber("clip", o.Clip);
            w.WriteNumber("seed", o.Seed);
            w.WriteStartObject("dropout");
            w.WriteBoolean("enabled", !rates.IsNone);
            w.WriteNumber("embeddings", rates.Embeddings);
            w.WriteNumber("attention", rates.Attention);
            w.WriteNumber("residual", rates.FeedForward);
            w.WriteEndObject();
            w.WriteNumber("evalEvery", evalEvery);
            w.WriteEndObject();
            w.WriteStartArray("history");
            foreach (var h in r.History)
            {
                w.WriteStartObject();
                w.WriteNumber("step", h.Step);
                w.WriteNumber("trainLoss", h.TrainLoss);
                w.WriteNumber("valLoss", h.ValLoss);
                w.WriteNumber("learningRate", h.LearningRate);
                w.WriteNumber("seconds", Math.Round(h.Seconds, 1));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("valLossNatsPerToken", r.ValidationLoss);
            w.WriteString("validation", $"all {(r.ValidationTokens - 1) / block} non-overlapping windows of {block} + 1 tokens of the validation part, in inference mode");
            w.WriteStartObject("size");
            w.WriteNumber("parameters", r.Parameters);
            w.WriteNumber("weightBytes", r.WeightBytes);
            w.WriteEndObject();
            w.WriteNumber("trainSeconds", Math.Round(r.TrainSeconds, 1));
            w.WriteNumber("cpuSeconds", Math.Round(r.CpuSeconds, 1));
            MachineInfo.Write(w, Parallelism.ThreadCount);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }
}
