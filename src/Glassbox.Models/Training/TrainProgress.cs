using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Glassbox.Models.Training;

/// <summary>Where a training run is, reported through <see cref="IProgress{T}"/> after every optimiser
/// step (phase "train"), after each evaluation (phase "evaluate") and at other milestones.</summary>
/// <param name="Phase">"tokenize", "train", "evaluate", "save" or "done".</param>
/// <param name="Epoch">1-based epoch (classifier) or 0 (language model).</param>
/// <param name="Epochs">Number of epochs (classifier) or 0.</param>
/// <param name="Step">Optimiser steps done so far (over the whole run).</param>
/// <param name="TotalSteps">Optimiser steps the run will take.</param>
/// <param name="Loss">The last step's training loss (nats), or NaN before the first step.</param>
/// <param name="LearningRate">The learning rate of the last step.</param>
/// <param name="Elapsed">Wall time since training started.</param>
/// <param name="EvalLoss">After an evaluation: its mean loss (nats per example or per token).</param>
/// <param name="EvalAccuracy">After a classifier evaluation: its accuracy.</param>
/// <param name="Message">A human-readable note (what is being tokenized or saved).</param>
public sealed record TrainProgress(
    string Phase, int Epoch, int Epochs, long Step, long TotalSteps, double Loss, double LearningRate, TimeSpan Elapsed,
    double? EvalLoss = null, double? EvalAccuracy = null, string? Message = null);

/// <summary>The machine a run used, for the model card.</summary>
internal static class MachineInfo
{
    public static void Write(Utf8JsonWriter w, int threads)
    {
        w.WriteStartObject("machine");
        w.WriteString("os", RuntimeInformation.OSDescription);
        w.WriteString("architecture", RuntimeInformation.ProcessArchitecture.ToString());
        w.WriteString("runtime", RuntimeInformation.FrameworkDescription);
        w.WriteNumber("logicalCores", Environment.ProcessorCount);
        if (CpuModel() is { } cpu) w.WriteString("cpu", cpu);
        w.WriteNumber("threads", threads);
        w.WriteEndObject();
    }

    private static string? CpuModel()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>User + system CPU time of this process so far.</summary>
    public static TimeSpan CpuTime()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }
}
