using System.Diagnostics;
using MassTransit;
using MassTransit.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Sagas.Messaging.Outbox;

namespace Sagas.Messaging.Inbox;

/// <summary>
/// The PostgreSQL inbox + consumer outbox, plugged into MassTransit's <c>OutboxConsumeFilter</c> for every consumer
/// and saga. A message is consumed in one transaction on the message scope's DbContext, holding the row lock of the
/// message's inbox entry: the inbox mark, the consumer's (or saga repository's) writes and every message it sends or
/// publishes, as one bus outbox, commit together, or nothing does. The delivery service sends that outbox after the
/// commit, batched with others. A redelivery of the same message finds the entry consumed and is acknowledged without
/// running the consumer, until the cleanup service forgets the entry after the duplicate-detection window.
/// <para>
/// MassTransit's outbox pipe runs in passes (consume, deliver, clean up, report) until it clears
/// <c>ContinueProcessing</c>. Here the consume pass leaves nothing to deliver or clean up, so after its commit one more
/// pass, which touches no database, reports the consumption; see <see cref="InboxConsumeContext{TMessage}"/>.
/// </para>
/// </summary>
public sealed class InboxOutboxContextFactory<TDbContext>(TDbContext dbContext, IServiceProvider provider, OutboxDeliverySignal signal)
    : IOutboxContextFactory<TDbContext>
    where TDbContext : DbContext
{
    readonly AfterCommit? _afterCommit = provider.GetService<AfterCommit>();
    readonly InboxMetrics? _metrics = provider.GetService<InboxMetrics>();
    readonly IOutboxHandOff? _handOff = provider.GetService<IOutboxHandOff>();

    public async Task Send<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next)
        where T : class
    {
        var messageId = context.GetOriginalMessageId() ?? throw new MessageException(typeof(T), "The inbox needs a MessageId");
        var cancellationToken = context.CancellationToken;

        InboxState inbox;
        InboxConsumeContext<T> pass;
        bool duplicate;
        // Disposing an uncommitted transaction rolls it back: an exception anywhere leaves nothing behind.
        await using (var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken))
        {
            // Any failure rolls the whole transaction back, so EF's savepoint around each SaveChanges (two more round
            // trips each) buys nothing here.
            dbContext.Database.AutoSavepointsEnabled = false;
            _afterCommit?.Begin();

            inbox = await LockInboxEntry(messageId, options.ConsumerId, cancellationToken);
            var consuming = inbox.Consumed is null;
            // Consumed and delivered before this delivery arrived: the pipe acknowledges it without running the consumer.
            duplicate = inbox.Consumed is not null && inbox.Delivered is not null;
            pass = new InboxConsumeContext<T>(context, options, provider, dbContext, inbox);
            var started = Stopwatch.GetTimestamp();

            // Consumes the message, or (a redelivery of one consumed already) only reports it.
            await next.Send(pass);

            try
            {
                await dbContext.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (Exception exception) when (consuming && !cancellationToken.IsCancellationRequested)
            {
                // The consumer finished but nothing of it committed: whoever sent the message hears of it as a Fault<T>,
                // as if the consumer had thrown, not as a ReceiveFault nobody subscribes to (MassTransit #6154). Behind a
                // retry the fault waits until the retries are used up, and is dropped if one succeeds.
                await context.NotifyFaulted(Stopwatch.GetElapsedTime(started), TypeCache<T>.ShortName, exception);
                throw;
            }
        }

        _afterCommit?.Committed();
        if (duplicate)
            _metrics?.DuplicateDropped<T>();

        // A later attempt (a retry in this process) must read the entry again, not EF's tracked copy of it.
        dbContext.Entry(inbox).State = EntityState.Detached;

        if (!pass.ContinueProcessing)
            return;

        // Consumed and finished in one transaction: send what it committed (or wake the delivery service for it), and let
        // the pipe report the consumption (the entry is delivered: the pipe's last pass, with nothing to remove).
        if (pass.HandOff is { } handOff)
            _handOff!.HandOff(handOff.Outbox, handOff.Messages);
        else if (pass.HandedOff > 0)
            signal.Notify();
        if (pass.NextTimerDue is { } due)
            signal.NotifyAt(due);
        await next.Send(new InboxConsumeContext<T>(context, options, provider, dbContext, inbox));
    }

    // Creates the entry or locks the existing one in a single statement. A concurrent delivery of the same message
    // waits here on the unique key or the row lock until the first one commits, then sees its outcome.
    async Task<InboxState> LockInboxEntry(Guid messageId, Guid consumerId, CancellationToken cancellationToken)
    {
        var rows = await dbContext.Set<InboxState>()
            .FromSql($"""
                INSERT INTO messaging.inbox_state AS i (message_id, consumer_id)
                VALUES ({messageId}, {consumerId})
                ON CONFLICT (message_id, consumer_id) DO UPDATE SET receive_count = i.receive_count + 1
                RETURNING i.*
                """)
            .AsTracking()
            .ToListAsync(cancellationToken);
        return rows.Single();
    }

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("outboxContextFactory");
        scope.Add("provider", "postgres");
        scope.Add("dbContext", typeof(TDbContext).Name);
    }
}
