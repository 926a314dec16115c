using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// A TCP proxy between a bus and RabbitMQ that can fail the way networks and brokers do, without touching the
/// broker: <see cref="Stall"/> stops forwarding bytes in both directions while every connection stays open (a
/// congested link, a broker that stopped answering), <see cref="Resume"/> forwards what was held and carries on,
/// <see cref="Cut"/> resets every open connection, and <see cref="Refuse"/> resets new connections at once (a
/// broker that is down). <see cref="StallOpenConnections"/> wedges only the connections open now while new ones
/// flow: a connection that went dead silently (a dropped NAT entry, a stuck peer) with the broker still reachable.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    readonly TcpListener _listener;
    readonly string _targetHost;
    readonly int _targetPort;
    readonly CancellationTokenSource _stopping = new();
    readonly ConcurrentDictionary<Link, byte> _links = new();
    readonly Task _accepting;
    readonly object _gateLock = new();
    TaskCompletionSource _open = Opened();

    public TcpFaultProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = Accept();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far (a bus that reconnects opens new ones).</summary>
    public int Accepted => _accepted;

    /// <summary>While true, new connections are reset as soon as they are accepted.</summary>
    public bool Refuse { get; set; }

    int _accepted;

    /// <summary>Stops forwarding bytes, both ways, on every connection (open or new); nothing is closed.</summary>
    public void Stall()
    {
        lock (_gateLock)
        {
            if (_open.Task.IsCompleted)
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Forwards again, starting with what was held back.</summary>
    public void Resume()
    {
        lock (_gateLock)
            _open.TrySetResult();
    }

    /// <summary>Stops forwarding on the connections open now, for good (until <see cref="Cut"/>); new ones flow.</summary>
    public void StallOpenConnections()
    {
        foreach (var link in _links.Keys)
            link.Wedge();
    }

    /// <summary>Resets every open connection (both sides see the connection reset).</summary>
    public void Cut()
    {
        foreach (var link in _links.Keys)
            link.Reset();
    }

    static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    Task Gate()
    {
        lock (_gateLock)
            return _open.Task;
    }

    async Task Accept()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            Interlocked.Increment(ref _accepted);
            if (Refuse)
            {
                Reset(client);
                continue;
            }

            _ = Serve(client);
        }
    }

    async Task Serve(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
        }
        catch (Exception)
        {
            Reset(client);
            upstream.Dispose();
            return;
        }

        var link = new Link(client, upstream);
        _links.TryAdd(link, 0);
        try
        {
            await Task.WhenAny(Pump(client, upstream, link), Pump(upstream, client, link));
        }
        finally
        {
            link.Reset();
            _links.TryRemove(link, out _);
        }
    }

    async Task Pump(Socket from, Socket to, Link link)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (!link.IsClosed)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                    return;
                // Held here while stalled: the bytes read stay with the proxy, the rest waits in the kernel's buffers.
                await Gate().WaitAsync(_stopping.Token);
                await link.Open.WaitAsync(_stopping.Token);
                if (link.IsClosed)
                    return;
                var sent = 0;
                while (sent < read)
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, _stopping.Token);
            }
        }
        catch (Exception)
        {
            // A reset, a cut or the proxy stopping: the link is torn down by Serve.
        }
    }

    static void Reset(Socket socket)
    {
        try
        {
            // Linger 0: close with RST, as a crashed peer or a dropped NAT entry looks.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        Resume();
        Cut();
        try
        {
            await _accepting;
        }
        catch (Exception)
        {
        }

        _stopping.Dispose();
    }

    sealed class Link(Socket client, Socket upstream)
    {
        readonly TaskCompletionSource _wedged = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task _open = Task.CompletedTask;
        int _closed;

        public bool IsClosed => Volatile.Read(ref _closed) == 1;

        /// <summary>Completed while the link forwards; a wedged link waits until it is reset.</summary>
        public Task Open => Volatile.Read(ref _open);

        public void Wedge() => Volatile.Write(ref _open, _wedged.Task);

        public void Reset()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1)
                return;
            _wedged.TrySetResult();
            TcpFaultProxy.Reset(client);
            TcpFaultProxy.Reset(upstream);
        }
    }
}
