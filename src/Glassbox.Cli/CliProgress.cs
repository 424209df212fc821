// Progress for long work (batch explanation, training, downloads), always on standard error so
// that JSON on standard output stays clean. Three modes:
//   Live   stderr is a terminal: a Spectre.Console progress bar with percentage, ETA and spinner.
//   Plain  --progress with stderr redirected (a log file, CI): one text line every few seconds,
//          "label: 218/872 (25%) [#####...............] elapsed 0:12, ETA 0:36", and a last line at the end.
//   Off    stderr redirected and no --progress: nothing, so logs hold only messages.
// Commands use it as
//   return CliProgress.Run(parse, stderr, "explaining", total, bar => { ...; bar.Increment(); ... });
// and a library that reports IProgress<T> (the trainer) plugs in with bar.Reporter<T>(...), which
// applies each report synchronously on the reporting thread (unlike System.Progress<T>, which posts
// to the thread pool and may deliver after the work has finished).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Glassbox.Cli;

/// <summary>How progress is shown.</summary>
internal enum ProgressMode { Off, Plain, Live }

/// <summary>One progress bar: a value that grows towards <see cref="Total"/>, and a short status text.</summary>
internal abstract class ProgressBar
{
    /// <summary>The value at which the work is complete (steps, examples, bytes).</summary>
    public abstract double Total { get; set; }

    /// <summary>The work done so far, in the units of <see cref="Total"/>.</summary>
    public abstract double Value { get; set; }

    /// <summary>A short status shown after the label (e.g. "loss 0.412"); null for none.</summary>
    public abstract string? Status { get; set; }

    /// <summary>Adds <paramref name="amount"/> to <see cref="Value"/>.</summary>
    public void Increment(double amount = 1) => Value += amount;

    /// <summary>An <see cref="IProgress{T}"/> that applies each report to this bar at once, on the reporting thread.</summary>
    public IProgress<T> Reporter<T>(Action<ProgressBar, T> apply)
    {
        ArgumentNullException.ThrowIfNull(apply);
        return new SynchronousProgress<T>(value => apply(this, value));
    }

    private sealed class SynchronousProgress<T>(Action<T> apply) : IProgress<T>
    {
        public void Report(T value) => apply(value);
    }
}

internal static class CliProgress
{
    /// <summary>The name of the recursive option that asks for progress on a redirected standard error.</summary>
    public const string OptionName = "--progress";

    /// <summary>The --progress option every verb has (added once, recursively, on the root command).</summary>
    public static Option<bool> CreateOption() => new(OptionName)
    {
        Description = "show progress on standard error even when it is not a terminal (a terminal always gets a progress bar)",
        Recursive = true,
    };

    /// <summary>Live when <paramref name="stderr"/> is the process's standard error and a terminal; Plain when
    /// --progress was given otherwise; Off else.</summary>
    public static ProgressMode ModeFor(ParseResult parse, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(parse);
        bool asked = CliParsing.ParsedOrDefault(() => parse.GetValue<bool>(OptionName));
        if (IsTerminal(stderr)) return ProgressMode.Live;
        return asked ? ProgressMode.Plain : ProgressMode.Off;
    }

    /// <summary>True when <paramref name="stderr"/> is the console's standard error and that is a terminal.</summary>
    public static bool IsTerminal(TextWriter stderr) => ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Runs <paramref name="work"/> with a progress bar labelled <paramref name="label"/> going to
    /// <paramref name="total"/>, shown as <see cref="ModeFor"/> decides.</summary>
    public static T Run<T>(ParseResult parse, TextWriter stderr, string label, double total, Func<ProgressBar, T> work) =>
        Run(ModeFor(parse, stderr), stderr, label, total, work);

