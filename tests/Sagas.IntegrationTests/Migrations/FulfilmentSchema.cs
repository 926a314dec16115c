using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sagas.Data;
using Sagas.Messaging.Migrations;

namespace Sagas.IntegrationTests.Migrations;

/// <summary>The schema the Api migrates at start-up: the messaging tables and the application's own.</summary>
static class FulfilmentSchema
{
    public static SchemaMigrator Migrator(NpgsqlDataSource dataSource) =>
        new(dataSource, [MessagingMigrations.Source, DataMigrations.Source], NullLogger<SchemaMigrator>.Instance);

    /// <summary>A database of its own for one test class, migrated to the current schema.</summary>
    public static async Task<TemporaryDatabase> MigratedDatabaseAsync(string purpose)
    {
        var database = await TemporaryDatabase.CreateAsync(purpose);
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
            await Migrator(dataSource).MigrateAsync();
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }
}
