using System.Diagnostics;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Keeps an order's trace whole across the outbox. When a message is written to an outbox, MassTransit's "outbox send"
/// span (a child of the request or consume that wrote it) puts its id in the message's <c>MT-Activity-Id</c> header,
/// which <see cref="OutboxMessage"/> stores with the other headers and the delivery sends again. MassTransit's transport
/// send span takes that header as its parent only when no activity is current (MassTransit issue #4284, PR #4478): any
/// ambient activity at delivery — a span around the delivery pass, a caller's — would become the parent instead, and
/// every message of a batch would land in one unrelated trace.
/// </summary>
static class OutboxTraceContext
{
    /// <summary>
    /// Call at the top of the async method that sends one stored message: clears that method's copy of the ambient
    /// activity (the caller's is untouched), so the send span is a child of the stored context. Never start a span
    /// around delivery instead.
    /// </summary>
    public static void SendUnderStoredParent() => Activity.Current = null;
}
