// Word replacer and scrambler: exact outputs of LIT's rules (whole words, case-insensitive by
// default, punctuation sources anywhere, one output per site and target), seeded determinism, and
// that a scramble is a permutation of the parent's words.
using Glassbox.Explain.Counterfactuals;

namespace Glassbox.Explain.Tests.Counterfactuals;

public class WordReplacerTests
{
    private static readonly TextExample Parent = new("p1", "A great movie, GREAT cast; greatest hits.", 1);

    [Fact]
    public void OneOutputPerSiteAndTarget_WholeWordsCaseInsensitive()
    {
        var cfs = WordReplacer.Parse("great -> terrible|bad").Generate(Parent);
        Assert.Equal(
        [
            "A terrible movie, GREAT cast; greatest hits.",
            "A bad movie, GREAT cast; greatest hits.",
            "A great movie, terrible cast; greatest hits.",
            "A great movie, bad cast; greatest hits.",
        ], cfs.Select(c => c.Text));
        Assert.All(cfs, c => { Assert.Equal("p1", c.ParentId); Assert.Equal("word-replacer", c.Generator); Assert.Equal(1, c.Label); Assert.Single(c.Edits); });
        Assert.Equal(["p1:word-replacer:0", "p1:word-replacer:1", "p1:word-replacer:2", "p1:word-replacer:3"], cfs.Select(c => c.Id));
        Assert.Equal(new CounterfactualEdit(2, "great", "terrible", 2, 7), cfs[0].Edits[0]);
        Assert.Equal(new CounterfactualEdit(15, "GREAT", "bad", 15, 20), cfs[3].Edits[0]);
        Assert.Equal("A great movie, GREAT cast; greatest hits.", Parent.Text); // parent untouched
    }

    [Fact]
    public void CaseSensitiveMatchesExactSpellingOnly()
    {
        var cfs = WordReplacer.Parse("GREAT -> fine", ignoreCase: false).Generate(Parent);
        Assert.Equal(["A great movie, fine cast; greatest hits."], cfs.Select(c => c.Text));
        Assert.Empty(WordReplacer.Parse("Great -> fine", ignoreCase: false).Generate(Parent));
    }

    [Fact]
    public void PunctuationSourcesMatchAnywhere_AndRulesInTextOrder()
    {
        Assert.Equal(["cat!dog. end", "cat.dog! end"], WordReplacer.Parse(". -> !").Generate(new("x", "cat.dog. end")).Select(c => c.Text));
        Assert.Equal(["terrible.", "great terrible"], WordReplacer.Parse("great -> terrible").Generate(new("y", "great.")).Select(c => c.Text)
            .Concat(WordReplacer.Parse("movie -> terrible").Generate(new("z", "great movie")).Select(c => c.Text)));
        var two = WordReplacer.Parse("movie -> film, great -> fine").Generate(new("w", "great movie"));
        Assert.Equal(["fine movie", "great film"], two.Select(c => c.Text));
    }

    [Fact]
    public void NoMatchGivesNothing() => Assert.Empty(WordReplacer.Parse("great -> bad").Generate(new("q", "greatness awaits")));

    [Theory]
    [InlineData("great terrible")]
    [InlineData(" -> bad")]
    [InlineData("great -> ")]
    [InlineData("a -> b -> c")]
    [InlineData("  ,  ")]
    public void MalformedRulesAreRefused(string rules)
    {
        var e = Assert.Throws<FormatException>(() => WordReplacer.Parse(rules));
        Assert.Contains("->", e.Message);
    }
}

public class ScramblerTests
{
    private static readonly TextExample Parent = new("s1", "the movie is not good at all", 0);

    [Fact]
    public void SameSeedSameScramble_DifferentSeedsDiffer()
    {
        var a = new Scrambler(seed: 7, count: 3).Generate(Parent);
        var b = new Scrambler(seed: 7, count: 3).Generate(Parent);
        Assert.Equal(a.Select(c => c.Text), b.Select(c => c.Text));
        var others = Enumerable.Range(100, 5).Select(s => new Scrambler(s).Generate(Parent)[0].Text).ToHashSet();
        Assert.True(others.Count > 1, "five seeds gave the same scramble");
    }

    [Fact]
    public void ScrambleIsAPermutationOfTheWords()
    {
        var words = Parent.Text.Split(' ');
        foreach (var cf in new Scrambler(seed: 3, count: 10).Generate(Parent))
        {
            var got = cf.Text.Split(' ');
            Assert.Equal(words.Order(StringComparer.Ordinal), got.Order(StringComparer.Ordinal));
            Assert.NotEqual(Parent.Text, cf.Text);
            var perm = cf.Parameters["permutation"].Split(' ').Select(int.Parse).ToArray();
            Assert.Equal(Enumerable.Range(0, words.Length), perm.Order());
            Assert.Equal(got, perm.Select(p => words[p]));
            Assert.Equal(Enumerable.Range(0, words.Length).Count(i => got[i] != words[i]), cf.Edits.Count);
            Assert.Equal("s1", cf.ParentId);
            Assert.Equal("scrambler", cf.Generator);
            Assert.Equal(0, cf.Label);
        }
        Assert.Equal("the movie is not good at all", Parent.Text);
    }

    [Fact]
    public void NothingToReorderGivesNothing()
    {
        Assert.Empty(new Scrambler().Generate(new("a", "single")));
        Assert.Empty(new Scrambler().Generate(new("b", "la la la")));
        Assert.Single(new Scrambler().Generate(new("c", "la la di")));
    }

    [Fact]
    public void BadCountIsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => new Scrambler(count: 0));
}
