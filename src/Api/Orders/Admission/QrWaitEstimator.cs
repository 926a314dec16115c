namespace Sagas.Api.Orders.Admission;

/// <summary>
/// Turns the refresher's samples (the backlog, and how many orders left it since the previous sample) into a
/// <see cref="QrWaitEstimate"/>. The drain rate is measured over the last <c>window</c> of the current busy spell only:
/// the rate of an idle system is the rate of its arrivals, not what it can do, and would make the first second of a
/// burst look hopeless.
/// </summary>
public sealed class QrWaitEstimator(TimeSpan window)
{
    readonly Queue<(DateTimeOffset At, TimeSpan Span, long Left)> _samples = new();
    DateTimeOffset? _previous;
    DateTimeOffset? _busySince;
    DateTimeOffset? _lastLeft;

    public QrWaitEstimate Add(DateTimeOffset now, long backlog, long left)
    {
        var span = _previous is { } previous && now > previous ? now - previous : TimeSpan.Zero;
        _previous = now;
        if (left > 0)
            _lastLeft = now;
        if (backlog <= 0)
        {
            _busySince = null;
            _samples.Clear();
            return new QrWaitEstimate(now, 0, null, TimeSpan.Zero);
        }

        _busySince ??= now;
        _samples.Enqueue((now, span, left));
        while (_samples.Peek().At <= now - window)
            _samples.Dequeue();

        long leftInWindow = 0;
        var measured = TimeSpan.Zero;
        foreach (var sample in _samples)
        {
            leftInWindow += sample.Left;
            measured += sample.Span;
        }

        double? rate = leftInWindow > 0 && measured > TimeSpan.Zero ? leftInWindow / measured.TotalSeconds : null;
        var progress = _lastLeft is { } last && last > _busySince.Value ? last : _busySince.Value;
        return new QrWaitEstimate(now, backlog, rate, now - progress);
    }
}
