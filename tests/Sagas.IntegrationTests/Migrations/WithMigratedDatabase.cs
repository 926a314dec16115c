using Npgsql;

namespace Sagas.IntegrationTests.Migrations;

/// <summary>
/// Base of a test class whose every test gets a database of its own, migrated to the current schema before the test
/// and removed after it.
/// </summary>
/// <param name="purpose">Part of the database's name, to tell it apart while a test runs.</param>
public abstract class WithMigratedDatabase(string purpose) : IAsyncLifetime
{
    protected TemporaryDatabase Database { get; private set; } = null!;

    /// <summary>A data source on <see cref="Database"/> as its owner.</summary>
    protected NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await FulfilmentSchema.MigratedDatabaseAsync(purpose);
        DataSource = NpgsqlDataSource.Create(Database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await Database.DisposeAsync();
    }
}
