using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// A real Kestrel server on 127.0.0.1 standing in for something the sandbox calls by URL. Its port is
/// reserved at construction, so the sandbox can be configured with it before anything listens.
/// </summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    readonly SemaphoreSlim _gate = new(1, 1);
    WebApplication? _app;

    protected LoopbackServer()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public int Port { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    protected abstract void Map(WebApplication app);

    /// <summary>Starts listening; calling it again is harmless.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_app is not null)
                return;
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel().UseUrls(BaseUrl.ToString());
            var app = builder.Build();
            Map(app);
            await app.StartAsync();
            _app = app;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
