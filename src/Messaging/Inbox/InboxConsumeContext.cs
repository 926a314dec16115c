using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sagas.Messaging.Outbox;
using Sagas.Messaging.Scheduling;

namespace Sagas.Messaging.Inbox;

/// <summary>
/// The consume context a consumer sees behind the inbox: its sends and publishes (and schedules, which are sends to
/// the scheduler) are captured as <see cref="OutboxMessage"/> rows instead of going to the broker, and committed as one
/// bus outbox with the consumer's writes; the delivery service sends them after the commit. Its timers become outboxes
/// of their own, due when the timer is (<see cref="OutboxTimers"/>, unless <see cref="PostgresOutboxOptions.TimersInOutbox"/>
/// is off). The inbox entry is finished (consumed and delivered) in that same transaction.
/// <para>
/// MassTransit's outbox pipe (<c>OutboxMessagePipe</c>) would deliver messages stored against the inbox entry in
/// further passes. None ever are: once <see cref="SetConsumed"/> has run, <see cref="IsOutboxDelivered"/> is true,
/// and the pipe's next pass only removes stored messages (there are none) and reports the consumption.
/// </para>
/// </summary>
sealed class InboxConsumeContext<TMessage>(
    ConsumeContext<TMessage> context,
    OutboxConsumeOptions options,
    IServiceProvider provider,
    DbContext dbContext,
    InboxState inbox)
    : OutboxConsumeContextProxy<TMessage>(context, options, provider)
    where TMessage : class
{
    // Captured in memory and added to the DbContext once consumption has finished: a consumer may publish from
    // several tasks at once, and the DbContext is not thread-safe.
    readonly List<OutboxMessage> _captured = [];
    readonly bool _timersInOutbox = provider.GetService<PostgresOutboxOptions>()?.TimersInOutbox == true;
    readonly IOutboxHandOff? _handOff = provider.GetService<IOutboxHandOff>();
    OutboxTimers? _timers;
    readonly SchedulerMetrics? _timerMetrics = provider.GetService<SchedulerMetrics>();

    public override Guid? MessageId => inbox.MessageId;

    /// <summary>Messages this pass committed as a bus outbox (0 when the consumer sent none).</summary>
    public int HandedOff { get; private set; }

    /// <summary>
    /// The outbox this pass committed leased for a hand-off (<see cref="IOutboxHandOff"/>), with its messages; null when
    /// it wrote none, or the delivery service takes it.
    /// </summary>
    public (OutboxState Outbox, IReadOnlyList<OutboxMessage> Messages)? HandOff { get; private set; }

    /// <summary>The earliest timer this pass committed, if any: the delivery service is woken for it then.</summary>
    public DateTime? NextTimerDue { get; private set; }

    public override bool ContinueProcessing { get; set; } = true;
    public override bool IsMessageConsumed => inbox.Consumed.HasValue;
    public override bool IsOutboxDelivered => inbox.Delivered.HasValue;
    public override int ReceiveCount => inbox.ReceiveCount;

    // Progress of inline delivery, which this inbox never does.
    public override long? LastSequenceNumber => null;

    public override Task AddSend<T>(SendContext<T> context)
    {
        if (_timersInOutbox && OutboxTimers.Handles(context))
        {
            lock (_captured)
                (_timers ??= new OutboxTimers()).Capture(context);
            return Task.CompletedTask;
        }

        var message = OutboxMessage.Capture(context);
        lock (_captured)
        {
            _captured.Add(message);
            message.SequenceNumber = _captured.Count;
        }

        return Task.CompletedTask;
    }

    public override async Task SetConsumed()
    {
        lock (_captured)
        {
            // One bus outbox per consumed message keeps its messages in order; the delivery service claims many such
            // outboxes per transaction.
            if (_captured.Count > 0)
            {
                var outbox = new OutboxState { OutboxId = NewId.NextGuid() };
                if (_handOff?.Lease(outbox) == true)
                    HandOff = (outbox, _captured);

                dbContext.Add(outbox);
                foreach (var message in _captured)
                    message.OutboxId = outbox.OutboxId;
                dbContext.AddRange(_captured);
                HandedOff = _captured.Count;
            }
        }

        // Created by the first timer captured: every capture leaves something to save.
        if (_timers is not null)
        {
            await _timers.SaveAsync(dbContext, _timerMetrics, CancellationToken);
            NextTimerDue = _timers.NextDue;
        }

        // Nothing of the entry is left to deliver: what the consumer sent is the delivery service's now. The database
        // stamps both with its own clock (0004_inbox_database_clock.sql).
        var now = DateTime.UtcNow;
        inbox.Consumed = now;
        inbox.Delivered = now;
        await dbContext.SaveChangesAsync(CancellationToken);
    }

    // The members below serve MassTransit's inline delivery passes, which the pipe only enters for an entry consumed but
    // not delivered. This inbox never writes one; should one exist, it holds no messages and is simply finished.

    public override async Task SetDelivered()
    {
        inbox.Delivered = DateTime.UtcNow;
        await dbContext.SaveChangesAsync(CancellationToken);
    }

    public override Task<List<OutboxMessageContext>> LoadOutboxMessages() => Task.FromResult(new List<OutboxMessageContext>());

    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message) => Task.CompletedTask;

    public override Task RemoveOutboxMessages() => Task.CompletedTask;
}
