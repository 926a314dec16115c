using Sagas.Observability;

namespace Sagas.Workers.Retention;

/// <summary>
/// <c>Retention</c> configuration: how long final orders stay in the hot tables, and how long the history tables keep
/// what nobody acts on any more (docs/decisions.md, "Retention: what grows and what is done about it").
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>A final, settled order unchanged for longer than this moves to schema <c>archive</c>.</summary>
    public TimeSpan ArchiveAfter { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Orders moved per transaction; the sweep goes on batch after batch until fewer are left.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How often the clustered sweep runs (one Worker per run).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Reconciliation reports checked longer ago than this are deleted (the latest scheduled one is always kept).</summary>
    public TimeSpan ReportsAfter { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Failed messages retried or discarded longer ago than this are deleted, with their actions; waiting ones never.</summary>
    public TimeSpan FailedMessagesAfter { get; set; } = TimeSpan.FromDays(30);

    public IEnumerable<string> Problems()
    {
        if (ArchiveAfter <= TimeSpan.Zero)
            yield return "Retention:ArchiveAfter must be positive";
        if (BatchSize < 1)
            yield return "Retention:BatchSize must be at least 1";
        if (Interval <= TimeSpan.Zero)
            yield return "Retention:Interval must be positive";
        if (ReportsAfter <= TimeSpan.Zero || FailedMessagesAfter <= TimeSpan.Zero)
            yield return "Retention:ReportsAfter and Retention:FailedMessagesAfter must be positive";
    }
}

public static class RetentionOptionsRegistration
{
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section)).ValidateProblems(o => o.Problems());
        services.AddScoped<RetentionStatements>();
        return services;
    }
}
