using MassTransit;
using MassTransit.RabbitMqTransport;
using MassTransit.RabbitMqTransport.Configuration;
using MassTransit.Transports;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Whether the bus's RabbitMQ connection is open, and for how long it has not been.
/// <para>
/// MassTransit's own bus check cannot tell in a process that consumes nothing, such as the Api: its only receive
/// endpoint, the bus endpoint, reports ready as soon as it is started and never notices the connection going (it has no
/// consumer on the broker), so <c>masstransit-bus</c> stayed Healthy through a whole RabbitMQ outage. This watches the
/// connection MassTransit's connection supervisor holds instead: one use of it that lasts until RabbitMQ.Client reports
/// the connection shut down, then waits for the next one (which MassTransit opens, as for any send).
/// </para>
/// </summary>
public sealed class BrokerConnectionMonitor(IBusInstance busInstance, IHostApplicationLifetime lifetime, ILogger<BrokerConnectionMonitor> logger)
    : BackgroundService
{
    // After a failed attempt to reach the broker, before asking for a connection again: each ask while RabbitMQ is away
    // is a connection attempt (MassTransit logs a warning for each), and reconnection is noticed at most this late.
    static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

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

        // The bus is started by then (MassTransit's hosted service starts it): its connection is the one watched.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
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
        while (!stoppingToken.IsCancellationRequested && !supervisor.Stopping.IsCancellationRequested)
        {
            try
            {
                await supervisor.Send(new WatchConnection(this, stoppingToken, supervisor.Stopping), stoppingToken);
                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // No connection could be had: RabbitMQ is away. MassTransit logs each attempt.
            }

            try
            {
                await Task.Delay(RetryDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    void Opened()
    {
        TimeSpan? after;
        lock (_lock)
        {
            after = _connected ? null : TimeProvider.System.GetElapsedTime(_disconnectedSince);
            _connected = true;
        }

        if (after is { } gone)
            logger.LogInformation("The bus is connected to RabbitMQ ({Seconds:0.0} s without a connection)", gone.TotalSeconds);
    }

    void Closed(string reason)
    {
        lock (_lock)
        {
            if (!_connected)
                return;
            _connected = false;
            _disconnectedSince = TimeProvider.System.GetTimestamp();
        }

        logger.LogWarning("The bus's RabbitMQ connection closed: {Reason}", reason);
    }

    /// <summary>
    /// Holds the connection until it shuts down, and always returns normally: MassTransit disposes a connection whose use
    /// throws, which a watcher must never cause.
    /// </summary>
    sealed class WatchConnection(BrokerConnectionMonitor monitor, CancellationToken stopping, CancellationToken supervisorStopping)
        : IPipe<ConnectionContext>
    {
        public async Task Send(ConnectionContext context)
        {
            var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            Task OnShutdown(object? sender, ShutdownEventArgs args)
            {
                closed.TrySetResult(args.ReplyText);
                return Task.CompletedTask;
            }

            var connection = context.Connection;
            try
            {
                connection.ConnectionShutdownAsync += OnShutdown;
                if (connection.CloseReason is { } reason)
                {
                    monitor.Closed(reason.ReplyText);
                    return;
                }

                monitor.Opened();
                using var ended = CancellationTokenSource.CreateLinkedTokenSource(stopping, supervisorStopping);
                monitor.Closed(await closed.Task.WaitAsync(ended.Token));
            }
            catch (OperationCanceledException)
            {
                // The process or the bus is stopping.
            }
            catch (ObjectDisposedException)
            {
                monitor.Closed("disposed");
            }
            finally
            {
                try
                {
                    connection.ConnectionShutdownAsync -= OnShutdown;
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("watchConnection");
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
