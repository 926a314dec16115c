using Npgsql;

namespace Sagas.Testing;

/// <summary>
/// A database of its own for one test class, created as the application role (which has CREATEDB but is
/// not a superuser) and dropped afterwards, so tests never see each other's rows.
/// </summary>
public sealed class TemporaryDatabase : IAsyncDisposable
{
    TemporaryDatabase(InfrastructureSettings settings, string name)
    {
        Settings = settings;
        Name = name;
        ConnectionString = settings.ConnectionString(name);
    }

    public InfrastructureSettings Settings { get; }
    public string Name { get; }
    public string ConnectionString { get; }

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

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Settings.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    static string Sanitize(string purpose) =>
        new(purpose.ToLowerInvariant().Where(c => c is >= 'a' and <= 'z' or >= '0' and <= '9').Take(20).ToArray());
}
