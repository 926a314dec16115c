using System.Diagnostics;
using Npgsql;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Storage;

public static class StorageRegistration
{
    /// <summary>The ledger's one data source (Npgsql.DependencyInjection: logs through the host's logger factory).</summary>
    public static IServiceCollection AddLedgerStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                "ConnectionStrings:Postgres is not set (environment variable ConnectionStrings__Postgres).");
        services.AddNpgsqlDataSource(connectionString, builder => builder
            // Tracing:DatabaseStatements: only statements under a traced request, not the webhook dispatcher's polling.
            .ConfigureTracing(tracing => tracing
                .ConfigureCommandFilter(_ => Activity.Current is not null)
                .ConfigureBatchFilter(_ => Activity.Current is not null)));
        services.AddSingleton<LedgerReadiness>();
        services.AddHostedService<LedgerSchemaInitializer>();
        return services;
    }

    /// <summary>
    /// Provider and simulation endpoints need the ledger: until the schema exists they answer 503, which
    /// clients (the Workers' retry pipeline among them) treat as transient.
    /// </summary>
    public static IApplicationBuilder UseLedgerReadinessGate(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            var needsLedger = path.StartsWithSegments("/v1") || path.StartsWithSegments("/sandbox");
            if (needsLedger && !context.RequestServices.GetRequiredService<LedgerReadiness>().IsReady)
            {
                context.Response.Headers.RetryAfter = "1";
                await Problems.Unavailable("The sandbox ledger is not ready yet.").ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
