using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sagas.Messaging.Migrations;

/// <summary>
/// Applies versioned SQL scripts once each, in order, recording them in <c>public.schema_migrations</c>.
/// Every process runs it at start-up; a PostgreSQL advisory lock makes concurrent starts (Api and Workers
/// at the same moment, several instances of each) apply each script exactly once, and each script runs in
/// its own transaction so a failing one leaves the schema at the previous version.
/// <para>
/// Least privilege (<see cref="MigrationAccess"/>): with an owner connection the scripts run as the owner, who then
/// grants each service's runtime role DML on the tables that service uses — never DDL. Without one, a process whose role
/// cannot run DDL still starts when nothing is pending: the owner migrated beforehand (<c>migrate</c>).
/// </para>
/// </summary>
public sealed class SchemaMigrator(
    NpgsqlDataSource dataSource, IEnumerable<IMigrationSource> sources, ILogger<SchemaMigrator> logger, MigrationAccess? access = null)
{
    // An arbitrary but fixed key: every process of this system contends for the same lock.
    const long AdvisoryLockKey = 0x5a6a5f6d6967;

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = AllScripts();
        if (access?.OwnerConnectionString is { Length: > 0 } owner)
        {
            await using var ownerSource = NpgsqlDataSource.Create(owner);
            return await ApplyAsync(ownerSource, scripts, access.Grants, cancellationToken);
        }

        // Nothing to apply: no DDL at all, so a runtime role without CREATE starts against a schema its owner keeps current.
        if (await IsCurrentAsync(scripts, cancellationToken))
            return [];
        return await ApplyAsync(dataSource, scripts, grants: [], cancellationToken);
    }

    async Task<IReadOnlyList<string>> ApplyAsync(
        NpgsqlDataSource source, List<MigrationScript> scripts, IReadOnlyList<RoleGrant> grants, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
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
                    CheckUnchanged(script, checksum);
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

            // Under the lock: concurrent GRANTs on one object fail ("tuple concurrently updated").
            if (grants.Count > 0)
                await GrantAsync(connection, grants, cancellationToken);
            return newlyApplied;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new MigrationException(
                $"the schema is not current and role {connection.UserName} may not change it ({e.MessageText}); " +
                "run the migrations as the database owner first (`dotnet Sagas.Api.dll migrate` with ConnectionStrings:Migrations, as make run does)", e);
        }
        finally
        {
            await Execute(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>
    /// Each runtime role may read and write the rows of exactly the tables its <see cref="RoleGrant"/> lists (and use the
    /// sequences of their schemas), and read which migrations were applied; it can create nothing. What it held before
    /// on the owner's schemas is revoked first, in the same transaction, so a table dropped from its list is no longer
    /// readable and a database migrated by an older version (one role with every table) ends with the grants of this
    /// one. Repeated on every migration, so tables a new script adds are covered.
    /// </summary>
    async Task GrantAsync(NpgsqlConnection connection, IReadOnlyList<RoleGrant> grants, CancellationToken cancellationToken)
    {
        var ownSchemas = new List<string>();
        await using (var schemas = new NpgsqlCommand("""
                         SELECT n.nspname FROM pg_namespace n
                          WHERE n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                            AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
                         """, connection))
        await using (var reader = await schemas.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                ownSchemas.Add(reader.GetString(0));

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var grant in grants.Where(g => g.Role != connection.UserName))
        {
            await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", connection))
            {
                exists.Parameters.Add(new NpgsqlParameter { Value = grant.Role });
                if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
                    throw new MigrationException($"role {grant.Role} ({grant.Purpose}) does not exist: create it (docs/security.md, \"Roles\"; scripts/infra.sh up does) or name another");
            }

            var role = Identifier(grant.Role);
            var statements = new List<string>();
            foreach (var schema in ownSchemas.Select(Identifier))
                statements.AddRange([
                    $"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
                    $"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
                    $"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM {role}",
                    $"REVOKE ALL ON SCHEMA {schema} FROM {role}"]);
            foreach (var schema in grant.Tables.Select(t => t.Schema).Distinct())
                statements.AddRange([
                    $"GRANT USAGE ON SCHEMA {Identifier(schema)} TO {role}",
                    $"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {Identifier(schema)} TO {role}"]);
            foreach (var table in grant.Tables)
                statements.Add(table.Table == "*"
                    ? $"GRANT {table.Privileges} ON ALL TABLES IN SCHEMA {Identifier(table.Schema)} TO {role}"
                    : table.Privileges == TableGrant.Execute
                        // A function by its signature, written in code (TableGrant.Function), never from input.
                        ? $"GRANT EXECUTE ON FUNCTION {Identifier(table.Schema)}.{table.Table} TO {role}"
                        : $"GRANT {table.Privileges} ON TABLE {Identifier(table.Schema)}.{Identifier(table.Table)} TO {role}");
            statements.Add($"GRANT SELECT ON public.schema_migrations TO {role}");
            foreach (var statement in statements)
            {
                try
                {
                    await Execute(connection, statement, cancellationToken);
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedFunction)
                {
                    throw new MigrationException($"granting {grant.Role} ({grant.Purpose}): {e.MessageText} ({statement})", e);
                }
            }

            logger.LogInformation("Granted role {Role} ({Purpose}) DML on {Tables}", grant.Role, grant.Purpose,
                string.Join(", ", grant.Tables.Select(t => t.ToString())));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    async Task<bool> IsCurrentAsync(List<MigrationScript> scripts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.schema_migrations') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            return false;
        var applied = await AppliedAsync(connection, cancellationToken);
        foreach (var script in scripts)
        {
            if (!applied.TryGetValue(script.Id, out var checksum))
                return false;
            CheckUnchanged(script, checksum);
        }

        return true;
    }

    static void CheckUnchanged(MigrationScript script, string checksum)
    {
        if (checksum != script.Checksum)
            throw new MigrationException($"migration {script.Id} was changed after it was applied; add a new script instead of editing it");
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

/// <summary>
/// Who migrates. <paramref name="OwnerConnectionString"/>: the role that owns the schemas and runs the scripts (unset: the
/// process's own connection, which then needs DDL rights only while something is pending). <paramref name="Grants"/>: the
/// roles the services connect as, each granted DML on its own tables after each migration (a role that is the owner
/// itself gets none).
/// </summary>
public sealed record MigrationAccess(string? OwnerConnectionString, IReadOnlyList<RoleGrant> Grants)
{
    public static MigrationAccess None { get; } = new(null, []);
}

/// <summary>A runtime role (<paramref name="Purpose"/>: which service, for messages) and the tables it may read and write.</summary>
public sealed record RoleGrant(string Role, string Purpose, IReadOnlyList<TableGrant> Tables);

/// <summary>
/// <c>schema.table</c>, or <c>schema.*</c> for every table and view of a schema (present and future: granted again after
/// each migration), with the privileges the service needs on it; or a function the service may call (<see cref="Function"/>).
/// </summary>
public sealed record TableGrant(string Schema, string Table, string Privileges = TableGrant.ReadWrite)
{
    public const string ReadWrite = "SELECT, INSERT, UPDATE, DELETE";
    public const string ReadOnly = "SELECT";
    public const string Execute = "EXECUTE";

    /// <summary><c>schema.name(argument types)</c>, e.g. <c>archive.archive_orders(text[], timestamptz, integer)</c>: EXECUTE on it.</summary>
    public static TableGrant Function(string qualifiedSignature) => Of(qualifiedSignature, Execute);

    public static TableGrant Of(string qualified, string privileges = ReadWrite)
    {
        var dot = qualified.IndexOf('.');
        return dot > 0 && dot < qualified.Length - 1
            ? new TableGrant(qualified[..dot], qualified[(dot + 1)..], privileges)
            : throw new ArgumentException($"'{qualified}' is not schema.table or schema.*", nameof(qualified));
    }

    public override string ToString() => Privileges == ReadWrite ? $"{Schema}.{Table}" : $"{Schema}.{Table} ({Privileges})";
}
