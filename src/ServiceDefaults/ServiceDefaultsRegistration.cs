using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sagas.Observability;

namespace Sagas.ServiceDefaults;

/// <summary>What every service of the system (Api, Workers) sets up the same way before its own services.</summary>
public static class ServiceDefaultsRegistration
{
    /// <summary>
    /// Logs (JSON lines outside Development), metrics (<c>GET /metrics</c>, mapped by <c>UseSagasMetrics</c>), traces (when
    /// an OTLP endpoint is configured) and the one clock, <see cref="TimeProvider"/>: business time (deadlines, timers,
    /// stamps written to the database) is read from it, so a test can move it.
    /// </summary>
    /// <param name="serviceName">The service's name in metrics and traces, e.g. <c>sagas-api</c>.</param>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, string serviceName)
    {
        builder.AddSagasLogging();
        builder.AddSagasMetrics(serviceName);
        builder.AddSagasTracing(serviceName);
        builder.Services.AddSystemClock();
        return builder;
    }

    /// <summary>
    /// <see cref="TimeProvider.System"/> as the process's clock, unless one is registered already (a test's own). The
    /// one place a service registers it.
    /// </summary>
    public static IServiceCollection AddSystemClock(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
