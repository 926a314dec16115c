using System.Diagnostics;

namespace Sagas.IntegrationTests.Tracing;

/// <summary>
/// An order's deadline timer firing: a trace of its own rooted at the <c>timer PaymentWindowExpired</c> span, which links
/// to the order's trace, with the saga's consume of the fired message in it, none of its spans orphaned.
/// </summary>
sealed class TimerFiring
{
    const string Timer = "PaymentWindowExpired";

    readonly IReadOnlyList<Activity> _all;
    readonly string _orderTraceId;

    TimerFiring(IReadOnlyList<Activity> all, string orderTraceId)
    {
        _all = all;
        _orderTraceId = orderTraceId;
        Roots = all.Where(span => span.DisplayName == $"timer {Timer}" && span.ParentSpanId == default
                                  && span.Links.Any(link => link.Context.TraceId.ToHexString() == orderTraceId)).ToList();
    }

    public static TimerFiring Of(IReadOnlyList<Activity> all, string orderTraceId) => new(all, orderTraceId);

    /// <summary>Firings linked to the order.</summary>
    public IReadOnlyList<Activity> Roots { get; }

    IEnumerable<Activity> TraceOf(Activity root) => _all.Where(span => span.TraceId == root.TraceId);

    IEnumerable<Activity> ConsumesIn(Activity root) => TraceOf(root).Where(span => span.IsConsumeOf(Timer));

    IEnumerable<Activity> OrphansIn(Activity root) =>
        TraceOf(root).Where(span => span != root && !TraceOf(root).Any(parent => parent.SpanId == span.ParentSpanId));

    /// <summary>Consumes of the timer parented into the order's own trace: what linking must prevent.</summary>
    IReadOnlyList<Activity> ParentedConsumes =>
        _all.Where(span => span.TraceId.ToHexString() == _orderTraceId && span.IsConsumeOf(Timer)).ToList();

    public bool IsLinked => Roots.Any(root => ConsumesIn(root).Any() && !OrphansIn(root).Any());

    public void AssertLinked()
    {
        Assert.True(IsLinked, ToString());
        Assert.True(ParentedConsumes.Count == 0,
            $"timer consumes inside the order's trace: {string.Join("; ", ParentedConsumes.Select(s => s.Describe()))}");
    }

    public override string ToString() =>
        $"firings linked to trace {_orderTraceId}: {Roots.Count}\n  "
        + string.Join("\n  ", Roots.SelectMany(TraceOf).OrderBy(span => span.StartTimeUtc).Select(span => span.Describe()))
        + "\ntimer spans anywhere:\n  "
        + string.Join("\n  ", _all.Where(span => span.DisplayName.StartsWith("timer ") || span.IsConsumeOf(Timer)).Select(span => span.Describe()));
}
