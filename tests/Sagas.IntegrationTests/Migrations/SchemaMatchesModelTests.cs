using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;
using Sagas.Data;
using Sagas.Messaging.Migrations;

namespace Sagas.IntegrationTests.Migrations;

/// <summary>
/// The EF model is written by hand next to versioned SQL (not EF migrations: docs/decisions.md says why), so
/// this is what keeps them honest: every mapped table and column must exist with the same type and
/// nullability, and every table in the schemas the model owns must be mapped.
/// </summary>
public sealed class SchemaMatchesModelTests() : WithMigratedDatabase("schema")
{
    [Fact]
    public async Task Every_mapped_column_exists_with_the_same_type_and_nullability()
    {
        var model = ModelColumns();
        var database = await DatabaseColumns(model.Select(c => c.Schema).Distinct().ToArray());

        var missingInDatabase = model.Except(database).ToList();
        var unmappedInDatabase = database.Except(model).ToList();

        Assert.True(missingInDatabase.Count == 0 && unmappedInDatabase.Count == 0,
            $"EF model and migrated schema disagree.\n  In the model but not in the database: {string.Join(", ", missingInDatabase)}" +
            $"\n  In the database but not in the model: {string.Join(", ", unmappedInDatabase)}");
    }

    [Fact]
    public async Task A_fresh_database_reports_no_pending_migration_after_migrating()
    {
        Assert.Empty(await FulfilmentSchema.Migrator(DataSource).PendingAsync());
    }

    /// <summary>Kept for tests written against it (the retention branch's); <see cref="FulfilmentSchema"/> is its home.</summary>
    internal static SchemaMigrator Migrator(NpgsqlDataSource dataSource) => FulfilmentSchema.Migrator(dataSource);

    HashSet<Column> ModelColumns()
    {
        var options = new DbContextOptionsBuilder<FulfilmentDbContext>().UseNpgsql(Database.ConnectionString).Options;
        using var context = new FulfilmentDbContext(options);
        var columns = new HashSet<Column>();
        foreach (var entity in context.Model.GetEntityTypes().Where(e => e.GetTableName() is not null))
        {
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            foreach (var property in entity.GetProperties())
            {
                var name = property.GetColumnName(table);
                if (name is null)
                    continue;
                columns.Add(new Column(entity.GetSchema() ?? "public", entity.GetTableName()!, name,
                    Normalize(property.GetColumnType(table)), property.IsColumnNullable(table)));
            }
        }

        return columns;
    }

    async Task<HashSet<Column>> DatabaseColumns(string[] schemas)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT c.table_schema, c.table_name, c.column_name, format_type(a.atttypid, a.atttypmod), c.is_nullable = 'YES'
            FROM information_schema.columns c
            JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = ANY($1) AND t.table_type = 'BASE TABLE'
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = schemas });
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new HashSet<Column>();
        while (await reader.ReadAsync())
            columns.Add(new Column(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                Normalize(reader.GetString(3)), reader.GetBoolean(4)));
        return columns;
    }

    // EF and PostgreSQL spell some types differently; compare the canonical spelling.
    static string Normalize(string type) => type.ToLowerInvariant() switch
    {
        "timestamp with time zone" => "timestamptz",
        "character varying" => "varchar",
        "int" or "int4" => "integer",
        "int8" => "bigint",
        "bool" => "boolean",
        var other => other.Replace("character varying", "varchar"),
    };

    sealed record Column(string Schema, string Table, string Name, string Type, bool Nullable)
    {
        public override string ToString() => $"{Schema}.{Table}.{Name} {Type}{(Nullable ? " null" : " not null")}";
    }
}
