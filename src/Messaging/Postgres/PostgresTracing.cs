using System.Diagnostics;
using Npgsql;

namespace Sagas.Messaging.Postgres;

/// <summary>
/// With statement tracing on (<c>Tracing:DatabaseStatements</c>), a data source of ours traces a statement only when it
/// runs under a traced parent — a request, a consume. The statements of background loops (outbox claims, the commit
/// listener's probes, polls, sweeps, metric readings) would otherwise each start a trace of their own, all day long.
/// Costs nothing while nothing listens to Npgsql's activity source.
/// </summary>
public static class PostgresTracing
{
    public static NpgsqlDataSourceBuilder TraceStatementsUnderParentOnly(this NpgsqlDataSourceBuilder builder) =>
        builder.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null));
}
