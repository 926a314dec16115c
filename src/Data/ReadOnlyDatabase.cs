using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sagas.Observability;

namespace Sagas.Data;

/// <summary>
/// Where reads that may be a moment old go (issue 17, "Read routing"): support's lists, search, stats and timelines,
/// the failed-message lists, the latest reconciliation report, and <c>GET /orders/{id}</c>. It is the standby's pool
/// when <c>ConnectionStrings:PostgresReadOnly</c> is set (typically both servers with
/// <c>Target Session Attributes=prefer-standby</c>, so reads follow a standby and survive a promotion), and the primary's
/// own pool otherwise, so nothing changes where no standby is configured.
/// <para>
/// A standby replays what the primary committed a moment later (with <c>synchronous_commit = on</c> a commit waits for the
/// standby to have the WAL, not to have applied it): a read that must see a write just made — an order right after its
/// 202 — falls back to the primary when the standby misses it (<see cref="IsStandby"/>). Writes, and every read a write
/// decides on (cancel, retry, the reconciliation report just made), stay on the primary.
/// </para>
/// </summary>
public sealed class ReadOnlyDatabase(NpgsqlDataSource dataSource, NpgsqlDataSource primary, bool isStandby)
{
    /// <summary>The key of the standby's <see cref="NpgsqlDataSource"/> in the service provider (when configured).</summary>
    public const string Key = "read-only";

    public const string ConnectionStringName = "PostgresReadOnly";

    /// <summary>The pool reads that may be a moment old use.</summary>
    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>The primary's pool: where a read falls back when the standby misses what was just written.</summary>
    public NpgsqlDataSource Primary { get; } = primary;

    /// <summary>True when <see cref="DataSource"/> is a pool of its own (a standby, maybe behind); false when it is the primary's.</summary>
    public bool IsStandby { get; } = isStandby;

    /// <summary>No standby: every read on the primary's pool.</summary>
    public static ReadOnlyDatabase OnPrimary(NpgsqlDataSource primary) => new(primary, primary, isStandby: false);
}

public static class ReadOnlyDatabaseServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ReadOnlyDatabase"/> (after <see cref="DatabaseServiceCollectionExtensions.AddFulfilmentDatabase"/>): a second
    /// pool, labelled <c>fulfilment-read-only</c> in the connection metrics, with the primary's session limits and statement
    /// settings, and the <c>sagas.db.replica.lag</c> gauge (<see cref="ReplicaLag"/>); without the setting, the primary's pool.
    /// </summary>
    public static IServiceCollection AddReadOnlyDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetConnectionString(ReadOnlyDatabase.ConnectionStringName) is not { Length: > 0 } configured)
        {
            services.AddSingleton(provider => ReadOnlyDatabase.OnPrimary(provider.GetRequiredService<NpgsqlDataSource>()));
            return services;
        }

        var connectionString = DatabaseServiceCollectionExtensions.SessionLimits(configuration).Apply(configured);
        services.AddNpgsqlDataSource(connectionString, builder =>
        {
            builder.Name = "fulfilment-read-only";
            DatabaseServiceCollectionExtensions.ConfigurePool(builder, connectionString);
        }, serviceKey: ReadOnlyDatabase.Key);
        services.AddSingleton(provider => new ReadOnlyDatabase(
            provider.GetRequiredKeyedService<NpgsqlDataSource>(ReadOnlyDatabase.Key), provider.GetRequiredService<NpgsqlDataSource>(), isStandby: true));
        services.AddMetricsSource<ReplicaLag>();
        return services;
    }
}
