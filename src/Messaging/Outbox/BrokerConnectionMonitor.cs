using MassTransit;
using MassTransit.RabbitMqTransport;
using MassTransit.RabbitMqTransport.Configuration;
using MassTransit.Transports;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Whether the bus's RabbitMQ connection is open, and for how long it has not been.
/// <para>
/// MassTransit's own bus check cannot tell in a process that consumes nothing, such as the Api: its only receive
/// endpoint, the bus endpoint, reports ready as soon as it is started and never notices the connection going (it has no
/// consumer on the broker), so <c>masstransit-bus</c> stayed Healthy through a whole RabbitMQ outage. This asks
/// MassTransit's connection supervisor for the connection every <see cref="Interval"/> and looks whether it is open:
/// one ask at a time, each given <see cref="Interval"/> to come back (an ask while RabbitMQ is away is a connection
/// attempt, which fails at once when the port refuses, or waits for the connect timeout when nothing answers).
/// </para>
/// <para>
/// Not a use of the connection held until RabbitMQ.Client reports it shut down (tried first): right after a connection
/// was replaced, the next such hold could wait for good, and the bus read as disconnected while it delivered.
/// </para>
/// </summary>
public sealed class BrokerConnectionMonitor(IBusInstance busInstance, ILogger<BrokerConnectionMonitor> logger,
    IHostApplicationLifetime? lifetime = null)
    : BackgroundService
{
    /// <summary>How often the connection is looked at, and how long one look may take before it counts as "none".</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    // A look that has not come back after this long is abandoned and another one started (MassTransit/RabbitMQ.Client can
    // leave a use of the connection waiting for good; see BusOutboxOptions.SendAbandonGrace).
    static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(30);

    readonly object _lock = new();
    bool _watching;
    bool _connected;
    long _disconnectedSince = TimeProvider.System.GetTimestamp();

    /// <summary>Null where nothing is watched (not a RabbitMQ bus, or the monitor has not started).</summary>
    public bool? Connected
    {
        get
        {
            lock (_lock)
                return _watching ? _connected : null;
        }
    }

    /// <summary>How long the bus has had no open connection (since the process started, before its first one); null while connected or not watched.</summary>
    public TimeSpan? DisconnectedFor
    {
        get
        {
            lock (_lock)
                return _watching && !_connected ? TimeProvider.System.GetElapsedTime(_disconnectedSince) : null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (busInstance.HostConfiguration is not IRabbitMqHostConfiguration rabbit)
            return;
        lock (_lock)
            _watching = true;

        // The bus is started by then (MassTransit's hosted service starts it): its connection is the one looked at.
        // Without a host (MassTransit's test harness resolves the bus outbox's services in a bare container) at once.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (lifetime is null)
            started.TrySetResult();
        using (lifetime?.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var supervisor = rabbit.ConnectionContextSupervisor;
        Task<bool>? look = null;
        var lookStarted = 0L;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            if (supervisor.Stopping.IsCancellationRequested)
                return;
            if (look is null || TimeProvider.System.GetElapsedTime(lookStarted) > AbandonAfter)
            {
                look = IsOpen(supervisor);
                lookStarted = TimeProvider.System.GetTimestamp();
            }

            try
            {
                Record(await look.WaitAsync(Interval, stoppingToken));
                look = null;
            }
            catch (TimeoutException)
            {
                // Still waiting for a connection: none to use now.
                Record(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        } while (await WaitForNextTick(timer, stoppingToken));
    }

    static async Task<bool> WaitForNextTick(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the connection MassTransit hands out is open. Never cancelled, and nothing thrown out of the pipe:
    /// MassTransit disposes a connection whose use throws or is cancelled, which a look must never cause.
    /// </summary>
    static async Task<bool> IsOpen(IConnectionContextSupervisor supervisor)
    {
        var look = new LookAtConnection();
        try
        {
            await supervisor.Send(look, CancellationToken.None);
            return look.Open;
        }
        catch (Exception)
        {
            // No connection could be had: RabbitMQ is away. MassTransit logs each attempt.
            return false;
        }
    }

    void Record(bool open)
    {
        TimeSpan? reconnectedAfter = null;
        bool lost;
        lock (_lock)
        {
            lost = _connected && !open;
            if (open && !_connected)
                reconnectedAfter = TimeProvider.System.GetElapsedTime(_disconnectedSince);
            if (lost)
                _disconnectedSince = TimeProvider.System.GetTimestamp();
            _connected = open;
        }

        if (reconnectedAfter is { } gone)
            logger.LogInformation("The bus is connected to RabbitMQ ({Seconds:0.0} s without a connection)", gone.TotalSeconds);
        if (lost)
            logger.LogWarning("The bus has no open RabbitMQ connection");
    }

    sealed class LookAtConnection : IPipe<ConnectionContext>
    {
        public bool Open { get; private set; }

        public Task Send(ConnectionContext context)
        {
            try
            {
                Open = context.Connection.IsOpen;
            }
            catch (Exception)
            {
                Open = false;
            }

            return Task.CompletedTask;
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("lookAtConnection");
    }
}

/// <summary>
/// Unhealthy once the bus has been without a RabbitMQ connection for longer than the threshold (http-contract.md,
/// "Additions, 2026-11-26": readiness 503 when the bus has been disconnected for more than 30 s); a shorter blip leaves
/// the process in rotation. Healthy where the connection is not watched.
/// </summary>
public sealed class BrokerConnectionHealthCheck(BrokerConnectionMonitor? monitor, TimeSpan threshold) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (monitor?.Connected is not { } connected)
            return Task.FromResult(HealthCheckResult.Healthy("not watched"));
        if (connected || monitor.DisconnectedFor is not { } gone)
            return Task.FromResult(HealthCheckResult.Healthy("connected"));
        var data = new Dictionary<string, object> { ["disconnectedSeconds"] = Math.Round(gone.TotalSeconds, 1) };
        return Task.FromResult(gone > threshold
            ? new HealthCheckResult(context.Registration.FailureStatus, $"the bus has had no RabbitMQ connection for {gone.TotalSeconds:0} s", data: data)
            : HealthCheckResult.Healthy($"reconnecting ({gone.TotalSeconds:0} s without a connection)", data));
    }
}
