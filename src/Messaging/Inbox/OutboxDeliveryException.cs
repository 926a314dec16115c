namespace Sagas.Messaging.Inbox;

/// <summary>Sending a consumer's committed outbox to the broker failed; the consumer itself does not run again.</summary>
public sealed class OutboxDeliveryException(Guid messageId, Exception inner)
    : Exception($"Delivering the outbox of message {messageId} failed", inner);
