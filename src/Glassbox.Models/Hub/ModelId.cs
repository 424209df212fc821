using System.Text.RegularExpressions;

namespace Glassbox.Models.Hub;

/// <summary>A Hub model reference: "org/name", "name" (legacy canonical ids such as "gpt2"), optionally "@revision".</summary>
public sealed partial record ModelId(string RepoId, string Revision)
{
    [GeneratedRegex(@"^([\w\-.]+/)?[\w\-.]{1,96}$")]
    private static partial Regex RepoIdPattern();

    public static bool TryParse(string text, out ModelId? id)
    {
        id = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string repo = text, revision = "main";
        int at = text.LastIndexOf('@');
        if (at >= 0)
        {
            repo = text[..at];
            revision = text[(at + 1)..];
            if (revision.Length == 0) return false;
        }
        if (!RepoIdPattern().IsMatch(repo) || repo.Contains("--", StringComparison.Ordinal) || repo.Contains("..", StringComparison.Ordinal)
            || repo.StartsWith('.') || repo.StartsWith('-') || repo.EndsWith('.') || repo.EndsWith('-') || repo.Length > 96 * 2 + 1)
            return false;
        if (revision.Contains("..", StringComparison.Ordinal) || revision.StartsWith('/') || revision.Contains('\\')) return false;
        id = new ModelId(repo, revision);
        return true;
    }

    public static ModelId Parse(string text) => TryParse(text, out var id) ? id!
        : throw new HubException(HubErrorKind.InvalidId, $"'{text}' is neither an existing folder nor a model id of the form org/name[@revision].");

    public override string ToString() => Revision == "main" ? RepoId : $"{RepoId}@{Revision}";
}
