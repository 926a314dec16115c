using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Sagas.Data;
using Sagas.Messaging.Migrations;
using Sagas.Testing;

namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// The roles <c>scripts/infra.sh</c> creates (docs/security.md): the owner migrates and grants; the services' runtime
/// role reads and writes rows and can create nothing; the sandbox's role keeps to its own database; the services'
/// RabbitMQ user keeps to its own virtual host. Against the real PostgreSQL and RabbitMQ the scripts started.
/// </summary>
public sealed class Least_privilege : IAsyncLifetime
{
    readonly InfrastructureSettings _settings = InfrastructureSettings.FromEnvironment();
    TemporaryDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("privilege");
        await Migrator(_database.RuntimeConnectionString, new MigrationAccess(_database.ConnectionString, _settings.PgAppUser)).MigrateAsync();
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    static SchemaMigrator Migrator(string connectionString, MigrationAccess? access) =>
        new(NpgsqlDataSource.Create(connectionString), [MessagingMigrations.Source, DataMigrations.Source],
            NullLogger<SchemaMigrator>.Instance, access);

    [Fact]
    public async Task The_runtime_role_reads_and_writes_rows_of_every_schema_and_can_create_or_alter_nothing()
    {
        await using var runtime = new NpgsqlConnection(_database.RuntimeConnectionString);
        await runtime.OpenAsync();
        Assert.Equal(_settings.PgAppUser, await Scalar<string>(runtime, "SELECT current_user"));

        // What the services do: rows in, changed, out (a privilege is checked even when no row qualifies).
        foreach (var table in await Tables())
        {
            await Execute(runtime, $"SELECT count(*) FROM {table}");
            await Execute(runtime, $"SELECT 1 FROM {table} WHERE false FOR UPDATE");
            await Execute(runtime, $"DELETE FROM {table} WHERE false");
            Assert.True(await Scalar<bool>(runtime, $"SELECT has_table_privilege('{table}', 'INSERT') AND has_table_privilege('{table}', 'UPDATE')"), table);
        }

        foreach (var ddl in new[]
                 {
                     "CREATE TABLE ordering.intruder (id int)",
                     "CREATE TABLE public.intruder (id int)",
                     "CREATE SCHEMA intruder",
                     "ALTER TABLE ordering.order_state ADD COLUMN intruder int",
                     "DROP TABLE inventory.items",
                     "TRUNCATE messaging.outbox_message",
                     "INSERT INTO public.schema_migrations (id, checksum) VALUES ('intruder', 'x')",
                 })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => Execute(runtime, ddl));
            Assert.True(refused.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{ddl}: {refused.SqlState} {refused.MessageText}");
        }
    }

    [Fact]
    public async Task A_service_without_the_owner_connection_starts_on_a_current_schema_and_refuses_a_stale_one()
    {
        // The schema is current (the owner migrated in InitializeAsync): nothing to apply, no DDL attempted.
        Assert.Empty(await Migrator(_database.RuntimeConnectionString, access: null).MigrateAsync());

        // A fresh database: the runtime role cannot bring it up to date, and says who can.
        await using var fresh = await TemporaryDatabase.CreateAsync("privilegefresh");
        var stale = await Assert.ThrowsAsync<MigrationException>(() => Migrator(fresh.RuntimeConnectionString, access: null).MigrateAsync());
        Assert.Contains("owner", stale.Message);
        Assert.Contains(_settings.PgAppUser, stale.Message);
    }

    [Fact]
    public async Task The_sandbox_and_the_services_cannot_read_each_others_tables()
    {
        var (sandboxDatabase, sandboxUser, sandboxPassword) = (_settings.PgSandboxDatabase, _settings.PgSandboxUser, _settings.PgSandboxPassword);

        // The services' role (and the owner) may not even connect to the sandbox's database.
        foreach (var intruder in new[] { _settings.RuntimeConnectionString(sandboxDatabase), _settings.ConnectionString(sandboxDatabase) })
        {
            await using var connection = new NpgsqlConnection(intruder);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }

        // The sandbox's role connects to its own database, and reads nothing of the services' schemas.
        var sandbox = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Username = sandboxUser, Password = sandboxPassword };
        await using (var own = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(sandbox.ConnectionString) { Database = sandboxDatabase }.ConnectionString))
        {
            await own.OpenAsync();
            Assert.Equal(sandboxUser, await Scalar<string>(own, "SELECT current_user"));
        }

        await using var foreign = new NpgsqlConnection(sandbox.ConnectionString);
        await foreign.OpenAsync();
        foreach (var table in new[] { "ordering.order_state", "payments.payments", "inventory.items" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => Execute(foreign, $"SELECT count(*) FROM {table}"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Fact]
    public async Task The_services_rabbitmq_user_works_on_its_own_virtual_host_only_and_has_no_management_access()
    {
        var (appUser, appPassword, appVirtualHost) = (_settings.RabbitAppUser, _settings.RabbitAppPassword, _settings.RabbitAppVirtualHost);
        ConnectionFactory Factory(string virtualHost) => new()
        {
            HostName = _settings.RabbitHost, Port = _settings.RabbitPort, UserName = appUser, Password = appPassword,
            VirtualHost = virtualHost, AutomaticRecoveryEnabled = false,
        };

        // Its own virtual host: it may declare (what MassTransit does at start) and publish.
        await using (var connection = await Factory(appVirtualHost).CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var queue = await channel.QueueDeclareAsync($"least-privilege-{Guid.NewGuid():N}", durable: false, exclusive: true, autoDelete: true);
            await channel.BasicPublishAsync("", queue.QueueName, "hello"u8.ToArray());
        }

        // Any other virtual host, the default one and a test's own among them: refused at the door.
        await using var other = await TemporaryVirtualHost.CreateAsync("privilege");
        foreach (var virtualHost in new[] { "/", other.Name })
        {
            // The broker refuses the connection while it opens (530 NOT_ALLOWED); the client may report it there or at
            // the first use of the connection.
            var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var connection = await Factory(virtualHost).CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync();
                await channel.QueueDeclareAsync($"least-privilege-{Guid.NewGuid():N}", durable: false, exclusive: true, autoDelete: true);
            });
            Assert.True(refused is BrokerUnreachableException or OperationInterruptedException or AlreadyClosedException, $"{virtualHost}: {refused}");
            Assert.Contains("access", refused.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        // No management tag: the HTTP API (users, definitions, every vhost's queues) is closed to it.
        using var management = new HttpClient { BaseAddress = _settings.RabbitManagementUri };
        management.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{appUser}:{appPassword}")));
        using var whoami = await management.GetAsync("whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, whoami.StatusCode);
    }

    async Task<List<string>> Tables()
    {
        await using var owner = new NpgsqlConnection(_database.ConnectionString);
        await owner.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'public') ORDER BY 1
            """, owner);
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            tables.Add(reader.GetString(0));
        Assert.True(tables.Count >= 10, string.Join(", ", tables));
        return tables;
    }

    static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
