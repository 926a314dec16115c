namespace Sagas.Workers.Sweeps;

/// <summary><c>Sweeps</c> configuration. Every sweep is a clustered Quartz job: one Worker runs each firing.</summary>
public sealed class SweepOptions
{
    public const string Section = "Sweeps";

    public TimeSpan ExpiredHoldsInterval { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ReconciliationInterval { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>
    /// How long after an order ended unplaced its unsettled payment is first checked at the provider; each further
    /// check waits twice as long, up to <see cref="ReconciliationMaxDelay"/>.
    /// </summary>
    public TimeSpan ReconciliationGrace { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan ReconciliationMaxDelay { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan StuckOrdersInterval { get; set; } = TimeSpan.FromMinutes(1);
    public int BatchSize { get; set; } = 200;
}
