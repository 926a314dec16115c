using System.Text.Json;
using Npgsql;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>Cumulative counters of the system's database and virtual host at one moment.</summary>
public sealed record CounterSnapshot(double At, long XactCommit, long XactRollback, long Publish, long Deliver, long OwnQueries)
{
    public static CounterSnapshot operator -(CounterSnapshot a, CounterSnapshot b) => new(a.At - b.At,
        a.XactCommit - b.XactCommit, a.XactRollback - b.XactRollback, a.Publish - b.Publish, a.Deliver - b.Deliver,
        a.OwnQueries - b.OwnQueries);
}

/// <summary>
/// Reads <c>pg_stat_database</c> (from the <c>postgres</c> database, so reading it costs the measured
/// database nothing) and the management API's per-vhost <c>message_stats</c>. Both lag: PostgreSQL 15
/// backends flush their counters at most once a second while busy and within 10 s once idle, and the
/// management plugin samples every 5 s — so a snapshot is only exact after <see cref="Settle"/> of quiet.
/// </summary>
public sealed class Counters(BenchInfrastructure infrastructure)
{
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(12);

    /// <summary>Rows inserted, updated and deleted per table of the system's database, cumulative.</summary>
    public static async Task<Dictionary<string, long[]>> TablesAsync(Stack stack)
    {
        Interlocked.Increment(ref stack.OwnQueries);
        await using var command = stack.Data.CreateCommand(
            "SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables");
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new Dictionary<string, long[]>();
        while (await reader.ReadAsync())
            tables[reader.GetString(0)] = [reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)];
        return tables;
    }

    public async Task<CounterSnapshot> TakeAsync(Stack stack)
    {
        await using var connection = new NpgsqlConnection(infrastructure.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = stack.Database.Name });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var commit = reader.GetInt64(0);
        var rollback = reader.GetInt64(1);

        using var management = TemporaryVirtualHost.CreateManagementClient(infrastructure.Settings);
        using var document = JsonDocument.Parse(await management.GetStringAsync($"vhosts/{Uri.EscapeDataString(stack.VirtualHost.Name)}"));
        long publish = 0, deliver = 0;
        if (document.RootElement.TryGetProperty("message_stats", out var stats))
        {
            publish = stats.TryGetProperty("publish", out var p) ? p.GetInt64() : 0;
            deliver = stats.TryGetProperty("deliver_get", out var d) ? d.GetInt64() : 0;
        }

        return new CounterSnapshot(Clock.Now, commit, rollback, publish, deliver, Interlocked.Read(ref stack.OwnQueries));
    }
}
