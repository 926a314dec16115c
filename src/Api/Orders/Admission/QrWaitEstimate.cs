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
    /// the refresh: the backlog over the drain rate (Little's law; the backlog is served roughly in order), and never
    /// less than the time the backlog has gone without progress (the Workers stopped, the broker down).
    /// </summary>
    public TimeSpan WaitFor(long admittedSince)
    {
        var waiting = Backlog + admittedSince;
        if (waiting <= 0)
            return TimeSpan.Zero;
        var drain = QrPerSecond is double rate and > 0 ? TimeSpan.FromSeconds(waiting / rate) : TimeSpan.Zero;
        return drain > Quiet ? drain : Quiet;
    }
}
