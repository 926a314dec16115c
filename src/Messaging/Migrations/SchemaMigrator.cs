using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sagas.Messaging.Migrations;

/// <summary>
/// Applies versioned SQL scripts once each, in order, recording them in <c>public.schema_migrations</c>.
/// Every process runs it at start-up; a PostgreSQL advisory lock makes concurrent starts (Api and Workers
/// at the same moment, several instances of each) apply each script exactly once, and each script runs in
/// its own transaction so a failing one leaves the schema at the previous version.
/// </summary>
public sealed class SchemaMigrator(NpgsqlDataSource dataSource, IEnumerable<IMigrationSource> sources, ILogger<SchemaMigrator> logger)
{
    // An arbitrary but fixed key: every process of this system contends for the same lock.
    const long AdvisoryLockKey = 0x5a6a5f6d6967;

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = AllScripts();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            await Execute(connection, """
                CREATE TABLE IF NOT EXISTS public.schema_migrations (
                    id text PRIMARY KEY,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);

            var applied = await AppliedAsync(connection, cancellationToken);
            var newlyApplied = new List<string>();
            foreach (var script in scripts)
            {
                if (applied.TryGetValue(script.Id, out var checksum))
                {
                    if (checksum != script.Checksum)
                        throw new MigrationException(
                            $"migration {script.Id} was changed after it was applied; add a new script instead of editing it");
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                try
                {
                    await Execute(connection, script.Sql, cancellationToken);
                    await using var record = new NpgsqlCommand(
                        "INSERT INTO public.schema_migrations (id, checksum) VALUES ($1, $2)", connection);
                    record.Parameters.Add(new NpgsqlParameter { Value = script.Id });
                    record.Parameters.Add(new NpgsqlParameter { Value = script.Checksum });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                }
                catch (PostgresException e)
                {
                    throw new MigrationException($"migration {script.Id} failed: {e.MessageText}", e);
                }

                logger.LogInformation("Applied migration {MigrationId}", script.Id);
                newlyApplied.Add(script.Id);
            }

            return newlyApplied;
        }
        finally
        {
            await Execute(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>Scripts not yet applied (all of them when the bookkeeping table does not exist yet).</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.schema_migrations') IS NOT NULL", connection);
        var applied = (bool)(await exists.ExecuteScalarAsync(cancellationToken))!
            ? await AppliedAsync(connection, cancellationToken)
            : new Dictionary<string, string>();
        return AllScripts().Where(s => !applied.ContainsKey(s.Id)).Select(s => s.Id).ToList();
    }

    List<MigrationScript> AllScripts()
    {
        var scripts = sources.SelectMany(source => source.Scripts()).ToList();
        var duplicate = scripts.GroupBy(s => s.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new MigrationException($"migration id {duplicate.Key} is defined twice");
        return scripts;
    }

    static async Task<Dictionary<string, string>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT id, checksum FROM public.schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var applied = new Dictionary<string, string>();
        while (await reader.ReadAsync(cancellationToken))
            applied[reader.GetString(0)] = reader.GetString(1);
        return applied;
    }

    static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner);
