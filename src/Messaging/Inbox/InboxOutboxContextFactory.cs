using System.Diagnostics;
using MassTransit;
using MassTransit.Middleware;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sagas.Messaging.Outbox;

namespace Sagas.Messaging.Inbox;

/// <summary>
/// The PostgreSQL inbox + consumer outbox, plugged into MassTransit's <c>OutboxConsumeFilter</c> for every consumer
/// and saga. Each pass of MassTransit's outbox protocol (consume → deliver → clean up) that touches the database runs
/// in one transaction on the message scope's DbContext, holding the row lock of the message's inbox entry:
/// <list type="number">
/// <item>consume: the inbox mark, the consumer's (or saga repository's) writes and every message it sends or
/// publishes commit together, or nothing does. With the bus outbox enabled the messages are committed as a bus
/// outbox and the entry is marked delivered right here: the delivery service sends them, batched with others,
/// and the remaining passes need no transaction;</item>
/// <item>deliver (without the bus outbox): the stored messages go to the broker in sequence order and the
/// progress is recorded;</item>
/// <item>done: the entry's stored messages are removed; a redelivery of the same message is acknowledged without
/// running the consumer until the cleanup service forgets the entry after the duplicate-detection window.</item>
/// </list>
/// </summary>
public sealed class InboxOutboxContextFactory<TDbContext>(TDbContext dbContext, IServiceProvider provider, PostgresOutboxOptions outboxOptions)
    : IOutboxContextFactory<TDbContext>
    where TDbContext : DbContext
{
    readonly OutboxDeliverySignal? _signal = outboxOptions.BusOutbox is null ? null : provider.GetService<OutboxDeliverySignal>();
    readonly AfterCommit? _afterCommit = provider.GetService<AfterCommit>();
    readonly InboxMetrics? _metrics = provider.GetService<InboxMetrics>();

    public async Task Send<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next)
        where T : class
    {
        var messageId = context.GetOriginalMessageId() ?? throw new MessageException(typeof(T), "The inbox needs a MessageId");
        var cancellationToken = context.CancellationToken;

        var receiveIncrement = 1;
        bool continueProcessing;
        do
        {
            // Disposing an uncommitted transaction rolls it back: an exception anywhere in the pass leaves nothing behind.
            await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);
            // Any failure rolls the whole pass back, so EF's savepoint around each SaveChanges (two more round trips
            // each) buys nothing here.
            dbContext.Database.AutoSavepointsEnabled = false;
            _afterCommit?.Begin();

            var inbox = await LockInboxEntry(messageId, options.ConsumerId, receiveIncrement, cancellationToken);
            // Consumed and delivered before this delivery arrived: the pipe acknowledges it without running the consumer.
            var duplicate = receiveIncrement == 1 && inbox.Consumed is not null && inbox.Delivered is not null;
            receiveIncrement = 0;

            var outboxContext = new InboxConsumeContext<T>(context, options, provider, dbContext, inbox, _signal is not null);
            var consuming = inbox.Consumed is null;
            var delivering = inbox.Consumed is not null && inbox.Delivered is null;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next.Send(outboxContext);
            }
            catch (Exception exception) when (delivering && !cancellationToken.IsCancellationRequested)
            {
                // Without a retry the message would go to the error queue and leave its committed outbox unsent.
                throw new OutboxDeliveryException(messageId, exception);
            }

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

            _afterCommit?.Committed();
            if (duplicate)
                _metrics?.DuplicateDropped<T>();

            // Between passes another delivery of the same message may take the lock and move the entry on (deliver
            // it, finish it). The next pass must read that, and EF would hand back this tracked, stale instance.
            dbContext.Entry(inbox).State = EntityState.Detached;

            continueProcessing = outboxContext.ContinueProcessing;

            if (continueProcessing && consuming && inbox.Delivered is not null)
            {
                // Consumed and finished in one transaction: wake the delivery service for what was handed to it, and
                // let the pipe report the consumption without opening another transaction.
                if (outboxContext.HandedOff > 0)
                    _signal?.Notify();
                await next.Send(new InboxConsumeContext<T>(context, options, provider, dbContext, inbox, _signal is not null) { Finishing = true });
                continueProcessing = false;
            }
        } while (continueProcessing);
    }

    // Creates the entry or locks the existing one in a single statement. A concurrent delivery of the same message
    // waits here on the unique key or the row lock until the first one commits, then sees its outcome.
    async Task<InboxState> LockInboxEntry(Guid messageId, Guid consumerId, int receiveIncrement, CancellationToken cancellationToken)
    {
        var rows = await dbContext.Set<InboxState>()
            .FromSql($"""
                INSERT INTO messaging.inbox_state AS i (message_id, consumer_id)
                VALUES ({messageId}, {consumerId})
                ON CONFLICT (message_id, consumer_id) DO UPDATE SET receive_count = i.receive_count + {receiveIncrement}
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
