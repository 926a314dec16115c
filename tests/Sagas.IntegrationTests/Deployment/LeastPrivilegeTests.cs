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
/// The roles <c>scripts/infra.sh</c> creates (docs/security.md): the owner migrates and grants; the Api's and the Workers'
/// runtime roles read and write the rows of their own service's tables only and can create nothing; the sandbox's role keeps to its own database; the services'
/// RabbitMQ user keeps to its own virtual host. Against the real PostgreSQL and RabbitMQ the scripts started.
/// </summary>
public sealed class Least_privilege : IAsyncLifetime
{
    readonly InfrastructureSettings _settings = InfrastructureSettings.FromEnvironment();
    TemporaryDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("privilege");
        await Migrator(_database.ApiConnectionString, OwnerAccess()).MigrateAsync();
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    MigrationAccess OwnerAccess() => new(_database.ConnectionString,
    [
        new RoleGrant(_settings.PgApiUser, "the Api", ServiceTables.Api),
        new RoleGrant(_settings.PgWorkersUser, "the Workers", ServiceTables.Workers),
    ]);

    static SchemaMigrator Migrator(string connectionString, MigrationAccess? access) =>
        new(NpgsqlDataSource.Create(connectionString), [MessagingMigrations.Source, DataMigrations.Source],
            NullLogger<SchemaMigrator>.Instance, access);

    public static TheoryData<string> Services => ["Api", "Workers"];

    (string ConnectionString, string User, IReadOnlyList<TableGrant> Tables) Role(string service) => service == "Api"
        ? (_database.ApiConnectionString, _settings.PgApiUser, ServiceTables.Api)
        : (_database.WorkersConnectionString, _settings.PgWorkersUser, ServiceTables.Workers);

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Each_services_role_reads_and_writes_the_rows_of_its_own_tables_and_can_create_or_alter_nothing(string service)
    {
        var (connectionString, user, tables) = Role(service);
        await using var runtime = new NpgsqlConnection(connectionString);
        await runtime.OpenAsync();
        Assert.Equal(user, await Scalar<string>(runtime, "SELECT current_user"));

        // What the service does: rows in, changed, out (a privilege is checked even when no row qualifies).
        foreach (var function in tables.Where(t => t.Privileges == TableGrant.Execute))
            Assert.True(await Scalar<bool>(runtime, $"SELECT has_function_privilege('{function.Schema}.{function.Table}', 'EXECUTE')"), function.ToString());
        foreach (var (table, privileges) in await Expand(tables.Where(t => t.Privileges != TableGrant.Execute).ToList()))
        {
            await Execute(runtime, $"SELECT count(*) FROM {table}");
            if (privileges != TableGrant.ReadWrite)
                continue;
            await Execute(runtime, $"SELECT 1 FROM {table} WHERE false FOR UPDATE");
            await Execute(runtime, $"DELETE FROM {table} WHERE false");
            Assert.True(await Scalar<bool>(runtime, $"SELECT has_table_privilege('{table}', 'INSERT') AND has_table_privilege('{table}', 'UPDATE')"), table);
        }

        foreach (var ddl in new[]
                 {
                     "CREATE TABLE ordering.intruder (id int)",
                     "CREATE TABLE messaging.intruder (id int)",
                     "CREATE TABLE public.intruder (id int)",
                     "CREATE SCHEMA intruder",
                     "ALTER TABLE ordering.order_state ADD COLUMN intruder int",
                     "DROP TABLE inventory.items",
                     "TRUNCATE messaging.outbox_message",
                     "INSERT INTO public.schema_migrations (id, checksum) VALUES ('intruder', 'x')",
                 })
            await AssertRefused(runtime, ddl);
    }

    [Fact]
    public async Task The_api_reads_no_table_of_the_workers_and_only_reads_the_sagas_state()
    {
        await using var api = new NpgsqlConnection(_database.ApiConnectionString);
        await api.OpenAsync();

        // Stock holds, payments, refunds, reconciliations, the payment poll and the scheduler are the Workers' alone.
        foreach (var table in new[] { "inventory.stock_holds", "payments.payments", "payments.refunds", "payments.reconciliations",
                                      "payments.status_poll", "quartz.qrtz_triggers", "quartz.qrtz_job_details", "quartz.qrtz_locks",
                                      "archive.stock_holds", "archive.payments", "archive.refunds" })
            await AssertRefused(api, $"SELECT count(*) FROM {table}");
        // Archived orders it reads; only the Workers' retention sweep moves them there.
        Assert.False(await Scalar<bool>(api, $"SELECT has_function_privilege('{ServiceTables.ArchiveOrders}', 'EXECUTE')"));
        await AssertRefused(api, "DELETE FROM archive.order_state WHERE false");
        // The saga's state and timeline it shows, and may not change.
        foreach (var table in new[] { "ordering.order_state", "ordering.order_timeline" })
        {
            await AssertRefused(api, $"UPDATE {table} SET order_id = order_id WHERE false");
            await AssertRefused(api, $"DELETE FROM {table} WHERE false");
        }
    }

