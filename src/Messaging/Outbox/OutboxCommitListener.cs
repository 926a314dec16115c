using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Wakes this process's delivery service for commits made by other processes: a dedicated connection LISTENs on
/// <c>messaging_outbox</c> (a trigger on <c>outbox_state</c> notifies at commit). Every commit notifies every listening
/// process, mostly about outboxes their writer delivers itself a moment later; passing on at most one wake per
/// <see cref="BusOutboxOptions.RemoteWakeInterval"/> keeps those from costing a claim transaction each, while an outbox
/// that nobody else delivers still goes out within the interval.
/// </summary>
sealed class OutboxCommitListener<TDbContext>(IServiceScopeFactory scopeFactory, OutboxDeliverySignal signal, BusOutboxOptions options,
    ILogger logger)
    where TDbContext : DbContext
{
    const string Channel = "messaging_outbox";

    volatile bool _remoteCommit;

    // A dedicated connection LISTENing for commits of other processes. When it breaks, the fallback poll covers
    // the gap until it is back.
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        _ = ForwardRemoteCommits(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await OpenListenerConnection(stoppingToken);
                connection.Notification += (_, _) => _remoteCommit = true;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);

                // Commits made while we were not listening.
                signal.Notify();

                while (!stoppingToken.IsCancellationRequested)
                {
                    // A silent network failure never raises: probe the connection when nothing arrived for a while.
                    if (!await connection.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken))
                    {
                        await using var probe = new NpgsqlCommand("SELECT 1", connection);
                        await probe.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Outbox commit listener failed; falling back to polling until it reconnects");
                try
                {
                    await Task.Delay(options.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    async Task ForwardRemoteCommits(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.RemoteWakeInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!_remoteCommit)
                    continue;
                _remoteCommit = false;
                signal.Notify();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    async Task<NpgsqlConnection> OpenListenerConnection(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        // The DbContext's server and credentials on a connection outside its pool: closing it ends the session and its
        // LISTEN (the pool does not reset connections, see AddFulfilmentDatabase), so no pooled connection is left
        // subscribed, collecting notifications nobody reads.
        var pooled = (NpgsqlConnection)dbContext.Database.GetDbConnection();
        var connection = pooled.CloneWith(new NpgsqlConnectionStringBuilder(pooled.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
