namespace Sagas.Api.Orders.Events;

/// <summary>The <c>OrderEvents</c> configuration section: <c>GET /orders/{id}/events</c>.</summary>
public sealed class OrderEventsOptions
{
    public const string Section = "OrderEvents";

    /// <summary>
    /// An open stream re-reads its order this often even when no change was announced: the safety net for a
    /// notification lost while the listening connection was replaced. Also how often an unchanged stream sends a
    /// keep-alive comment, so proxies do not close it as idle.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A stream still open after this long is ended (the client reconnects), so none lives for ever.</summary>
    public TimeSpan MaxStreamDuration { get; set; } = TimeSpan.FromMinutes(30);

    public IEnumerable<string> Problems()
    {
        if (RefreshInterval <= TimeSpan.Zero)
            yield return "OrderEvents:RefreshInterval must be positive";
        if (MaxStreamDuration <= TimeSpan.Zero)
            yield return "OrderEvents:MaxStreamDuration must be positive";
    }
}
