using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>The EF mapping of AddMessagingEntities and the migrated messaging schema agree.</summary>
public sealed class Messaging_schema(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task The_mapped_columns_and_the_migrated_tables_match()
    {
        await using var dbContext = new TestDbContext(new DbContextOptionsBuilder<TestDbContext>().UseNpgsql(infrastructure.Database.ConnectionString).Options);
        var mapped = dbContext.Model.GetEntityTypes()
            .Where(e => e.GetSchema() == "messaging")
            .SelectMany(e => e.GetProperties().Select(p => $"{e.GetTableName()}.{p.GetColumnName(StoreObjectIdentifier.Table(e.GetTableName()!, "messaging"))}"))
            .Order()
            .ToList();

        var migrated = new List<string>();
        await using var connection = new NpgsqlConnection(infrastructure.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT c.table_name || '.' || c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'messaging' AND t.table_type = 'BASE TABLE' -- views (outbox_parked) are for operators
            ORDER BY 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            migrated.Add(reader.GetString(0));

        Assert.Equal(migrated.Order(StringComparer.Ordinal), mapped.Order(StringComparer.Ordinal));
    }
}
