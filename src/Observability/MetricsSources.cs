using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;

namespace Sagas.Observability;

public static class MetricsSources
{
    /// <summary>
    /// Registers <typeparamref name="T"/> as a singleton that is created with the meter provider, at start-up: an
    /// observable gauge it creates in its constructor is then reported from the first scrape, not only once something
    /// first asked for the class. Without metrics (<c>Metrics:Enabled=false</c>) it is created only when needed.
    /// </summary>
    public static IServiceCollection AddMetricsSource<T>(this IServiceCollection services)
        where T : class
    {
        if (services.Any(d => d.ServiceType == typeof(T)))
            return services;
        services.TryAddSingleton<T>();
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInstrumentation(provider => provider.GetRequiredService<T>()));
        return services;
    }
}
