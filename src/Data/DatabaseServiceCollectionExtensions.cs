using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Messaging.Postgres;
using Sagas.Messaging.Migrations;
using Sagas.Messaging.Outbox;
using Sagas.Observability;

namespace Sagas.Data;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> per process (connection pool, registered by Npgsql.DependencyInjection, which
    /// hands Npgsql the service's <see cref="ILoggerFactory"/>), the scoped <see cref="FulfilmentDbContext"/> over it, and
    /// the migration sources in the order they apply: the messaging library's tables first, then the domain's.
    /// </summary>
    public static IServiceCollection AddFulfilmentDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres") is { Length: > 0 } configured
            ? configured
            : throw new InvalidOperationException("ConnectionStrings:Postgres is not configured");
        // A frozen or cut-off process must not keep its row locks for hours (see PostgresSessionLimits).
        connectionString = SessionLimits(configuration).Apply(connectionString);
        services.AddOptions<PostgresSessionLimits>().Bind(configuration.GetSection(PostgresSessionLimits.Section))
            .ValidateProblems(limits => limits.Problems());

        services.AddNpgsqlDataSource(connectionString, (provider, builder) =>
        {
            // The pool's label in the db_client_connection_* metrics (the connection string otherwise).
            builder.Name = "fulfilment";
            ConfigurePool(builder, connectionString);
            // The Workers' endpoints alone may consume ~140 messages at once, each holding a connection for its
            // transaction: the pool grows to what this process's background work can use, never below Max Pool Size.
            var demand = PooledConnectionDemand.Of(provider);
            var configured = builder.ConnectionStringBuilder.MaxPoolSize;
            builder.ConnectionStringBuilder.MaxPoolSize = Math.Max(configured, demand.Total);
            provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseServiceCollectionExtensions))
                .LogInformation("PostgreSQL connection pool: at most {MaxPoolSize} connections (configured {Configured}; background work needs up to {Demand})",
                    builder.ConnectionStringBuilder.MaxPoolSize, configured, demand);
        });
        // UseOutboxHandOff: a bus outbox committed in a request's own transaction goes to the broker right after the commit.
        services.AddDbContext<FulfilmentDbContext>((provider, options) =>
            options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()).UseOutboxHandOff(provider));
        services.AddSingleton(MigrationAccessOf(configuration));
        services.AddMigrationSource(MessagingMigrations.Source);
        services.AddMigrationSource(DataMigrations.Source);
        return services;
    }

    /// <summary>
    /// What every pool of ours gets, the primary's and the standby's (<see cref="ReadOnlyDatabase"/>): a statement timeout, no
    /// reset on close, automatic preparation and statements traced under their request only.
    /// </summary>
    internal static void ConfigurePool(NpgsqlDataSourceBuilder builder, string connectionString)
    {
        // No statement of ours should run for long: a stuck one fails (and is retried or answered 503)
        // instead of holding a connection and a request. An explicit "Command Timeout" wins.
        if (!connectionString.Contains("Command Timeout", StringComparison.OrdinalIgnoreCase))
            builder.ConnectionStringBuilder.CommandTimeout = 10;
        // Npgsql resets every pooled connection with DISCARD ALL when it is next opened: a statement of its own,
        // so one more PostgreSQL transaction per connection use (it doubled the transactions per order). Nothing
        // here leaves session state behind (locks are transaction-scoped, no SET, no temporary tables; the
        // outbox listener's LISTEN lives on its own connection until the process stops).
        if (!connectionString.Contains("No Reset On Close", StringComparison.OrdinalIgnoreCase))
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        AutoPrepare(builder.ConnectionStringBuilder, connectionString);
        builder.TraceStatementsUnderParentOnly();
    }

    /// <summary>
    /// <c>ConnectionStrings:Migrations</c>, when set, is the schemas' owner: migrations run as it and grant the Api's and the
    /// Workers' roles (<see cref="ServiceTables"/>) DML on their own tables only. <c>make run</c> gives it to the
    /// <c>migrate</c> step alone; the services then connect as their roles and find the schema current.
    /// </summary>
    static MigrationAccess MigrationAccessOf(IConfiguration configuration) =>
        configuration.GetConnectionString("Migrations") is { Length: > 0 } owner
            ? new MigrationAccess(owner, ServiceTables.Grants(configuration))
            : MigrationAccess.None;

    /// <summary>
    /// Statements a connection has run five times are prepared on the server (Npgsql's automatic preparation, up to 64
    /// per physical connection), so PostgreSQL parses and plans each of the ~120 statements of an order once per
    /// connection instead of every time: its CPU per order fell by about a third (48–58 → 34 ms, same load). An
    /// explicit "Max Auto Prepare" wins (0 turns it off). A migration that changes the columns of a table while a
    /// service runs makes that service's prepared <c>SELECT *</c> fail once ("cached plan must not change result
    /// type"); the consume is retried. Migrations run before the services start (<c>make run</c>, compose, the tests).
    /// </summary>
    public static void AutoPrepare(NpgsqlConnectionStringBuilder builder, string configured)
    {
        if (!configured.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase))
            builder.MaxAutoPrepare = 64;
    }

    /// <summary>The <c>Postgres</c> section: how long the server lets a silent session keep its transaction and its connection.</summary>
    public static PostgresSessionLimits SessionLimits(IConfiguration configuration) =>
        configuration.GetSection(PostgresSessionLimits.Section).Get<PostgresSessionLimits>() ?? new PostgresSessionLimits();
}
