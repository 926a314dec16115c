using System.Diagnostics.Metrics;
using Sagas.Messaging.Diagnostics;

namespace Sagas.Messaging.Inbox;

/// <summary>What the inbox did that no consumer sees: redeliveries it acknowledged without running the consumer.</summary>
public sealed class InboxMetrics(IMeterFactory meters)
{
    readonly Counter<long> _duplicates = MessagingMeter.Create(meters).CreateCounter<long>("sagas.inbox.duplicates", "{message}",
        "Deliveries of a message its consumer had already consumed (within the duplicate-detection window), dropped by the inbox");

    internal void DuplicateDropped<T>() =>
        _duplicates.Add(1, new KeyValuePair<string, object?>("message_type", MessagingMeter.MessageTypeLabel(typeof(T))));
}
