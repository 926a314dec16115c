using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Quartz.Impl.AdoJobStore;
using Sagas.Messaging.Migrations;
using Sagas.Messaging.Scheduling;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>
/// The Quartz tables are ours to create (migration 0002_quartz.sql), in the shape Quartz 4.7.3 itself expects:
/// checked against Quartz's own script, against the schema Quartz provisions for itself, and by Quartz's own
/// start-up validation.
/// </summary>
public sealed class QuartzSchemaTests(ITestOutputHelper output)
{
    const string TablePrefix = "quartz.qrtz_";

    [Fact]
    public async Task Migrations_create_the_quartz_tables_and_Quartz_validates_and_starts_clustered_against_them()
    {
        await using var database = await TemporaryDatabase.CreateAsync("qschema");
        await SchedulerTestEnvironment.MigrateAsync(database.ConnectionString);

        string[] quartzTables =
        [
            AdoConstants.TableJobDetails, AdoConstants.TableTriggers, AdoConstants.TableSimpleTriggers,
            AdoConstants.TableSimplePropertiesTriggers, AdoConstants.TableCronTriggers, AdoConstants.TableBlobTriggers,
            AdoConstants.TableFiredTriggers, AdoConstants.TableCalendars, AdoConstants.TablePausedTriggers,
            AdoConstants.TablePausedJobs, AdoConstants.TableLocks, AdoConstants.TableSchedulerState,
            AdoConstants.TableExecutionHistory, AdoConstants.TableMisfireHistory, AdoConstants.TableJobStatus,
        ];
        Assert.Equal(quartzTables.Select(t => "qrtz_" + t.ToLowerInvariant()).Order(StringComparer.Ordinal),
            await Strings(database.ConnectionString,
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'quartz' ORDER BY table_name COLLATE \"C\""));

        // Quartz exactly as the Workers configure it, the connection string coming from configuration.
        var log = new TestOutputLoggerProvider(output, "quartz");
        using var host = QuartzOnlyHost(database.ConnectionString, log,
            services => services.AddMessageSchedulerQuartz(new PostgresMessageSchedulerOptions()));
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.Contains(log.Messages, m => m.Contains("Successfully validated presence of"));

        await scheduler.Start();
        try
        {
            var metadata = await scheduler.GetMetadata();
            Assert.True(metadata.JobStorePersistent);
            Assert.True(metadata.JobStoreClustered);
            Assert.Equal("message-scheduler", metadata.SchedulerName);
            Assert.NotEqual(QuartzSchedulerOptions.DefaultInstanceId, metadata.SchedulerInstanceId);
            await Eventually.Until(() => new QuartzTables(database.ConnectionString).ClusterNodes(),
                nodes => nodes.Contains(metadata.SchedulerInstanceId), because: "the node checked in to the cluster");
        }
        finally
        {
            await scheduler.Shutdown(waitForJobsToComplete: true);
        }
    }

