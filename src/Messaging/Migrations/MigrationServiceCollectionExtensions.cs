using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Sagas.Messaging.Migrations;

public static class MigrationServiceCollectionExtensions
{
    /// <summary>
    /// Registers the migrator over the application's <see cref="Npgsql.NpgsqlDataSource"/> with the given
    /// sources (applied in this order). Call once per source; call <see cref="MigrateOnStartup"/> before
    /// <c>AddMassTransit</c> so the schema exists before any endpoint starts consuming.
    /// </summary>
    public static IServiceCollection AddMigrationSource(this IServiceCollection services, IMigrationSource source)
    {
        services.TryAddSingleton<SchemaMigrator>();
        services.AddSingleton(source);
        return services;
    }

    public static IServiceCollection MigrateOnStartup(this IServiceCollection services)
    {
        services.AddHostedService<MigrateOnStartupService>();
        return services;
    }

    /// <summary>Ready only when every known migration has been applied.</summary>
    public static IHealthChecksBuilder AddMigrationsCheck(this IHealthChecksBuilder builder) =>
        builder.AddCheck<MigrationsHealthCheck>("migrations", tags: ["ready"]);

    sealed class MigrateOnStartupService(SchemaMigrator migrator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    sealed class MigrationsHealthCheck(SchemaMigrator migrator) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var pending = await migrator.PendingAsync(cancellationToken);
                return pending.Count == 0
                    ? HealthCheckResult.Healthy("schema is current")
                    : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) pending, first {pending[0]}");
            }
            catch (Exception e)
            {
                return HealthCheckResult.Unhealthy("could not read schema_migrations", e);
            }
        }
    }
}
