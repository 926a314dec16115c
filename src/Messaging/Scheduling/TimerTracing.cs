using System.Diagnostics;
using Sagas.Messaging.Diagnostics;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// A timer's firing is linked to the trace that set it, not parented: a deadline fires minutes later, a pending-work
/// timer hours later and again, and an order's trace would otherwise stretch over all of that (and the firing's work
/// would pose as part of the request that scheduled it). The firing starts a trace of its own, rooted at a
/// <c>timer …</c> span with a link to the context stored with the timer (the <c>MT-Activity-Id</c> of the
/// <c>ScheduleMessage</c> that set it); MassTransit parents the fired message's send span to that root, and its consume
/// follows. The stored header is never forwarded, so the fired message cannot claim the old context as its parent even
/// when the root span is not recorded.
/// </summary>
static class TimerTracing
{
    public const string SourceName = "Sagas.Messaging";
    const string StoredParentHeader = "MT-Activity-Id";

    static readonly ActivitySource Source = new(SourceName);

    public static bool IsStoredParent(string header) => header.Equals(StoredParentHeader, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The root span of a firing, or null when nobody traces. Clears the caller's ambient activity (call it from the
    /// job's own async method): whatever runs the job is no parent of the timer's work either.
    /// </summary>
    public static Activity? StartFiring(StoredScheduledMessage message) =>
        StartFiring(message.Headers.FirstOrDefault(h => IsStoredParent(h.Key)).Value as string, message.MessageTypes.FirstOrDefault(),
            message.TokenId, message.ScheduledTimeUtc);

    /// <summary>
    /// The same for a timer kept in an outbox (<see cref="Outbox.OutboxTimers"/>): <paramref name="setBy"/> is the
    /// context it stored under <see cref="SetByHeader"/> instead of <c>MT-Activity-Id</c>.
    /// </summary>
    public static Activity? StartFiring(string? setBy, string? messageType, Guid tokenId, DateTime scheduledTimeUtc)
    {
        Activity.Current = null;
        if (!Source.HasListeners())
            return null;

        ActivityLink[]? links = setBy is not null && ActivityContext.TryParse(setBy, null, isRemote: true, out var context)
            ? [new ActivityLink(context)]
            : null;
        var activity = Source.StartActivity($"timer {MessagingMeter.MessageTypeLabel(messageType)}", ActivityKind.Internal, parentContext: default, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.message.type", messageType);
            activity.SetTag("sagas.timer.token_id", tokenId.ToString("D"));
            activity.SetTag("sagas.timer.scheduled_time", scheduledTimeUtc.ToString("O"));
        }

        return activity;
    }

    /// <summary>
    /// Where a timer kept in an outbox stores the context that set it: a header of the stored row only, which the
    /// delivery does not send (it forwards <c>MT-</c> headers of the row and the envelope's own), read back to link the
    /// firing.
    /// </summary>
    public const string SetByHeader = "Sagas-Timer-Set-By";
}
