using System.Text.RegularExpressions;

namespace Glassbox.Cli.Tests;

/// <summary>The progress helper: modes, the plain log lines with ETA, the live Spectre bar, IProgress reporting.</summary>
public sealed class CliProgressTests
{
    [Fact]
    public void PlainModeWritesLinesWithCountsPercentAndEta()
    {
        var err = new StringWriter();
        int result = CliProgress.Run(ProgressMode.Plain, err, "explaining", 4, bar =>
        {
            for (int i = 0; i < 4; i++) { Thread.Sleep(5); bar.Increment(); }
            return 42;
        }, plainInterval: TimeSpan.Zero);
        Assert.Equal(42, result);
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // One line per update (interval 0) plus the final one.
        Assert.Equal(5, lines.Length);
        Assert.Matches(@"^explaining: 1/4 \(25%\) \[#####\.{15}\] elapsed 0:\d\d, ETA 0:\d\d$", lines[0]);
        Assert.StartsWith("explaining: 4/4 (100%) [####################]", lines[^1]);
        Assert.EndsWith("ETA 0:00", lines[^1]);
    }

    [Fact]
    public void PlainModeIsRateLimitedButAlwaysEndsAtTheTotal()
    {
        var err = new StringWriter();
        CliProgress.Run(ProgressMode.Plain, err, "work", 1000, bar =>
        {
            for (int i = 0; i < 600; i++) bar.Increment();
            return 0;
        }, plainInterval: TimeSpan.FromHours(1));
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length); // the first update and the end
        Assert.StartsWith("work: 1000/1000 (100%)", lines[1]);
    }

    [Fact]
    public void EtaIsTheElapsedTimeScaledByTheRemainingFraction()
    {
        // 1 of 4 done after ~0.3 s: ETA ≈ 3 × 0.3 s, printed as 0:00 or 0:01.
        var err = new StringWriter();
        CliProgress.Run(ProgressMode.Plain, err, "w", 4, bar =>
        {
            Thread.Sleep(300);
            bar.Value = 1;
            return 0;
        }, plainInterval: TimeSpan.Zero);
        var first = err.ToString().Split('\n')[0];
        var m = Regex.Match(first, @"elapsed 0:(\d\d), ETA 0:(\d\d)");
        Assert.True(m.Success, first);
        Assert.InRange(int.Parse(m.Groups[2].Value), 0, 2);
    }

    [Fact]
    public void OffModeWritesNothing()
    {
        var err = new StringWriter();
        CliProgress.Run(ProgressMode.Off, err, "explaining", 3, bar => { bar.Increment(3); bar.Status = "x"; return 0; });
        Assert.Equal("", err.ToString());
    }

    [Fact]
    public void LiveModeDrawsASpectreBarWithPercentAndRemainingTime()
    {
        var err = new StringWriter();
        CliProgress.Run(ProgressMode.Live, err, "training", 10, bar =>
        {
            for (int i = 0; i < 10; i++) { bar.Increment(); Thread.Sleep(10); }
            bar.Status = "loss 0.25";
            return 0;
        });
        string output = err.ToString();
        Assert.Contains("training (loss 0.25)", output);
        Assert.Contains("100%", output);
        Assert.Contains("━", output); // the bar
        Assert.Matches(@"\d\d:\d\d:\d\d", output); // elapsed / remaining columns
    }

    [Fact]
    public void ReporterAppliesEachReportAtOnce()
    {
        var err = new StringWriter();
        CliProgress.Run(ProgressMode.Plain, err, "train", 3, bar =>
        {
            IProgress<(int Step, double Loss)> reporter = bar.Reporter<(int Step, double Loss)>((b, p) => { b.Value = p.Step; b.Status = $"loss {p.Loss:0.00}"; });
            reporter.Report((1, 0.9));
            Assert.Equal(1, bar.Value); // synchronous: visible before Report returns
            Assert.Equal("loss 0.90", bar.Status);
            reporter.Report((3, 0.5));
            Assert.Equal(3, bar.Value);
            return 0;
        }, plainInterval: TimeSpan.Zero);
        Assert.Contains("train: 1/3 (33%)", err.ToString());
        Assert.Contains("loss 0.50", err.ToString());
    }

    [Fact]
    public void ModeFollowsTheProgressOptionWhenStderrIsNotATerminal()
    {
        var root = Program.CreateRoot(TextWriter.Null, TextWriter.Null, out _);
        var err = new StringWriter();
        Assert.Equal(ProgressMode.Off, CliProgress.ModeFor(root.Parse(["demo"]), err));
        Assert.Equal(ProgressMode.Plain, CliProgress.ModeFor(root.Parse(["demo", "--progress"]), err));
        Assert.False(CliProgress.IsTerminal(err));
    }

    [Theory]
    [InlineData(0, "0:00")]
    [InlineData(75, "1:15")]
    [InlineData(3725, "1:02:05")]
    public void DurationsPrintAsMinutesOrHours(int seconds, string expected) =>
        Assert.Equal(expected, CliProgress.FormatDuration(TimeSpan.FromSeconds(seconds)));
}
