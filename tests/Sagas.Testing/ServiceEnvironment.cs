using Npgsql;

namespace Sagas.Testing;

/// <summary>The configuration a service process needs to use one test's own database and virtual host.</summary>
public static class ServiceEnvironment
{
    public static Dictionary<string, string> For(TemporaryDatabase database, TemporaryVirtualHost virtualHost) =>
        For(database, virtualHost.Settings, virtualHost.Name);

    /// <summary>The broker of <paramref name="rabbit"/> (e.g. a <see cref="DedicatedRabbitMqNode"/>'s), on <paramref name="virtualHost"/>.</summary>
    public static Dictionary<string, string> For(TemporaryDatabase database, InfrastructureSettings rabbit, string virtualHost) => new()
    {
        // As in production: each service runs as its own runtime role (DML on its tables only; ServiceProcess swaps in
        // the Workers' role for a Workers process); migrations at start-up run as the owner, which grants each role what
        // its service needs — so a missing grant fails the suite, not the first deployment.
        ["ConnectionStrings__Postgres"] = database.ApiConnectionString,
        ["ConnectionStrings__Migrations"] = database.ConnectionString,
        ["DatabaseRoles__Api"] = database.Settings.PgApiUser,
        ["DatabaseRoles__Workers"] = database.Settings.PgWorkersUser,
        ["RabbitMq__Host"] = rabbit.RabbitHost,
        ["RabbitMq__Port"] = rabbit.RabbitPort.ToString(),
        ["RabbitMq__VirtualHost"] = virtualHost,
        ["RabbitMq__Username"] = rabbit.RabbitUser,
        ["RabbitMq__Password"] = rabbit.RabbitPassword,
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        // The provider circuit's openings and closings (the benchmark's provider-fault verdict counts them).
        ["Logging__LogLevel__Sagas.Workers.Payments.ProviderResilience"] = "Information",
        // Admission control (on by default) refuses new orders when accepted ones would wait too long for their QR code:
        // on a 2-core machine running the suite, or with the Workers stopped or faults injected on purpose, that is a
        // matter of timing, not of what those tests are about. The admission specs and the benchmark's overload
        // scenario turn it on; the admission log lines are kept for them.
        ["Admission__Enabled"] = "false",
        ["Logging__LogLevel__Sagas.Api.Orders.Admission"] = "Information",
    };

    /// <summary>
    /// A service connects as its own role: an Api or Workers process given either service's runtime role gets its own
    /// (a caller may pass one environment to both). Any other connection — the owner's, the sandbox's — is left as it is.
    /// </summary>
    public static void UseOwnRole(string project, IDictionary<string, string> environment)
    {
        if (!environment.TryGetValue("ConnectionStrings__Postgres", out var connectionString))
            return;
        var settings = InfrastructureSettings.FromEnvironment();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.Username != settings.PgApiUser && builder.Username != settings.PgWorkersUser)
            return;
        (builder.Username, builder.Password) = project switch
        {
            "Api" => (settings.PgApiUser, settings.PgApiPassword),
            "Workers" => (settings.PgWorkersUser, settings.PgWorkersPassword),
            _ => (builder.Username, builder.Password),
        };
        environment["ConnectionStrings__Postgres"] = builder.ConnectionString;
    }
}
