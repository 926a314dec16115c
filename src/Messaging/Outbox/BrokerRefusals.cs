using System.Collections.Concurrent;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Ends a bus outbox send at RabbitMQ's first refusal of its destination. MassTransit's send retry treats a channel
/// that the broker closed with an error like a lost connection: it opens another, declares the destination again and
/// retries until the send is cancelled. A refusal that will not change by itself (an exchange or queue that exists
/// with other arguments: 406 PRECONDITION_FAILED; no permission: 403 ACCESS_REFUSED) thus cost its delivery loop the
/// whole <see cref="BusOutboxOptions.MessageDeliveryTimeout"/> per attempt, looked like a timeout (which never counts
/// against an outbox), and every retry closed the channel that the bus's other sends share. MassTransit reports each
/// failed try to send observers; this one cancels the watched send at the first refusal and keeps it, so that the
/// delivery service counts it against that outbox (<see cref="OutboxSendRefusedException"/>).
/// </summary>
public sealed class BrokerRefusals : ISendObserver
{
    readonly ConcurrentDictionary<Guid, Watch> _watched = new();

    /// <summary>Watches the send of <paramref name="messageId"/> until disposed; a refusal cancels <paramref name="send"/>.</summary>
    internal Watch Start(Guid messageId, CancellationTokenSource send)
    {
        var watch = new Watch(this, messageId, send);
        _watched[messageId] = watch;
        return watch;
    }

    public Task SendFault<T>(SendContext<T> context, Exception exception)
        where T : class
    {
        if (context.MessageId is { } messageId && _watched.TryGetValue(messageId, out var watch)
            && context.DestinationAddress is { } destination && RefusalOf(destination, exception) is { } refusal)
            watch.Refused(refusal);
        return Task.CompletedTask;
    }

    public Task PreSend<T>(SendContext<T> context)
        where T : class => Task.CompletedTask;

    public Task PostSend<T>(SendContext<T> context)
        where T : class => Task.CompletedTask;

    /// <summary>
    /// The broker's refusal of the destination's own exchange or queue: the channel closed by RabbitMQ with a
    /// channel-level error naming that entity. Not an <see cref="AlreadyClosedException"/> (a send that found the channel
    /// closed by someone else), and not another entity's refusal: sends to every destination share the bus endpoint's
    /// channel, and an operation started on it after a refusal fails with that refusal's reason.
    /// </summary>
    internal static OperationInterruptedException? RefusalOf(Uri destination, Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is OperationInterruptedException { ShutdownReason: { Initiator: ShutdownInitiator.Peer } reason } refusal
                and not AlreadyClosedException
                && reason.ReplyCode is Constants.AccessRefused or Constants.NotFound or Constants.ResourceLocked or Constants.PreconditionFailed
                && reason.ReplyText.Contains($"'{EntityName(destination)}'", StringComparison.Ordinal))
                return refusal;
        }

        return null;
    }

    // rabbitmq://host/vhost/name?type=... -> name (the exchange, and for a queue address also the queue)
    static string EntityName(Uri destination) =>
        Uri.UnescapeDataString(destination.AbsolutePath.TrimEnd('/').Split('/')[^1]);

    internal sealed class Watch(BrokerRefusals owner, Guid messageId, CancellationTokenSource send) : IDisposable
    {
        Exception? _refusal;

        public Exception? Refusal => Volatile.Read(ref _refusal);

        internal void Refused(Exception refusal)
        {
            if (Interlocked.CompareExchange(ref _refusal, refusal, null) is not null)
                return;
            try
            {
                send.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose() => owner._watched.TryRemove(KeyValuePair.Create(messageId, this));
    }
}

/// <summary>RabbitMQ refused what sending to <paramref name="destination"/> needs; counted against its outbox.</summary>
public sealed class OutboxSendRefusedException(Uri destination, Exception refusal)
    : Exception($"RabbitMQ refused sending to {destination}: {refusal.Message}", refusal);
