using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sagas.Observability;

namespace Sagas.Data;

/// <summary>
/// How far behind the primary the reads of <see cref="ReadOnlyDatabase"/> may be (meter <c>Sagas.Data</c>, reported by a
/// process with <c>ConnectionStrings:PostgresReadOnly</c> only), read on the server its pool reaches when scraped, at most
/// once per <c>Metrics:DatabaseRefresh</c> (<see cref="CachedReading{T}"/>).
/// <list type="bullet">
/// <item><c>sagas.db.replica.lag</c>: seconds since the last transaction the standby replayed was committed, while it has
/// received WAL it has not replayed yet; 0 once it has replayed all it received. <c>now() - pg_last_xact_replay_timestamp()</c>
/// alone grows for ever on a primary that commits nothing, although the standby is then as fresh as it can be.</item>
/// <item><c>sagas.db.replica.standby</c>: 1 when the pool reached a standby; 0 when a primary answered (no standby left, e.g.
/// after a promotion with <c>prefer-standby</c>: the reads are then fresh and the lag is 0).</item>
/// </list>
/// </summary>
public sealed class ReplicaLag
{
    public const string MeterName = "Sagas.Data";

    const string Sql = """
        SELECT pg_is_in_recovery(),
               CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0
                    ELSE greatest(0, coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0))::float8
               END
        """;

    readonly NpgsqlDataSource _dataSource;

    public ReplicaLag(IMeterFactory meters, IServiceProvider services, IOptions<MetricsOptions> options, ILogger<ReplicaLag> logger)
    {
        _dataSource = services.GetRequiredKeyedService<NpgsqlDataSource>(ReadOnlyDatabase.Key);
        var meter = meters.Create(MeterName);
        var reading = new CachedReading<Reading>(ReadAsync, options.Value.DatabaseRefresh, logger);
        meter.CreateObservableGauge("sagas.db.replica.lag",
            () => reading.Current is { } r ? [new Measurement<double>(r.LagSeconds)] : Array.Empty<Measurement<double>>(), "s",
            "How far the read-only pool's server (ConnectionStrings:PostgresReadOnly) is behind the primary: since the last " +
            "replayed commit while WAL waits to be replayed, 0 when it has replayed all it received or is a primary");
        meter.CreateObservableGauge("sagas.db.replica.standby",
            () => reading.Current is { } r ? [new Measurement<int>(r.InRecovery ? 1 : 0)] : Array.Empty<Measurement<int>>(), "1",
            "1 when the read-only pool reached a standby, 0 when a primary answered it");
    }

    /// <summary>The figure as the gauge reports it, read now.</summary>
    public async Task<Reading> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(Sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Reading(reader.GetBoolean(0), reader.GetDouble(1));
    }

    public sealed record Reading(bool InRecovery, double LagSeconds);
}
