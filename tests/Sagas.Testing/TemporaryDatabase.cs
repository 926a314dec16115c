using Npgsql;

namespace Sagas.Testing;

/// <summary>
/// A database of its own for one test class, created as the owner role (which has CREATEDB but is not a
/// superuser) and dropped afterwards, so tests never see each other's rows.
/// </summary>
public sealed class TemporaryDatabase : IAsyncDisposable
{
    TemporaryDatabase(InfrastructureSettings settings, string name)
    {
        Settings = settings;
        Name = name;
        ConnectionString = settings.ConnectionString(name);
        ApiConnectionString = settings.ApiConnectionString(name);
        WorkersConnectionString = settings.WorkersConnectionString(name);
    }

    public InfrastructureSettings Settings { get; }
    public string Name { get; }
    /// <summary>The owner's: creates, migrates, reads anything.</summary>
    public string ConnectionString { get; }
    /// <summary>The Api's runtime role's (DML on the Api's tables only, once the owner has migrated and granted).</summary>
    public string ApiConnectionString { get; }
    /// <summary>The Workers' runtime role's (DML on the Workers' tables only, once the owner has migrated and granted).</summary>
    public string WorkersConnectionString { get; }

    public static async Task<TemporaryDatabase> CreateAsync(string purpose, InfrastructureSettings? settings = null)
    {
        settings ??= InfrastructureSettings.FromEnvironment();
        var name = $"t_{Sanitize(purpose)}_{Guid.NewGuid():N}"; // at most 55 characters: PostgreSQL allows 63
        await using var connection = new NpgsqlConnection(settings.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new TemporaryDatabase(settings, name);
    }

    /// <summary>
    /// Drops the database. Not <c>WITH (FORCE)</c>: that fails for a non-superuser when an autovacuum worker happens to
    /// be in the database (it is the superuser's). Our own role's sessions, and the runtime roles' (infra.sh makes the owner
    /// a member of them), are ended instead, and a plain DROP stops
    /// the autovacuum worker itself; a session that was still closing is waited for.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Settings.ConnectionString("postgres"));
        await connection.OpenAsync();
        for (var attempt = 1; ; attempt++)
        {
            await using (var terminate = new NpgsqlCommand("""
                             SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                              WHERE datname = $1 AND pid <> pg_backend_pid() AND pg_has_role(current_user, usesysid, 'MEMBER')
                             """, connection))
            {
                terminate.Parameters.Add(new NpgsqlParameter { Value = Name });
                await terminate.ExecuteScalarAsync();
            }

            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\"", connection);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    static string Sanitize(string purpose) =>
        new(purpose.ToLowerInvariant().Where(c => c is >= 'a' and <= 'z' or >= '0' and <= '9').Take(20).ToArray());
}
