// The huggingface_hub cache layout, read and written exactly as Python does:
//   <cache>/models--<org>--<name>/
//       blobs/<etag>                    file contents, named by ETag (sha256 for LFS, git sha1 otherwise)
//       blobs/<etag>.incomplete         a download in progress (resumed with a Range request)
//       refs/<revision>                 text file holding the commit hash a branch/tag resolved to
//       snapshots/<commit>/<file>       relative symlink to ../../blobs/<etag>
//       .no_exist/<commit>/<file>       empty marker: the file is known not to exist at that commit
//   <cache>/.locks/models--<org>--<name>/<etag>.lock
using System.Text.RegularExpressions;

namespace Glassbox.Models.Hub;

public sealed partial class HubCache(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();

    public static bool IsCommitHash(string revision) => CommitHash().IsMatch(revision);

    /// <summary>"models--org--name" (the folder name huggingface_hub uses for a model repo).</summary>
    public static string FolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    public string RepoFolder(string repoId) => Path.Combine(Root, FolderName(repoId));

    public string BlobPath(string repoId, string etag) => Path.Combine(RepoFolder(repoId), "blobs", etag);

    public string SnapshotFolder(string repoId, string commit) => Path.Combine(RepoFolder(repoId), "snapshots", commit);

    public string SnapshotPath(string repoId, string commit, string file) => Path.Combine(SnapshotFolder(repoId, commit), ToLocal(file));

    public string NoExistPath(string repoId, string commit, string file) => Path.Combine(RepoFolder(repoId), ".no_exist", commit, ToLocal(file));

    public string LockPath(string repoId, string etag) => Path.Combine(Root, ".locks", FolderName(repoId), etag + ".lock");

    private string RefPath(string repoId, string revision) => Path.Combine(RepoFolder(repoId), "refs", ToLocal(revision));

    /// <summary>The commit a revision points to in the cache: itself if it is a hash, else refs/&lt;revision&gt;.</summary>
    public string? ResolveCommit(string repoId, string revision)
    {
        if (IsCommitHash(revision)) return revision;
        var p = RefPath(repoId, revision);
        if (!File.Exists(p)) return null;
        string c = File.ReadAllText(p).Trim();
        return IsCommitHash(c) ? c : null;
    }

    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit) return;
        var p = RefPath(repoId, revision);
        if (File.Exists(p) && File.ReadAllText(p).Trim() == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        string tmp = p + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(tmp, commit);
        File.Move(tmp, p, overwrite: true);
    }

    public void MarkMissing(string repoId, string commit, string file)
    {
        var p = NoExistPath(repoId, commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        if (!File.Exists(p)) File.WriteAllBytes(p, []);
    }

    /// <summary>Links snapshots/&lt;commit&gt;/&lt;file&gt; to the blob with a relative symlink (copying where symlinks are unavailable).</summary>
    public void LinkSnapshot(string repoId, string commit, string file, string blob)
    {
        string pointer = SnapshotPath(repoId, commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        if (File.Exists(pointer) || new FileInfo(pointer).LinkTarget is not null) File.Delete(pointer);
        string relative = Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob);
        try
        {
            File.CreateSymbolicLink(pointer, relative);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, pointer, overwrite: true);
        }
    }

    /// <summary>Turns a repo-relative name ("a/b.json") into a local relative path, refusing anything that could leave the folder.</summary>
    internal static string ToLocal(string repoPath)
    {
        if (repoPath.Length == 0 || repoPath.StartsWith('/') || repoPath.Contains('\\') || repoPath.Contains('\0') || repoPath.Contains(':')
            || repoPath.Split('/').Any(p => p is "" or "." or ".."))
            throw new HubException(HubErrorKind.InvalidId, $"'{repoPath}' is not a plain relative path inside a repository.");
        return repoPath.Replace('/', Path.DirectorySeparatorChar);
    }
}
