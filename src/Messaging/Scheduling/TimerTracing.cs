using System.Diagnostics;
using Sagas.Messaging.Hosting;

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
    public static Activity? StartFiring(StoredScheduledMessage message)
    {
        Activity.Current = null;
        if (!Source.HasListeners())
            return null;

        ActivityLink[]? links = message.Headers.FirstOrDefault(h => IsStoredParent(h.Key)).Value is string stored
                                && ActivityContext.TryParse(stored, null, isRemote: true, out var setBy)
            ? [new ActivityLink(setBy)]
            : null;
        var type = message.MessageTypes.FirstOrDefault();
        var activity = Source.StartActivity($"timer {MessagingMeter.MessageTypeLabel(type)}", ActivityKind.Internal, parentContext: default, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.message.type", type);
            activity.SetTag("sagas.timer.token_id", message.TokenId.ToString("D"));
            activity.SetTag("sagas.timer.scheduled_time", message.ScheduledTimeUtc.ToString("O"));
        }

        return activity;
    }
}