    /// <summary>Runs <paramref name="work"/> with a progress bar in the given mode.</summary>
    public static T Run<T>(ProgressMode mode, TextWriter stderr, string label, double total, Func<ProgressBar, T> work,
        TimeSpan? plainInterval = null)
    {
        ArgumentNullException.ThrowIfNull(stderr); ArgumentNullException.ThrowIfNull(work);
        switch (mode)
        {
            case ProgressMode.Live:
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings
                {
                    Out = new AnsiConsoleOutput(stderr),
                    Ansi = AnsiSupport.Detect,
                    ColorSystem = ColorSystemSupport.Detect,
                    Interactive = InteractionSupport.Yes,
                });
                return console.Progress()
                    .AutoClear(false)
                    .HideCompleted(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                        new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(context =>
                    {
                        var task = context.AddTask(Markup.Escape(label), autoStart: true, maxValue: Math.Max(total, 1e-9));
                        var bar = new LiveBar(task, label);
                        T result = work(bar);
                        if (bar.Value < bar.Total) bar.Value = bar.Total; // the work is done even if it reported less
                        task.StopTask();
                        return result;
                    });
            }
            case ProgressMode.Plain:
            {
                var bar = new PlainBar(stderr, label, total, plainInterval ?? TimeSpan.FromSeconds(2));
                T result = work(bar);
                bar.Finish();
                return result;
            }
            default:
                return work(new NullBar(total));
        }
    }

    /// <summary>"m:ss" or "h:mm:ss".</summary>
    internal static string FormatDuration(TimeSpan t)
    {
        if (t < TimeSpan.Zero || t.TotalDays > 99) return "?";
        return t.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}:{t.Seconds:00}");
    }

    private sealed class NullBar(double total) : ProgressBar
    {
        public override double Total { get; set; } = total;
        public override double Value { get; set; }
        public override string? Status { get; set; }
    }

    private sealed class LiveBar(ProgressTask task, string label) : ProgressBar
    {
        private string? _status;

        public override double Total { get => task.MaxValue; set => task.MaxValue = Math.Max(value, 1e-9); }
        public override double Value { get => task.Value; set => task.Value = Math.Min(value, task.MaxValue); }

        public override string? Status
        {
            get => _status;
            set
            {
                _status = value;
                task.Description = Markup.Escape(value is null ? label : $"{label} ({value})");
            }
        }
    }

    /// <summary>Text lines for logs: at most one per interval, plus the first and the last.</summary>
    private sealed class PlainBar : ProgressBar
    {
        private const int Width = 20;
        private readonly TextWriter _out;
        private readonly string _label;
        private readonly TimeSpan _interval;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly object _gate = new();
        private TimeSpan _lastLine = TimeSpan.MinValue;
        private double _value;

        public PlainBar(TextWriter output, string label, double total, TimeSpan interval)
        {
            _out = output; _label = label; _interval = interval; Total = total;
        }

        public override double Total { get; set; }
        public override string? Status { get; set; }

        public override double Value
        {
            get => _value;
            set
            {
                lock (_gate)
                {
                    _value = value;
                    var now = _clock.Elapsed;
                    if (_lastLine == TimeSpan.MinValue || now - _lastLine >= _interval) Write(now);
                }
            }
        }

        public void Finish()
        {
            lock (_gate)
            {
                if (_value < Total) _value = Total;
                Write(_clock.Elapsed);
            }
        }

        private void Write(TimeSpan now)
        {
            _lastLine = now;
            double fraction = Total > 0 ? Math.Clamp(_value / Total, 0, 1) : 1;
            int filled = (int)Math.Round(fraction * Width);
            string eta = _value > 0 && fraction < 1 ? FormatDuration(now * ((Total - _value) / _value)) : fraction >= 1 ? "0:00" : "?";
            string status = Status is null ? "" : $" {Status}";
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{_label}: {_value:0.##}/{Total:0.##} ({fraction * 100:0}%) [{new string('#', filled)}{new string('.', Width - filled)}] elapsed {FormatDuration(now)}, ETA {eta}{status}"));
            _out.Flush();
        }
    }
}