    [Fact]
    public async Task Quartz_refuses_to_start_against_a_database_without_the_migration()
    {
        await using var database = await TemporaryDatabase.CreateAsync("qnoschema");
        using var host = QuartzOnlyHost(database.ConnectionString, new TestOutputLoggerProvider(output, "quartz"),
            services => services.AddMessageSchedulerQuartz(new PostgresMessageSchedulerOptions()));

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
            await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler());
        Assert.Contains("quartz.qrtz_job_details", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_migration_is_Quartz_own_PostgreSQL_script_for_the_quartz_schema()
    {
        var migration = MessagingMigrations.Source.Scripts().Single(s => s.Id == "messaging/0002_quartz.sql").Sql.ReplaceLineEndings("\n");
        const string schema = "CREATE SCHEMA IF NOT EXISTS quartz;\n\n";
        var start = migration.IndexOf(schema, StringComparison.Ordinal);
        Assert.True(start >= 0, "0002_quartz.sql creates the quartz schema before Quartz's tables");

        // If this fails after a Quartz upgrade: do not edit 0002 (it is checksummed once applied); add a migration
        // from Quartz's database/migrations and compare this test against the new release's script instead.
        Assert.Equal(QuartzPostgresScript.Render(TablePrefix), migration[(start + schema.Length)..]);
    }

    [Fact]
    public async Task The_migrated_schema_is_the_one_Quartz_provisions_for_itself()
    {
        await using var migrated = await TemporaryDatabase.CreateAsync("qmigrated");
        await SchedulerTestEnvironment.MigrateAsync(migrated.ConnectionString);

        await using var provisioned = await TemporaryDatabase.CreateAsync("qprovisioned");
        await Execute(provisioned.ConnectionString, "CREATE SCHEMA quartz");
        using (var host = QuartzOnlyHost(provisioned.ConnectionString, new TestOutputLoggerProvider(output, "provisioning"), services =>
                   services.AddQuartz(quartz => quartz.UsePersistentStore(store =>
                   {
                       store.UsePostgres(provisioned.ConnectionString);
                       store.ConfigureStore(options => options.TablePrefix = TablePrefix);
                       store.ProvisionSchema(); // Quartz creates its own tables (SchemaProvisioning.CreateIfMissing)
                   }))))
        {
            var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            await scheduler.Shutdown(waitForJobsToComplete: false);
        }

        var expected = await Catalog(provisioned.ConnectionString);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, await Catalog(migrated.ConnectionString));
    }

    static IHost QuartzOnlyHost(string connectionString, TestOutputLoggerProvider log, Action<IServiceCollection> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["ConnectionStrings:Postgres"] = connectionString;
        builder.Logging.AddProvider(log);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        configure(builder.Services);
        return builder.Build();
    }

    /// <summary>Columns, constraints and indexes of the quartz schema, in a form two databases can be compared by.</summary>
    static async Task<List<string>> Catalog(string connectionString)
    {
        var catalog = await Strings(connectionString, """
            SELECT format('column %s.%s %s %s %s default %s', table_name, column_name, data_type,
                          coalesce(character_maximum_length::text, ''), is_nullable, coalesce(column_default, '-'))
            FROM information_schema.columns WHERE table_schema = 'quartz'
            ORDER BY table_name COLLATE "C", ordinal_position
            """);
        catalog.AddRange(await Strings(connectionString, """
            SELECT format('constraint %s %s %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
            FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'quartz'
            ORDER BY c.conrelid::regclass::text COLLATE "C", c.conname COLLATE "C"
            """));
        catalog.AddRange(await Strings(connectionString, """
            SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'quartz' ORDER BY indexname COLLATE "C"
            """));
        return catalog;
    }

    static async Task<List<string>> Strings(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
            values.Add(reader.GetString(0));
        return values;
    }

    static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Quartz's PostgreSQL schema script as its delegate names it (<c>SchemaResourceName</c> is protected, so a
    /// subclass reads it, as Quartz's docs intend for delegates), with the placeholders filled in the documented way:
    /// {0} is the table prefix, {1} the prefix without its schema qualifier. This is how 0002_quartz.sql was made.
    /// </summary>
    sealed class QuartzPostgresScript : PostgreSQLDelegate
    {
        public static string Render(string tablePrefix)
        {
            var resource = new QuartzPostgresScript().SchemaResourceName
                           ?? throw new InvalidOperationException("Quartz names no PostgreSQL schema script");
            using var stream = typeof(PostgreSQLDelegate).Assembly.GetManifestResourceStream(resource)
                               ?? throw new InvalidOperationException($"{resource} is not embedded in Quartz");
            using var reader = new StreamReader(stream);
            var unqualified = tablePrefix[(tablePrefix.LastIndexOf('.') + 1)..];
            return reader.ReadToEnd().Replace("{0}", tablePrefix).Replace("{1}", unqualified).ReplaceLineEndings("\n");
        }
    }
}
