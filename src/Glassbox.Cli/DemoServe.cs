// `glassbox demo` (without --report): the web app on the embedded defaults — the sentiment
// classifier and the demo dataset from models/, plus the Shakespeare LM — on 127.0.0.1:5432 (or
// a free port when 5432 is taken), printing the URL. `glassbox demo --report` writes the HTML
// report instead (DemoCommand).
using Glassbox.Server;

namespace Glassbox.Cli;

internal static class DemoServe
{
    public const int Port = 5432;

    /// <summary>Serves until Ctrl+C; opened is called with the URL once the server listens.</summary>
    public static int Run(string classifier, string lm, string data, TextWriter stdout, TextWriter stderr, Action<Uri> opened, CancellationToken ct = default)
    {
        ServerOptions Options(int port) => new()
        {
            Port = port,
            Models = [new("sst2", classifier), new("shakespeare", lm)],
            Datasets = [new("demo", data)],
        };
        if (PortIsFree(Port)) return ServeCommand.Serve(Options(Port), stdout, stderr, ct, opened);
        stderr.WriteLine($"demo: port {Port} is in use; serving on a free port instead.");
        return ServeCommand.Serve(Options(0), stdout, stderr, ct, opened);
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
