using Sagas.Messaging.Migrations;

namespace Sagas.Data;

/// <summary>The domain schema (inventory, ordering, payments, api) as a migration source.</summary>
public static class DataMigrations
{
    public static IMigrationSource Source { get; } = new EmbeddedSqlMigrations(typeof(DataMigrations).Assembly, "data");
}
