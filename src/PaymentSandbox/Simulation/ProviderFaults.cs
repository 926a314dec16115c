using Sagas.PaymentSandbox.Http;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Simulation;

/// <summary>
/// Scripted misbehaviour of the provider API: added latency, then (at the configured rate) a 500 or 503
/// answered before the endpoint runs, so a faulted call never changes the ledger; then, for an endpoint
/// marked <see cref="RejectableOperation"/> whose setting is <c>reject</c>, a 422, also answered before
/// the endpoint runs (before its body is even read), so a rejected refund takes no Idempotency-Key and a
/// rejected cancel leaves the payment payable. Only <c>/v1</c> is affected; <c>/sandbox</c> endpoints are
/// how tests observe and steer, and are never faulted.
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
                await Problems.Of(status, "Simulated provider fault (sandbox errorRate); nothing was changed.", title: "Simulated fault")
                    .ExecuteAsync(context);
                return;
            }

            // Routing has run (WebApplication matches endpoints before the first middleware), so the
            // endpoint that would answer is known here.
            if (context.GetEndpoint()?.Metadata.GetMetadata<RejectableOperation>() is { } operation
                && operation.IsRejectedBy(settings))
            {
                await Problems.Unprocessable(
                        $"The provider rejects {operation.Name} (sandbox setting {operation.Name}=reject); nothing was recorded.")
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });

    /// <summary>Marks the endpoint as one that the setting of <paramref name="operation"/> can reject.</summary>
    public static TBuilder RejectableBy<TBuilder>(this TBuilder endpoint, RejectableOperation operation)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(operation);
}

/// <summary>Endpoint metadata: a provider operation that a <c>"reject"</c> setting refuses with 422.</summary>
public sealed class RejectableOperation
{
    public static readonly RejectableOperation Refunds = new("refunds", s => s.RejectsRefunds);
    public static readonly RejectableOperation Cancels = new("cancels", s => s.RejectsCancels);

    readonly Func<SimulationSettings, bool> _isRejected;

    RejectableOperation(string name, Func<SimulationSettings, bool> isRejected) =>
        (Name, _isRejected) = (name, isRejected);

    /// <summary>The setting's name, as in <c>PUT /sandbox/settings</c>.</summary>
    public string Name { get; }

    public bool IsRejectedBy(SimulationSettings settings) => _isRejected(settings);
}
