using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;
using Sagas.Messaging.Outbox;

namespace Sagas.Messaging.Inbox;

/// <summary>
/// The consume context a consumer sees behind the inbox: its sends and publishes (and schedules, which are sends to
/// the scheduler) are captured as <see cref="OutboxMessage"/> rows instead of going to the broker. With the bus
/// outbox enabled (<paramref name="handOff"/>) they are written as one bus outbox, which the delivery service sends
/// after the commit, and the inbox entry is finished in the consume transaction itself; otherwise they belong to the
/// inbox entry and MassTransit's outbox pipe delivers them in the following passes.
/// </summary>
sealed class InboxConsumeContext<TMessage>(
    ConsumeContext<TMessage> context,
    OutboxConsumeOptions options,
    IServiceProvider provider,
    DbContext dbContext,
    InboxState inbox,
    bool handOff)
    : OutboxConsumeContextProxy<TMessage>(context, options, provider)
    where TMessage : class
{
    // Captured in memory and added to the DbContext once consumption has finished: a consumer may publish from
    // several tasks at once, and the DbContext is not thread-safe.
    readonly List<OutboxMessage> _captured = [];

    public override Guid? MessageId => inbox.MessageId;

    /// <summary>Messages handed to the bus outbox by this pass (0 when none or when delivered inline).</summary>
    public int HandedOff { get; private set; }

    /// <summary>
    /// Set for the last pass after a consume pass that finished the entry: it only reports the consumption, with no
    /// transaction, since nothing of the entry is left to deliver or remove.
    /// </summary>
    public bool Finishing { get; init; }

    public override bool ContinueProcessing { get; set; } = true;
    public override bool IsMessageConsumed => inbox.Consumed.HasValue;
    public override bool IsOutboxDelivered => inbox.Delivered.HasValue;
    public override int ReceiveCount => inbox.ReceiveCount;
    public override long? LastSequenceNumber => inbox.LastSequenceNumber;

    public override Task AddSend<T>(SendContext<T> context)
    {
        var message = OutboxMessage.Capture(context);
        message.InboxMessageId = inbox.MessageId;
        message.InboxConsumerId = inbox.ConsumerId;
        lock (_captured)
        {
            _captured.Add(message);
            message.SequenceNumber = _captured.Count;
        }

        return Task.CompletedTask;
    }

    public override async Task SetConsumed()
    {
        var now = DateTime.UtcNow;
        inbox.Consumed = now;
        lock (_captured)
        {
            if (handOff && _captured.Count > 0)
            {
                // One bus outbox per consumed message keeps its messages in order; the delivery service claims many
                // such outboxes per transaction, where inline delivery costs two more transactions per message.
                var outbox = new OutboxState { OutboxId = NewId.NextGuid() };
                dbContext.Add(outbox);
                foreach (var message in _captured)
                {
                    message.OutboxId = outbox.OutboxId;
                    message.InboxMessageId = null;
                    message.InboxConsumerId = null;
                }

                HandedOff = _captured.Count;
            }

            dbContext.AddRange(_captured);
            // Nothing left to deliver inline: skip the delivery pass.
            if (_captured.Count == 0 || handOff)
                inbox.Delivered = now;
        }

        await dbContext.SaveChangesAsync(CancellationToken);
    }

    public override async Task SetDelivered()
    {
        inbox.Delivered = DateTime.UtcNow;
        await dbContext.SaveChangesAsync(CancellationToken);
    }

    // Only what is left after the last delivered sequence number, at most one more than a pass delivers
    // (MassTransit's outbox pipe reads the extra one as "not finished yet").
    public override async Task<List<OutboxMessageContext>> LoadOutboxMessages()
    {
        var last = inbox.LastSequenceNumber ?? 0;
        var messages = await dbContext.Set<OutboxMessage>()
            .AsNoTracking()
            .Where(x => x.InboxMessageId == inbox.MessageId && x.InboxConsumerId == inbox.ConsumerId && x.SequenceNumber > last)
            .OrderBy(x => x.SequenceNumber)
            .Take(Options.MessageDeliveryLimit + 1)
            .ToListAsync(CancellationToken);
        return messages.ConvertAll(OutboxMessageContext (x) => x);
    }

    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message)
    {
        inbox.LastSequenceNumber = message.SequenceNumber;
        return Task.CompletedTask;
    }

    public override Task RemoveOutboxMessages() =>
        Finishing
            ? Task.CompletedTask
            : dbContext.Set<OutboxMessage>()
                .Where(x => x.InboxMessageId == inbox.MessageId && x.InboxConsumerId == inbox.ConsumerId)
                .ExecuteDeleteAsync(CancellationToken);
}
