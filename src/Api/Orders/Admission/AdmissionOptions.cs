namespace Sagas.Api.Orders.Admission;

/// <summary>
/// <c>Admission:*</c>: when <c>POST /orders</c> refuses a new order with 503 because it could not get its QR code in
/// time (http-contract.md, "Additions, 2026-11-26").
/// </summary>
public sealed class AdmissionOptions
{
    public const string Section = "Admission";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The longest estimated wait for a QR code at which a new order is still accepted. Three seconds leaves room
    /// under the quality bar's "QR p99 ≤ 5 s under overload": the estimate is a mean over a FIFO-ish backlog, the
    /// slowest orders of a batch wait longer, and a refresh is up to 250 ms old.
    /// </summary>
    public TimeSpan MaxQrWait { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A hard cap on the orders waiting for their QR code, whatever the estimate says: 1,000 is ten seconds of work at
    /// the 100 orders/s target, more than <see cref="MaxQrWait"/> ever lets in when the drain rate is measured right.
    /// </summary>
    public int MaxBacklog { get; set; } = 1_000;

    /// <summary>
    /// How far back accepted orders are counted. An order still without its QR code after this long is stuck, not
    /// queued (its own timers and support's attention list deal with it) and must not keep the door shut for ever.
    /// </summary>
    public TimeSpan Lookback => MaxQrWait * 10 > TimeSpan.FromSeconds(30) ? MaxQrWait * 10 : TimeSpan.FromSeconds(30);
}
