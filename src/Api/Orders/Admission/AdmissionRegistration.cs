namespace Sagas.Api.Orders.Admission;

public static class AdmissionRegistration
{
    /// <summary>Admission control for <c>POST /orders</c>; with <c>Admission:Enabled=false</c> every valid order is accepted and nothing is read.</summary>
    public static IServiceCollection AddOrderAdmission(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdmissionOptions>()
            .Bind(configuration.GetSection(AdmissionOptions.Section))
            .Validate(o => o.MaxQrWait > TimeSpan.Zero, "Admission:MaxQrWait must be positive")
            .Validate(o => o.MaxBacklog >= 1, "Admission:MaxBacklog must be at least 1")
            .ValidateOnStart();
        services.AddSingleton<OrderAdmission>();
        services.AddSingleton<WaitingForQrQuery>();
        if (configuration.GetSection(AdmissionOptions.Section).GetValue(nameof(AdmissionOptions.Enabled), true))
            services.AddHostedService<AdmissionRefresher>();
        return services;
    }
}
