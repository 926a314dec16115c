using Npgsql;

namespace Sagas.Testing;

/// <summary>
/// Where the PostgreSQL cluster and RabbitMQ node started by <c>scripts/infra.sh</c> listen. The scripts
/// export the SAGAS_* variables; the defaults are the scripts' defaults, so a test run from an IDE finds
/// the infrastructure that <c>make run</c> or <c>make test</c> left running.
/// </summary>
public sealed record InfrastructureSettings(
    string PgHost,
    int PgPort,
    string PgUser,
    string PgPassword,
    string RabbitHost,
    int RabbitPort,
    int RabbitManagementPort,
    string RabbitUser,
    string RabbitPassword)
{
    readonly int? _rabbitPrometheusPort;

    /// <summary>RabbitMQ's Prometheus plugin: SAGAS_RABBIT_PROMETHEUS_PORT, by default (as in infra.sh) the AMQP port + 10020.</summary>
    public int RabbitPrometheusPort
    {
        get => _rabbitPrometheusPort ?? RabbitPort + 10020;
        init => _rabbitPrometheusPort = value;
    }

    /// <summary>
    /// The Api's and the Workers' runtime roles (scripts/infra.sh creates them: DML on the tables the migrations grant each,
    /// no DDL, no CREATEDB); <see cref="PgUser"/> is the owner that creates databases and migrates.
    /// </summary>
    public string PgApiUser { get; init; } = Env("SAGAS_PG_API_USER", "sagas_api");
    public string PgApiPassword { get; init; } = Env("SAGAS_PG_API_PASSWORD", "sagas-api-dev-password");
    public string PgWorkersUser { get; init; } = Env("SAGAS_PG_WORKERS_USER", "sagas_workers");
    public string PgWorkersPassword { get; init; } = Env("SAGAS_PG_WORKERS_PASSWORD", "sagas-workers-dev-password");

    /// <summary>The payment sandbox's role and the database it owns (scripts/infra.sh; no other role may connect to it).</summary>
    public string PgSandboxUser { get; init; } = Env("SAGAS_PG_SANDBOX_USER", "sagas_sandbox");
    public string PgSandboxPassword { get; init; } = Env("SAGAS_PG_SANDBOX_PASSWORD", "sagas-sandbox-dev-password");
    public string PgSandboxDatabase { get; init; } = Env("SAGAS_PG_SANDBOX_DATABASE", "sagas_sandbox");

    /// <summary>The services' RabbitMQ user (no tags) and the one virtual host it may use; <see cref="RabbitUser"/> is the administrator.</summary>
    public string RabbitAppUser { get; init; } = Env("SAGAS_RABBIT_APP_USER", "sagas_app");
    public string RabbitAppPassword { get; init; } = Env("SAGAS_RABBIT_APP_PASSWORD", "sagas-app-dev-password");
    public string RabbitAppVirtualHost { get; init; } = Env("SAGAS_RABBIT_APP_VHOST", "sagas");

    public static InfrastructureSettings FromEnvironment()
    {
        var settings = new InfrastructureSettings(
            Env("SAGAS_PG_HOST", "127.0.0.1"),
            int.Parse(Env("SAGAS_PG_PORT", "55432")),
            Env("SAGAS_PG_USER", "sagas"),
            Env("SAGAS_PG_PASSWORD", "sagas-dev-password"),
            Env("SAGAS_RABBIT_HOST", "127.0.0.1"),
            int.Parse(Env("SAGAS_RABBIT_PORT", "5672")),
            int.Parse(Env("SAGAS_RABBIT_MGMT_PORT", "15672")),
            Env("SAGAS_RABBIT_USER", "sagas"),
            Env("SAGAS_RABBIT_PASSWORD", "sagas-dev-password"));
        return Environment.GetEnvironmentVariable("SAGAS_RABBIT_PROMETHEUS_PORT") is { Length: > 0 } port
            ? settings with { RabbitPrometheusPort = int.Parse(port) }
            : settings;
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = PgHost,
        Port = PgPort,
        Username = PgUser,
        Password = PgPassword,
        Database = database,
        MaxPoolSize = 50,
    }.ConnectionString;

    /// <summary>The same database as the Api's runtime role.</summary>
    public string ApiConnectionString(string database) => AsRole(database, PgApiUser, PgApiPassword);

    /// <summary>The same database as the Workers' runtime role.</summary>
    public string WorkersConnectionString(string database) => AsRole(database, PgWorkersUser, PgWorkersPassword);

    string AsRole(string database, string user, string password) =>
        new NpgsqlConnectionStringBuilder(ConnectionString(database)) { Username = user, Password = password }.ConnectionString;

    public Uri RabbitManagementUri => new($"http://{RabbitHost}:{RabbitManagementPort}/api/");

    static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
