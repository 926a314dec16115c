using MassTransit;
using MassTransit.Middleware;
using MassTransit.Serialization;
using Microsoft.Extensions.Logging;
using Sagas.Messaging.Scheduling;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Sends the messages of one claimed outbox for <see cref="BusOutboxDeliveryService{TDbContext}"/>. What must stay in
/// order does: messages to the same destination about the same thing (the same <c>CorrelationId</c>, or none) go one
/// after the other, each only once the broker confirmed the one before, and a failure stops that chain there for a
/// later pass. Different chains go out side by side: an outbox of a hundred payment outcomes for a hundred orders
/// (the payment poll's) or of a saga step's messages to two queues waits for the broker's confirms together instead of
/// one after another (2–8 ms each on this box), and no consumer could have told their order apart anyway — they go to
/// different queues, or to different instances.
/// <para>
/// A send never holds a loop for longer than <see cref="BusOutboxOptions.MessageDeliveryTimeout"/> plus
/// <see cref="BusOutboxOptions.SendAbandonGrace"/>: MassTransit/RabbitMQ.Client sends can hang for good after a
/// connection loss, deaf to their cancellation, and one that did would keep its loop's transaction, and the
/// outboxes it claimed, locked until a restart.
/// </para>
/// </summary>
/// <remarks>One per process (a singleton), shared by the delivery loops and the hand-off.</remarks>
sealed class OutboxMessageSender(
    IBus bus,
    BusOutboxOptions options,
    OutboxDeliveryProgress progress,
    BrokerConnectionRecycler recycler,
    BrokerRefusals refusals,
    OutboxMetrics metrics,
    ILogger<OutboxMessageSender> logger,
    SchedulerMetrics? timerMetrics = null)
{
    /// <summary>Chains of one outbox in flight at once, at most.</summary>
    const int ChainsAtOnce = 32;

    /// <summary>
    /// Sends an outbox's messages (in sequence order): what was sent, and the first failure if a chain stopped at one
    /// (its messages from there on, and nothing of the other chains, stay for a later pass).
    /// </summary>
    /// <param name="committedAt">When the outbox's transaction committed, if known (a hand-off): stamped on each message
    /// as <see cref="CommittedAtHeader"/>, for the consumer's commit → consume lag.</param>
    public async Task<(List<long> Sent, OutboxSendFailure? Failure)> SendOutbox(Guid outboxId, IReadOnlyList<OutboxMessage> outbox,
        CancellationToken cancellationToken, DateTime? committedAt = null)
    {
        var chains = outbox.GroupBy(m => (m.DestinationAddress, m.CorrelationId)).ToList();
        if (chains.Count == 1)
            return await SendInOrder(outboxId, outbox, cancellationToken, committedAt);

        using var slots = new SemaphoreSlim(ChainsAtOnce);
        var results = await Task.WhenAll(chains.Select(async chain =>
        {
            await slots.WaitAsync(CancellationToken.None);
            try
            {
                return await SendInOrder(outboxId, chain, cancellationToken, committedAt);
            }
            finally
            {
                slots.Release();
            }
        }));
        return (results.SelectMany(r => r.Sent).ToList(), results.Select(r => r.Failure).FirstOrDefault(f => f is not null));
    }

    async Task<(List<long> Sent, OutboxSendFailure? Failure)> SendInOrder(Guid outboxId, IEnumerable<OutboxMessage> outbox, CancellationToken cancellationToken,
        DateTime? committedAt)
    {
        var sent = new List<long>();
        foreach (var message in outbox)
        {
            try
            {
                await Send(message, cancellationToken, committedAt);
                sent.Add(message.Id);
                metrics.Delivered(message.EnqueuedAt);
                // How late the timer went out, a diagnostic figure: measured on the system clock, as Quartz's firings are.
                if (timerMetrics is not null && OutboxTimers.IsTimer(message))
                    timerMetrics.Fired(message.MessageType.Split(';')[0], sent: true, DateTimeOffset.UtcNow, message.EnqueuedAt);
                if (((OutboxMessageContext)message).DestinationAddress is { } destination)
                    progress.Sent(destination);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                var destination = ((OutboxMessageContext)message).DestinationAddress;
                var busConnected = recycler.BusConnected;
                if (destination is not null)
                {
                    // A refused destination is no stuck connection: replacing the connection would not help it.
                    if (OutboxSendFailure.IsTimeout(exception))
                        progress.TimedOut(destination, busConnected);
                    else
                        progress.Failed(destination);
                }

                return (sent, OutboxSendFailure.Of(outboxId, destination, exception, busConnected));
            }
        }

        return (sent, null);
    }

    async Task Send(OutboxMessageContext message, CancellationToken cancellationToken, DateTime? committedAt)
    {
        if (message.DestinationAddress is not { } destination)
        {
            logger.LogWarning("Outbox message {MessageId} has no destination; dropped", message.MessageId);
            return;
        }

        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.MessageDeliveryTimeout);
        using var refusal = message.MessageId is { } messageId ? refusals.Start(messageId, timeout) : null;
        var sending = SendCore(message, destination, committedAt, timeout.Token);
        try
        {
            // Not only the token: a send that ignores it must not hold this outbox, its loop and its locks for good.
            await sending.WaitAsync(options.MessageDeliveryTimeout + options.SendAbandonGrace, CancellationToken.None);
        }
        catch (TimeoutException) when (!sending.IsCompleted)
        {
            // Left running (it cannot be stopped); its outcome is observed and the token source freed if it ever ends.
            // Should it still reach the broker, the message goes out twice: consumers' inboxes drop the duplicate.
            _ = sending.ContinueWith(static (task, state) =>
            {
                _ = task.Exception;
                ((IDisposable)state!).Dispose();
            }, timeout, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            if (refusal?.Refusal is { } refusedFirst)
                throw new OutboxSendRefusedException(destination, refusedFirst);
            throw new OutboxSendAbandonedException(destination, options.MessageDeliveryTimeout + options.SendAbandonGrace);
        }
        catch (Exception) when (refusal?.Refusal is { } refused)
        {
            // Cancelled by BrokerRefusals at the broker's first refusal, instead of MassTransit retrying it to the timeout.
            timeout.Dispose();
            throw new OutboxSendRefusedException(destination, refused);
        }

        timeout.Dispose();
    }

    async Task SendCore(OutboxMessageContext message, Uri destination, DateTime? committedAt, CancellationToken cancellationToken)
    {
        OutboxTraceContext.SendUnderStoredParent();
        // A timer's firing is a trace of its own, linked to the one that set it (TimerTracing).
        using var firing = message is OutboxMessage stored ? OutboxTimers.StartFiring(stored) : null;
        var endpoint = await bus.GetSendEndpoint(destination);
        var pipe = new OutboxMessageSendPipe(message, destination);
        await endpoint.Send(new SerializedMessageBody(), committedAt is { } at ? new CommittedAtPipe(pipe, at) : pipe, cancellationToken);
    }

    /// <summary>A transport header: when the transaction that wrote the message committed (UTC ticks), where the sender knows it.</summary>
    public const string CommittedAtHeader = "Sagas-Committed-At";

    sealed class CommittedAtPipe(IPipe<SendContext<SerializedMessageBody>> inner, DateTime committedAt) : IPipe<SendContext<SerializedMessageBody>>
    {
        public async Task Send(SendContext<SerializedMessageBody> context)
        {
            await inner.Send(context);
            context.Headers.Set(CommittedAtHeader, committedAt.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        public void Probe(ProbeContext context) => inner.Probe(context);
    }
}
