using Sagas.Observability;

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

    /// <summary>The scheduled reconciliation report (<c>ReconciliationReportSweep</c>): off switch, period, and the range each covers (up to now).</summary>
    public bool ReconciliationReportEnabled { get; set; } = true;
    public TimeSpan ReconciliationReportInterval { get; set; } = TimeSpan.FromMinutes(15);
    public TimeSpan ReconciliationReportRange { get; set; } = TimeSpan.FromDays(1);
    public int BatchSize { get; set; } = 200;

    public IEnumerable<string> Problems()
    {
        if (ExpiredHoldsInterval <= TimeSpan.Zero || ReconciliationInterval <= TimeSpan.Zero || StuckOrdersInterval <= TimeSpan.Zero)
            yield return "Sweeps:ExpiredHoldsInterval, Sweeps:ReconciliationInterval and Sweeps:StuckOrdersInterval must be positive";
        if (ReconciliationGrace < TimeSpan.Zero || ReconciliationMaxDelay < ReconciliationGrace)
            yield return "Sweeps:ReconciliationGrace must not be negative and at most Sweeps:ReconciliationMaxDelay";
        if (ReconciliationReportInterval <= TimeSpan.Zero)
            yield return "Sweeps:ReconciliationReportInterval must be positive";
        if (ReconciliationReportRange <= TimeSpan.Zero || ReconciliationReportRange > Reconciliation.PaymentReconciler.MaxRange)
            yield return $"Sweeps:ReconciliationReportRange must be positive and at most {Reconciliation.PaymentReconciler.MaxRange.TotalDays} days";
        if (BatchSize < 1)
            yield return "Sweeps:BatchSize must be at least 1";
    }
}

public static class SweepOptionsRegistration
{
    public static IServiceCollection AddSweepOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SweepOptions>().Bind(configuration.GetSection(SweepOptions.Section)).ValidateProblems(o => o.Problems());
        return services;
    }
}