    [Fact]
    public async Task The_workers_read_no_table_of_the_api()
    {
        await using var workers = new NpgsqlConnection(_database.WorkersConnectionString);
        await workers.OpenAsync();

        // Idempotency keys (who ordered what, with which key) and raw webhooks are the Api's alone.
        // Archived with their order by a function that runs as the owner, never readable by the Workers themselves.
        foreach (var table in new[] { "api.idempotency_keys", "payments.webhook_events", "archive.idempotency_keys", "archive.webhook_events" })
            await AssertRefused(workers, $"SELECT count(*) FROM {table}");
        await AssertRefused(workers, "DELETE FROM archive.order_state WHERE false");
    }

    [Fact]
    public async Task A_grant_beyond_a_services_tables_is_revoked_at_the_next_migration()
    {
        // A database granted as before (one role, every table), or by hand: the next migration takes it back.
        await using (var owner = new NpgsqlConnection(_database.ConnectionString))
        {
            await owner.OpenAsync();
            await Execute(owner, $"GRANT USAGE ON SCHEMA quartz TO \"{_settings.PgApiUser}\"");
            await Execute(owner, $"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA quartz TO \"{_settings.PgApiUser}\"");
        }

        await Migrator(_database.ApiConnectionString, OwnerAccess()).MigrateAsync();

        await using var api = new NpgsqlConnection(_database.ApiConnectionString);
        await api.OpenAsync();
        await AssertRefused(api, "SELECT count(*) FROM quartz.qrtz_triggers");
        await Execute(api, "SELECT count(*) FROM api.idempotency_keys");
    }

    [Fact]
    public async Task A_service_without_the_owner_connection_starts_on_a_current_schema_and_refuses_a_stale_one()
    {
        // The schema is current (the owner migrated in InitializeAsync): nothing to apply, no DDL attempted.
        Assert.Empty(await Migrator(_database.ApiConnectionString, access: null).MigrateAsync());

        // A fresh database: the runtime role cannot bring it up to date, and says who can.
        await using var fresh = await TemporaryDatabase.CreateAsync("privilegefresh");
        var stale = await Assert.ThrowsAsync<MigrationException>(() => Migrator(fresh.WorkersConnectionString, access: null).MigrateAsync());
        Assert.Contains("owner", stale.Message);
        Assert.Contains(_settings.PgWorkersUser, stale.Message);
    }

    [Fact]
    public async Task The_sandbox_and_the_services_cannot_read_each_others_tables()
    {
        var (sandboxDatabase, sandboxUser, sandboxPassword) = (_settings.PgSandboxDatabase, _settings.PgSandboxUser, _settings.PgSandboxPassword);

        // The services' role (and the owner) may not even connect to the sandbox's database.
        foreach (var intruder in new[]
                 {
                     _settings.ApiConnectionString(sandboxDatabase), _settings.WorkersConnectionString(sandboxDatabase),
                     _settings.ConnectionString(sandboxDatabase),
                 })
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

    /// <summary>Each table a service's grants name, <c>schema.*</c> expanded to the tables the owner has there.</summary>
    async Task<List<(string Table, string Privileges)>> Expand(IReadOnlyList<TableGrant> grants)
    {
        await using var owner = new NpgsqlConnection(_database.ConnectionString);
        await owner.OpenAsync();
        var tables = new List<(string, string)>();
        foreach (var grant in grants)
        {
            if (grant.Table != "*")
            {
                tables.Add(($"{grant.Schema}.{grant.Table}", grant.Privileges));
                continue;
            }

            await using var command = new NpgsqlCommand("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1", owner);
            command.Parameters.Add(new NpgsqlParameter { Value = grant.Schema });
            await using var reader = await command.ExecuteReaderAsync();
            var before = tables.Count;
            while (await reader.ReadAsync())
                tables.Add((reader.GetString(0), grant.Privileges));
            Assert.True(tables.Count > before, $"no table in schema {grant.Schema}");
        }

        return tables;
    }

    static async Task AssertRefused(NpgsqlConnection connection, string sql)
    {
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, sql));
        Assert.True(refused.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {refused.SqlState} {refused.MessageText}");
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
