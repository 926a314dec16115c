using Sagas.PaymentSandbox.Http;

namespace Sagas.PaymentSandbox.Simulation;

/// <summary>
/// Scripted misbehaviour of the provider API: added latency, then (at the configured rate) a 500 or 503
/// answered before the endpoint runs, so a faulted call never changes the ledger. Only <c>/v1</c> is
/// affected; <c>/sandbox</c> endpoints are how tests observe and steer, and are never faulted.
/// </summary>
public static class ProviderFaults
{
    public static IApplicationBuilder UseProviderFaults(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/v1"))
            {
                await next(context);
                return;
            }

            var settings = context.RequestServices.GetRequiredService<SimulationSettingsStore>().Current;
            if (settings.LatencyMs > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(settings.LatencyMs),
                    context.RequestServices.GetRequiredService<TimeProvider>(), context.RequestAborted);

            if (settings.ErrorRate > 0 && Random.Shared.NextDouble() < settings.ErrorRate)
            {
                var status = Random.Shared.Next(2) == 0
                    ? StatusCodes.Status500InternalServerError
                    : StatusCodes.Status503ServiceUnavailable;
                await TypedResults.Problem("Simulated provider fault (sandbox errorRate); nothing was changed.",
                    statusCode: status, title: "Simulated fault").ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
