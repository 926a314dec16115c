using System.Net.Sockets;
using MassTransit;
using RabbitMQ.Client.Exceptions;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Why one outbox of a delivery pass stopped, and whether that counts against it.
/// <para>
/// Only a failure that says something about this outbox counts (<see cref="CountsAgainstOutbox"/>): RabbitMQ refused
/// its destination (<see cref="OutboxSendRefusedException"/>; a refusal is an answer, so the broker is up), or the send
/// failed for a reason that is neither a timeout nor a lost connection while the bus was connected (a message that
/// cannot be sent as stored, a send observer that rejects it). A broker outage, a stall, a dropped or dead connection
/// fail every outbox alike with timeouts and connection errors: those never count, and the delivery loop backs off as a
/// whole instead.
/// </para>
/// </summary>
sealed record OutboxSendFailure(Guid OutboxId, Uri? Destination, Exception Exception, bool CountsAgainstOutbox)
{
    public static OutboxSendFailure Of(Guid outboxId, Uri? destination, Exception exception, bool busConnected) =>
        new(outboxId, destination, exception,
            exception is OutboxSendRefusedException || busConnected && !IsTimeout(exception) && !IsConnectionFailure(exception));

    public static bool IsTimeout(Exception exception) =>
        exception is OperationCanceledException or TimeoutException or OutboxSendAbandonedException
        || exception is AggregateException { InnerExceptions.Count: > 0 } aggregate && aggregate.InnerExceptions.All(IsTimeout);

    /// <summary>The connection or channel the send needed was not there (or went away under it).</summary>
    static bool IsConnectionFailure(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            // OperationInterruptedException includes AlreadyClosedException; MassTransit retries the channel-level ones
            // until the send is cancelled, so what arrives here closed a connection.
            if (current is ConnectionException or TransportUnavailableException or OperationInterruptedException or BrokerUnreachableException
                or RabbitMQ.Client.Exceptions.ConnectFailureException or SocketException or IOException or ObjectDisposedException)
                return true;
            if (current is AggregateException aggregate)
                return aggregate.InnerExceptions.Any(IsConnectionFailure);
        }

        return false;
    }

    /// <summary>What operators read in <c>last_error</c>: where it was going and what went wrong, without a stack trace.</summary>
    public string Describe()
    {
        var reason = Exception is OutboxSendRefusedException { InnerException: { } refusal } ? refusal : Exception;
        var text = $"{(Destination is null ? "" : $"{Destination}: ")}{reason.GetType().Name}: {reason.Message}";
        return text.Length <= 2000 ? text : text[..2000];
    }
}

/// <summary>A send to the broker ignored its cancellation and was given up after <paramref name="after"/>.</summary>
public sealed class OutboxSendAbandonedException(Uri destination, TimeSpan after)
    : TimeoutException($"Sending to {destination} did not finish within {after.TotalSeconds:0.#} s although cancelled; abandoned, it will be retried");
