namespace Sagas.Observability;

/// <summary>Configuration section <c>Metrics</c> of Api, Workers and payment sandbox (e.g. <c>Metrics__Port=9464</c>).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// False: no meter is listened to and <c>/metrics</c> is not served. The instruments then cost next to nothing (an
    /// instrument nobody listens to drops its measurements at once) and no figure is read from the database.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When set, <c>/metrics</c> is served on this port only, on the host of the service's first URL, and nothing else
    /// is served on it; when unset, on the service's own port beside its other endpoints.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>
    /// How old a figure read from the database (orders by state, the outbox, overdue timers) may be when a scrape asks
    /// for it. Such figures are read only when scraped, at most once per this interval, whatever the number of scrapes.
    /// </summary>
    public TimeSpan DatabaseRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>What makes these settings unusable (checked at start, <see cref="StartupValidation"/>): none when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (Port is < 1 or > 65535)
            yield return "Metrics:Port must be from 1 to 65535 (or unset: /metrics on the service's own port)";
        if (DatabaseRefresh < TimeSpan.Zero || DatabaseRefresh > TimeSpan.FromHours(1))
            yield return "Metrics:DatabaseRefresh must be from 00:00:00 to 01:00:00";
    }
}
