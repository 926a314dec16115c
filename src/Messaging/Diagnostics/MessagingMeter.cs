using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Sagas.Messaging.Diagnostics;

/// <summary>The meter of this library (<c>Sagas.Messaging</c>: inbox, outbox, timers) and the labels its instruments share.</summary>
public static class MessagingMeter
{
    public const string Name = "Sagas.Messaging";

    static readonly ConcurrentDictionary<Type, string> Labels = new();

    public static Meter Create(IMeterFactory meters) => meters.Create(Name);

    /// <summary>A message type as a metric label: <c>SubmitOrder</c>, <c>Fault&lt;HoldStock&gt;</c> (a short, fixed set).</summary>
    public static string MessageTypeLabel(Type type) => Labels.GetOrAdd(type, static t => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(MessageTypeLabel))}>"
        : t.Name);

    /// <summary>A message type stored as a MassTransit URN (<c>urn:message:Sagas.Contracts.Ordering:PendingWorkDue</c>) as a label.</summary>
    public static string MessageTypeLabel(string? urn) =>
        urn is { Length: > 0 } ? urn[(urn.LastIndexOf(':') + 1)..] : "unknown";
}
