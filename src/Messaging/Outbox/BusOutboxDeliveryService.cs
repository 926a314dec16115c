using MassTransit;
using MassTransit.Middleware;
using MassTransit.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Sends what bus outboxes committed. Each pass claims the oldest outboxes nobody else holds
/// (<c>FOR UPDATE SKIP LOCKED</c>, so several processes share the work and never send one outbox twice at once),
/// sends each outbox's messages (<see cref="OutboxMessageSender"/>: in sequence order per destination and correlation id,
/// the rest side by side; different outboxes concurrently), deletes what was sent and commits. A send that fails stops
/// its chain there; the rest stays for a later pass, in order.
/// <para>
/// Claims take only due outboxes. A failure specific to one outbox (see <see cref="OutboxSendFailure"/>) makes that
/// outbox due again after its own exponential delay and the pass goes on; after <see cref="BusOutboxOptions.MaxAttempts"/>
/// such failures it is parked until an operator releases it. Any other failure (broker away, sends timing out) counts
/// against no outbox: the loop backs off as a whole.
/// </para>
/// <para>
/// It sleeps until woken: by a commit in this process (<see cref="OutboxDeliverySignal"/>), by a commit in any
/// process (PostgreSQL <c>NOTIFY messaging_outbox</c>), or by the fallback poll. After a failure it backs off
/// exponentially, so a broker outage costs one attempt per backoff step, not a hot loop.
/// </para>
/// <para>
/// When sends to a destination keep timing out although the bus says it is connected, the bus's RabbitMQ connection
/// is replaced (<see cref="BrokerConnectionRecycler"/>). <see cref="OutboxDeliveryProgress"/> tells readiness whether
/// delivery is moving.
/// </para>
/// </summary>
sealed class BusOutboxDeliveryService<TDbContext>(
    IServiceScopeFactory scopeFactory,
    IBus bus,
    OutboxDeliverySignal signal,
    BusOutboxOptions options,
    OutboxDeliveryProgress progress,
    BrokerConnectionRecycler recycler,
    BrokerRefusals refusals,
    OutboxMessageSender sender,
    ILogger<BusOutboxDeliveryService<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ListenForCommits)
            _ = new OutboxCommitListener<TDbContext>(scopeFactory, signal, options, logger).RunAsync(stoppingToken);

        _stopping = stoppingToken;
        var watching = bus.ConnectSendObserver(refusals);
        try
        {
            // More than one loop so that a commit arriving while one loop is finishing its transaction is claimed by
            // another at once instead of waiting; SKIP LOCKED keeps them on different outboxes.
            await Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.DeliveryLoops)).Select(_ => DeliveryLoop(stoppingToken)));
        }
        finally
        {
            watching.Disconnect();
        }
    }

    async Task DeliveryLoop(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Also runs at start-up: outboxes left by a crashed process are delivered without waiting for a poll.
                // Only a full batch suggests more is waiting; a commit that arrived meanwhile has signalled anyway, so
                // an idle system pays one claim per wake, not an extra empty one.
                while (await DeliverBatch(stoppingToken))
                {
                }

                backoff = TimeSpan.Zero;
                await signal.WaitAsync(options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                backoff = backoff == TimeSpan.Zero ? options.MinBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
                logger.LogWarning(exception, "Outbox delivery failed; retrying in {Backoff}", backoff);
                await RecycleConnectionIfSendsKeepTimingOut(stoppingToken);
                try
                {
                    await Task.Delay(backoff, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Sends to one destination have timed out for <see cref="BusOutboxOptions.RecycleConnectionAfter"/> while the bus
    /// kept reporting a live connection: what holds them (a channel, a one-time topology setup on it, the connection
    /// itself) will not heal by itself, so the connection and its channels are replaced.
    /// </summary>
    async Task RecycleConnectionIfSendsKeepTimingOut(CancellationToken stoppingToken)
    {
        if (options.RecycleConnectionAfter is not { } after || progress.LongestTimeoutStreak is not { } streak)
            return;
        if (streak.For < after || streak.Count < 2 || !recycler.BusConnected)
            return;
        var reason = $"{streak.Count} sends to {streak.Destination} timed out over {streak.For.TotalSeconds:0} s while the bus reported being connected";
        if (await recycler.RecycleAsync(reason, stoppingToken))
            progress.ForgetTimeouts();
    }

    /// <summary>One claim–send–delete transaction; true when it was full, so more may be waiting.</summary>
    internal async Task<bool> DeliverBatch(CancellationToken cancellationToken)
    {
        var pass = progress.PassStarted();
        var (claimed, unsent) = (true, 0);
        try
        {
            var (full, any, left) = await DeliverBatch(pass, cancellationToken);
            (claimed, unsent) = (any, left);
            return full;
        }
        catch (Exception)
        {
            // Whatever it claimed is still there (rolled back or not sent).
            unsent = 1;
            throw;
        }
        finally
        {
            progress.PassEnded(pass, claimed, unsent);
        }
    }

    async Task<(bool Full, bool Claimed, int Unsent)> DeliverBatch(long pass, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);

        // Due outboxes only, in due order (outbox_state_due_idx): one waiting for its next attempt, or parked, is not claimed.
        var claimed = await dbContext.Set<OutboxState>()
            .FromSql($"""
                SELECT * FROM messaging.outbox_state
                WHERE parked_at IS NULL AND next_attempt_at <= now()
                ORDER BY next_attempt_at
                LIMIT {options.OutboxBatchSize}
                FOR UPDATE SKIP LOCKED
                """)
            .AsNoTracking()
            .Select(x => x.OutboxId)
            .ToListAsync(cancellationToken);
        if (claimed.Count == 0)
            return (false, false, 0);

        // Once claimed, the batch is finished even when the host is stopping: abandoning it after sends would only
        // make them go out twice after the restart. Each send is bounded by MessageDeliveryTimeout.
        cancellationToken = CancellationToken.None;

        var messages = await dbContext.Set<OutboxMessage>()
            .AsNoTracking()
            .Where(x => claimed.Contains(x.OutboxId))
            .OrderBy(x => x.OutboxId).ThenBy(x => x.SequenceNumber)
            .Take(options.MessageBatchSize)
            .ToListAsync(cancellationToken);

        var outcomes = await Task.WhenAll(messages.GroupBy(x => x.OutboxId).Select(outbox => sender.SendOutbox(outbox.Key, outbox.ToList(), cancellationToken)));

        var sent = outcomes.SelectMany(x => x.Sent).ToList();
        if (sent.Count > 0)
            await dbContext.Set<OutboxMessage>().Where(x => sent.Contains(x.Id)).ExecuteDeleteAsync(cancellationToken);

        await dbContext.Database.ExecuteSqlAsync($"""
            DELETE FROM messaging.outbox_state s
            WHERE s.outbox_id = ANY({claimed.ToArray()})
              AND NOT EXISTS (SELECT 1 FROM messaging.outbox_message m WHERE m.outbox_id = s.outbox_id)
            """, cancellationToken);

        var failures = outcomes.Where(x => x.Failure is not null).Select(x => x.Failure!).ToList();
        var counted = failures.Where(x => x.CountsAgainstOutbox).ToList();
        var recorded = counted.Count > 0 ? await OutboxAttempts.RecordAsync(dbContext, counted, options, cancellationToken) : [];

        await transaction.CommitAsync(cancellationToken);

        foreach (var attempt in recorded)
        {
            LogAttempt(attempt, counted.First(x => x.OutboxId == attempt.OutboxId));
            if (!attempt.Parked)
                WakeWhenDue(attempt);
        }

        // Only failures that are no outbox's own hold the loop back: the broker is away or sends do not finish.
        var uncounted = failures.Where(x => !x.CountsAgainstOutbox).Select(x => x.Exception).ToList();
        if (uncounted.Count > 0)
            throw new AggregateException($"{uncounted.Count} of {outcomes.Length} outboxes could not be delivered completely", uncounted);

        return (claimed.Count == options.OutboxBatchSize || messages.Count == options.MessageBatchSize, true, 0);
    }

    /// <summary>
    /// Nothing else need wake this process when an outbox it failed comes due again (no commit, the poll seconds away),
    /// so that its delays are what <see cref="BusOutboxOptions.RetryDelay"/> says. The same doubling as in
    /// <see cref="OutboxAttempts"/>, on this process's clock, a little late rather than early.
    /// </summary>
    void WakeWhenDue(RecordedAttempt attempt)
    {
        var seconds = Math.Min(options.MaxRetryDelay.TotalSeconds, options.RetryDelay.TotalSeconds * Math.Pow(2, Math.Min(attempt.Attempts - 1, 30)));
        _ = Task.Delay(TimeSpan.FromSeconds(seconds) + TimeSpan.FromMilliseconds(50), _stopping)
            .ContinueWith(static (_, state) => ((OutboxDeliverySignal)state!).Notify(), signal, CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    void LogAttempt(RecordedAttempt attempt, OutboxSendFailure failure)
    {
        if (attempt.Parked)
            logger.LogError(failure.Exception,
                "Outbox {OutboxId} parked after {Attempts} failed attempts; it is not delivered until released with SELECT messaging.release_parked_outbox('{OutboxId}') (see messaging.outbox_parked)",
                attempt.OutboxId, attempt.Attempts, attempt.OutboxId);
        else
            logger.LogWarning(failure.Exception, "Outbox {OutboxId} could not be delivered (attempt {Attempts} of {MaxAttempts}); next attempt at {NextAttemptAt:O}",
                attempt.OutboxId, attempt.Attempts, options.MaxAttempts, attempt.NextAttemptAt);
    }
}
