using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sagas.Messaging.Outbox;

/// <summary>What commits an outbox and can hand it to <see cref="OutboxHandOff{TDbContext}"/> once committed.</summary>
public interface IOutboxHandOff
{
    /// <summary>
    /// Called before the commit, on an outbox about to be written: makes it due only after
    /// <see cref="BusOutboxOptions.HandOffLease"/>, so that no delivery loop claims it while <see cref="HandOff"/>
    /// sends it, and returns true; every leased outbox must be handed off after its commit (or its process has died).
    /// False, and the outbox is left to the delivery loops as it is, while the bus has no broker connection or
    /// <see cref="BusOutboxOptions.HandOffsAtOnce"/> hand-offs are in flight: a commit must never wait for the broker.
    /// </summary>
    bool Lease(OutboxState outbox);

    /// <summary>
    /// Called after the commit of a leased outbox: sends its messages in the background (at most
    /// <see cref="BusOutboxOptions.HandOffsAtOnce"/> at once; with none free it is made due for the delivery loops
    /// instead). Returns at once: a commit never waits for the broker.
    /// </summary>
    void HandOff(OutboxState outbox, IReadOnlyList<OutboxMessage> messages);
}

/// <summary>
/// Sends an outbox from the process that committed it, right after the commit and from the rows it still holds in
/// memory, in place of a delivery loop's wake-up, claim and read (<see cref="BusOutboxOptions.HandOff"/>). The outbox
/// was committed leased (due <see cref="BusOutboxOptions.HandOffLease"/> later), so no loop claims it meanwhile; sent,
/// it is deleted with the others finished since the last delete, in one statement. A send that fails (the broker away
/// or refusing) puts what is left of the outbox back in the loops' hands at once, due now, where attempts are counted
/// and parking decided as for any outbox. Should this process die between the commit and the delete, the lease runs
/// out and a loop sends the outbox (again, for what had gone out already: consumers' inboxes drop the duplicates).
/// </summary>
sealed class OutboxHandOff<TDbContext>(
    IServiceScopeFactory scopeFactory,
    OutboxMessageSender sender,
    BusOutboxOptions options,
    BrokerConnectionRecycler recycler,
    OutboxDeliverySignal signal,
    ILogger<OutboxHandOff<TDbContext>> logger) : BackgroundService, IOutboxHandOff
    where TDbContext : DbContext
{
    /// <summary>Outboxes deleted per statement at most.</summary>
    const int DeleteBatch = 500;

    // Its free count is what is left of HandOffsAtOnce: the hand-offs in flight are the rest.
    readonly SemaphoreSlim _slots = new(Math.Max(1, options.HandOffsAtOnce));
    readonly Channel<Guid> _finished = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    public bool Lease(OutboxState outbox)
    {
        // With the broker away every send would wait out MessageDeliveryTimeout: the loops back off as a whole instead.
        if (!recycler.BusConnected || _slots.CurrentCount == 0)
            return false;
        outbox.NextAttemptAt = DateTime.UtcNow + options.HandOffLease;
        return true;
    }

    public void HandOff(OutboxState outbox, IReadOnlyList<OutboxMessage> messages)
    {
        var committedAt = DateTime.UtcNow;
        // The commit is done and its caller (a consume, an HTTP request) must not wait for sends: with every slot taken
        // (sends hanging on a broker that went away since the lease) the outbox goes to the loops, due now.
        if (!_slots.Wait(0))
        {
            _ = ReturnAsync(outbox.OutboxId, []);
            return;
        }

        _ = Task.Run(() => SendAsync(outbox.OutboxId, messages, committedAt), CancellationToken.None);
    }

    async Task SendAsync(Guid outboxId, IReadOnlyList<OutboxMessage> messages, DateTime committedAt)
    {
        try
        {
            // The sender reports a failed send as its outcome; it does not throw.
            var (sent, failure) = await sender.SendOutbox(outboxId, messages, CancellationToken.None, committedAt);
            if (failure is null)
            {
                _finished.Writer.TryWrite(outboxId);
                return;
            }

            logger.LogDebug(failure.Exception, "Outbox {OutboxId}: handed off, not sent completely; back to the delivery loops", outboxId);
            await ReturnAsync(outboxId, sent);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// What went out is deleted, the rest made due at once for the delivery loops, which are woken. Should that fail
    /// too, the lease runs out and a loop takes the outbox then.
    /// </summary>
    async Task ReturnAsync(Guid outboxId, List<long> sent)
    {
        try
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
            await dbContext.Database.ExecuteSqlAsync($"""
                WITH gone AS (DELETE FROM messaging.outbox_message WHERE id = ANY({sent.ToArray()}))
                UPDATE messaging.outbox_state SET next_attempt_at = now() WHERE outbox_id = {outboxId}
                """);
            signal.Notify();
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Outbox {OutboxId} could not be handed back to the delivery loops; they take it once its lease ({Lease}) has run out",
                outboxId, options.HandOffLease);
        }
    }

    /// <summary>Deletes finished outboxes (their messages cascade), as many per statement as have finished meanwhile.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Guid>(DeleteBatch);
        var backoff = options.MinBackoff;
        while (true)
        {
            try
            {
                if (batch.Count == 0 && !await _finished.Reader.WaitToReadAsync(stoppingToken))
                    return;
            }
            catch (OperationCanceledException)
            {
                // Stopping: what has finished is still deleted below, so a restart does not send it again.
                if (!_finished.Reader.TryPeek(out _) && batch.Count == 0)
                    return;
            }

            while (batch.Count < DeleteBatch && _finished.Reader.TryRead(out var id))
                batch.Add(id);
            try
            {
                await DeleteAsync(batch);
                batch.Clear();
                backoff = options.MinBackoff;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Kept and tried again; should the leases run out first, the loops send those outboxes a second time.
                logger.LogWarning(exception, "Deleting {Count} handed-off outboxes failed; retrying in {Backoff}", batch.Count, backoff);
                await Task.Delay(backoff, CancellationToken.None);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Deleting {Count} handed-off outboxes failed while stopping; they are sent again after a restart", batch.Count);
                return;
            }
        }
    }

    async Task DeleteAsync(List<Guid> batch)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        await dbContext.Database.ExecuteSqlAsync($"DELETE FROM messaging.outbox_state WHERE outbox_id = ANY({batch.ToArray()})");
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Sends in flight finish first (each bounded by MessageDeliveryTimeout), so that their deletes are not lost.
        var until = DateTime.UtcNow + options.MessageDeliveryTimeout + options.SendAbandonGrace;
        while (_slots.CurrentCount < Math.Max(1, options.HandOffsAtOnce) && DateTime.UtcNow < until && !cancellationToken.IsCancellationRequested)
            await Task.Delay(10, CancellationToken.None);
        _finished.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }
}
