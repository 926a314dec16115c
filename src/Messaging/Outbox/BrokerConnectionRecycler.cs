using MassTransit;
using MassTransit.RabbitMqTransport;
using MassTransit.RabbitMqTransport.Configuration;
using MassTransit.Transports;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Replaces the bus's RabbitMQ connection, and with it every channel and whatever is wedged on them, by closing it
/// through MassTransit's own connection supervisor: MassTransit then reconnects exactly as after any dropped
/// connection (new connection, new channels, send transports that set their topology up again).
/// <para>
/// The remedy when sends keep timing out while the bus reports being connected. Restarting the bus through
/// <see cref="IBusControl"/> was tried and rejected: when its stop does not complete in time (which is what a wedged
/// connection does to it) MassTransit 8.5 keeps the stopped send transports cached ("The send transport is stopped"
/// on every later send) and its host handle set ("Start called, but the host was already started"), i.e. delivery
/// broken until the process restarts.
/// </para>
/// </summary>
public sealed class BrokerConnectionRecycler(IBusInstance busInstance, BusOutboxOptions options, BrokerConnectionMonitor monitor,
    ILogger<BrokerConnectionRecycler> logger)
{
    readonly SemaphoreSlim _gate = new(1, 1);
    long _lastRecycle = long.MinValue;
    int _recycles;

    /// <summary>Connections this process has closed to replace them.</summary>
    public int Recycles => Volatile.Read(ref _recycles);

    /// <summary>
    /// True while the bus's RabbitMQ connection is open (<see cref="BrokerConnectionMonitor"/>); where that is not
    /// watched, while at least one receive endpoint is healthy (MassTransit's own health, which in a process that
    /// consumes nothing says connected whatever the connection does).
    /// </summary>
    public bool BusConnected
    {
        get
        {
            if (monitor.Connected is { } connected)
                return connected;
            try
            {
                return busInstance.BusControl.CheckHealth().Status != BusHealthStatus.Unhealthy;
            }
            catch (Exception)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Closes the bus's current RabbitMQ connection, once at a time and at most once per
    /// <see cref="BusOutboxOptions.RecycleConnectionAfter"/>. False when it did nothing.
    /// </summary>
    public async Task<bool> RecycleAsync(string reason, CancellationToken stoppingToken)
    {
        if (options.RecycleConnectionAfter is not { } interval || stoppingToken.IsCancellationRequested)
            return false;
        if (busInstance.HostConfiguration is not IRabbitMqHostConfiguration rabbit)
            return false;
        if (!await _gate.WaitAsync(0, CancellationToken.None))
            return false;
        try
        {
            var last = Interlocked.Read(ref _lastRecycle);
            if (last != long.MinValue && TimeProvider.System.GetElapsedTime(last) < interval)
                return false;
            Interlocked.Exchange(ref _lastRecycle, TimeProvider.System.GetTimestamp());
            Interlocked.Increment(ref _recycles);

            logger.LogWarning("Closing the bus's RabbitMQ connection so that MassTransit opens a new one: {Reason}", reason);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(options.ConnectionCloseTimeout + TimeSpan.FromSeconds(5));
            try
            {
                await rabbit.ConnectionContextSupervisor.Send(new CloseConnection(reason, options.ConnectionCloseTimeout), timeout.Token);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // A failure here is thrown out of MassTransit's connection pipe, which disposes that connection anyway.
                logger.LogWarning(exception, "Closing the bus's RabbitMQ connection did not complete cleanly");
            }

            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    sealed class CloseConnection(string reason, TimeSpan timeout) : IPipe<ConnectionContext>
    {
        public Task Send(ConnectionContext context) =>
            // abort: close the socket after the timeout even when the broker never answers connection.close.
            context.Connection.CloseAsync(Constants.ReplySuccess, $"replaced: {reason}", timeout, abort: true, CancellationToken.None);

        public void Probe(ProbeContext context) => context.CreateFilterScope("closeConnection");
    }
}
