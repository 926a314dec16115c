namespace Sagas.Api.Orders.Admission;

/// <summary>
/// What the front door knows at one refresh about the orders accepted but still waiting for their QR code: how many
/// (<see cref="Backlog"/>), how fast orders left that backlog lately (<see cref="QrPerSecond"/>, null when none did in
/// the current busy spell) and for how long none has (<see cref="Quiet"/>).
/// </summary>
public sealed record QrWaitEstimate(DateTimeOffset At, long Backlog, double? QrPerSecond, TimeSpan Quiet)
{
    /// <summary>
    /// The wait of an order accepted now behind the backlog and <paramref name="admittedSince"/> orders accepted after
    /// the refresh: the backlog over the drain rate (Little's law; the backlog is served roughly in order; an assumed
    /// <see cref="UnprovenQrPerSecond"/> until one is measured), and never
    /// less than the time the backlog has gone without progress (the Workers stopped, the broker down).
    /// </summary>
    public TimeSpan WaitFor(long admittedSince)
    {
        var waiting = Backlog + admittedSince;
        if (waiting <= 0)
            return TimeSpan.Zero;
        var rate = QrPerSecond is double measured and > 0 ? measured : UnprovenQrPerSecond;
        var drain = TimeSpan.FromSeconds(waiting / rate);
        return drain > Quiet ? drain : Quiet;
    }

    /// <summary>
    /// The drain rate assumed until an order of the current busy spell has got its QR code. Without it a burst onto cold
    /// or stalled Workers was let in for all of <c>MaxQrWait</c> (measured: 260 orders at 60/s, QR p99 28 s); with it the
    /// door opens like TCP's slow start — about 30 orders at the default 3 s — and then at the rate actually measured.
    /// </summary>
    public const double UnprovenQrPerSecond = 10;
}
