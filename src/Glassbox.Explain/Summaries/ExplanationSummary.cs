// Generated explanations: one or two plain sentences from an explanation's numbers, by template.
// Words are merged into phrases when adjacent words push the same way (so "not good" reads as one
// reason), the strongest reasons are named with their signed scores, and the strongest opposing
// reason is named too. Templates, not a language model: the sentence says exactly what the numbers
// say, and nothing else.
using System.Globalization;
using Glassbox.Explain.Concepts;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Hierarchy;

namespace Glassbox.Explain.Summaries;

/// <summary>Template-based natural-language summaries of explanations.</summary>
public static class ExplanationSummary
{
    /// <summary>"The model predicts NEGATIVE (0.91) mainly because of 'not good' (−0.79); 'movie' pushes the other way (+0.12)."</summary>
    /// <param name="explanation">A sequence-classification (or pairwise) explanation.</param>
    /// <param name="reasons">How many supporting phrases to name (default 2).</param>
    public static string Describe(SequenceClassificationExplanation explanation, int reasons = 2)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var words = explanation.Attribution.Words.Where(w => w.Sequence >= 0).ToList();
        var phrases = MergeSameSign(words.Select(w => (w.Word, w.Start, w.End, w.Sequence, w.Score)).ToList(),
            explanation.Text, explanation.Pair);
        return Sentence(explanation.PredictedClassName, explanation.PredictedProbability, explanation.AttributedClassName,
            phrases, reasons);
    }

    /// <summary>A summary of any text explanation: sequence classification and pairwise as above; multi-label and
    /// zero-shot for the most probable label; question answering for the answer's start; token classification for
    /// the most confident explained token. Image explanations have no words and are refused.</summary>
    public static string Describe(Explanation explanation, int reasons = 2)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        switch (explanation)
        {
            case SequenceClassificationExplanation s:
                return Describe(s, reasons);
            case MultiLabelClassificationExplanation m:
            {
                var top = m.Labels.MaxBy(l => l.Probability)!;
                return Sentence(top.Label, top.Probability, top.Label, Phrases(top.Attribution, m.Text, null), reasons);
            }
            case ZeroShotClassificationExplanation z:
            {
                var top = z.Labels.MaxBy(l => l.Probability)!;
                return Sentence(top.Label, top.Probability, top.Label, Phrases(top.Attribution, z.Text, null), reasons);
            }
            case QuestionAnsweringExplanation q:
            {
                var phrases = Phrases(q.Start, q.Question, q.Context);
                string answer = q.AnswerText.Length > 0 ? q.AnswerText : q.PredictedAnswer;
                var pro = phrases.Where(p => p.Score > 0).OrderByDescending(p => p.Score).Take(reasons).ToList();
                return $"The model answers '{answer}'" + (pro.Count > 0 ? $"; its start is placed mainly because of {Join(pro)}." : ".");
            }
            case TokenClassificationExplanation t when t.Tokens.Count > 0:
            {
                var top = t.Tokens.MaxBy(x => x.Probability)!;
                return $"Token '{top.Token}': " + Lower(Sentence(top.Label, top.Probability, top.Label, Phrases(top.Attribution, t.Text, null), reasons));
            }
            case TokenClassificationExplanation:
                return "No token was explained (all were ignored).";
            default:
                throw new NotSupportedException($"A summary in words needs a text explanation; '{explanation.Task}' has none.");
        }
    }

    private static string Lower(string s) => s.Length == 0 ? s : char.ToLowerInvariant(s[0]) + s[1..];

    private static List<(string Text, double Score)> Phrases(TextAttribution a, string text, string? pair) =>
        MergeSameSign(a.Words.Where(w => w.Sequence >= 0).Select(w => (w.Word, w.Start, w.End, w.Sequence, w.Score)).ToList(), text, pair);

    /// <summary>A summary from a phrase tree: the strongest phrases (any level, not overlapping) for and against the class.</summary>
    public static string Describe(HierarchicalExplanation explanation, int reasons = 2)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        // A phrase is a reason of its own when it is a word or when its words interact (its score is not
        // just the sum of its parts); the whole sentence is not a reason. Among those, the strongest
        // non-overlapping ones are named.
        var chosen = new List<PhraseNode>();
        foreach (var n in explanation.Root.Descendants()
                     .Where(n => n.Children.Count == 0 || (n != explanation.Root && Math.Abs(n.Interaction) >= 0.25 * Math.Abs(n.Score)))
                     .OrderByDescending(n => Math.Abs(n.Score)))
        {
            if (chosen.Any(c => n.Start < c.End && c.Start < n.End)) continue;
            chosen.Add(n);
        }
        var phrases = chosen.Select(n => (n.Text, n.Score)).ToList();
        return Sentence(explanation.TargetName, explanation.InputScore, explanation.TargetName, phrases, reasons);
    }

    /// <summary>"The concept 'negation' raises NEGATIVE at blocks.1.hook_resid_post: TCAV score 0.85 (p = 0.001, significant over 10 runs against random concepts)."</summary>
    public static string Describe(TcavResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string p = result.PValue < 0.001 ? "p < 0.001" : $"p = {result.PValue.ToString("0.###", CultureInfo.InvariantCulture)}";
        string score = result.Score.ToString("0.00", CultureInfo.InvariantCulture);
        int runs = result.RunScores.Length;
        if (!result.Significant)
            return $"The concept '{result.Concept}' has no significant effect on {result.ClassName} at {result.Layer}: TCAV score {score} is indistinguishable from random concepts ({p}, {runs} runs).";
        string direction = result.Score >= 0.5 ? "raises" : "lowers";
        return $"The concept '{result.Concept}' {direction} {result.ClassName} at {result.Layer}: TCAV score {score} ({p}, significant over {runs} runs against random concepts).";
    }

    private static string Sentence(string predicted, double probability, string explained, List<(string Text, double Score)> phrases, int reasons)
    {
        if (reasons < 1) throw new ArgumentOutOfRangeException(nameof(reasons), "Name at least one reason.");
        string prob = probability.ToString("0.00", CultureInfo.InvariantCulture);
        string head = predicted == explained
            ? $"The model predicts {predicted} ({prob})"
            : $"For {explained}, the model (which predicts {predicted}, {prob})";
        var pro = phrases.Where(p => p.Score > 0).OrderByDescending(p => p.Score).Take(reasons).ToList();
        var con = phrases.Where(p => p.Score < 0).OrderBy(p => p.Score).Take(1).ToList();
        // A class's evidence can be all negative (the model predicts it despite the words); say so.
        string body = pro.Count > 0
            ? $" mainly because of {Join(pro)}"
            : " with no words clearly in its favour";
        string tail = con.Count > 0 ? $"; {Join(con)} {(con.Count == 1 ? "pushes" : "push")} the other way." : ".";
        return head + body + tail;
    }

    private static string Join(List<(string Text, double Score)> items)
    {
        var parts = items.Select(i => $"'{i.Text}' ({Signed(i.Score)})").ToList();
        return parts.Count switch
        {
            1 => parts[0],
            2 => $"{parts[0]} and {parts[1]}",
            _ => string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1],
        };
    }

    private static string Signed(double v) => (v >= 0 ? "+" : "−") + Math.Abs(v).ToString("0.00", CultureInfo.InvariantCulture);

    private static List<(string Text, double Score)> MergeSameSign(List<(string Word, int Start, int End, int Sequence, double Score)> words, string text, string? pair)
    {
        var result = new List<(string, double)>();
        int i = 0;
        while (i < words.Count)
        {
            int j = i;
            // Merge neighbours of the same sign whose scores are comparable (within a factor of 3), so a strong
            // word is not diluted by a weak neighbour.
            while (j + 1 < words.Count && words[j + 1].Sequence == words[i].Sequence && Math.Sign(words[j + 1].Score) == Math.Sign(words[i].Score)
                   && words[j + 1].Score != 0 && Comparable(words[j].Score, words[j + 1].Score))
                j++;
            string source = words[i].Sequence == 1 && pair is not null ? pair : text;
            string phrase = source[words[i].Start..words[j].End];
            double score = 0;
            for (int k = i; k <= j; k++) score += words[k].Score;
            result.Add((phrase, score));
            i = j + 1;
        }
        return result;
    }

    private static bool Comparable(double a, double b)
    {
        double x = Math.Abs(a), y = Math.Abs(b);
        return Math.Max(x, y) <= 3 * Math.Min(x, y);
    }
}
