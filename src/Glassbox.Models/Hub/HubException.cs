namespace Glassbox.Models.Hub;

public enum HubErrorKind
{
    /// <summary>401/403: private, gated, or nonexistent (the Hub answers 401 to anonymous requests for missing repos).</summary>
    Unauthorized,
    GatedRepo,
    RepoNotFound,
    RevisionNotFound,
    EntryNotFound,
    /// <summary>Offline mode (or no network) and the files are not in the cache.</summary>
    NotCached,
    Network,
    BadResponse,
    InvalidId,
}

/// <summary>A Hub resolution failure. Messages say what happened and what to do about it.</summary>
public sealed class HubException(HubErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public HubErrorKind Kind { get; } = kind;
}
