using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Sagas.ServiceDefaults.Health;

/// <summary>Ready when a pooled connection can run a trivial query within the check's timeout.</summary>
public sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("reachable");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            // The endpoint is unauthenticated: say what is down, not why (the log has the exception).
            return HealthCheckResult.Unhealthy("unreachable", e);
        }
    }
}
