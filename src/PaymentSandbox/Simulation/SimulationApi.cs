using Sagas.PaymentSandbox.Http;
using Sagas.PaymentSandbox.Payments;
using Sagas.PaymentSandbox.Webhooks;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Simulation;

/// <summary>
/// What a demo, a test or a benchmark calls: the customer's side of a payment (pay, fail), the ledger as
/// the money truth, the delivery log of webhooks, and the fault settings.
/// </summary>
public static class SimulationApi
{
    public static IEndpointRouteBuilder MapSimulationApi(this IEndpointRouteBuilder app)
    {
        var sandbox = app.MapGroup("/sandbox");
        sandbox.MapPost("/qr-payments/{providerReference}/pay", PayAsync);
        sandbox.MapPost("/qr-payments/{providerReference}/fail", FailAsync);
        sandbox.MapGet("/ledger", LedgerAsync);
        sandbox.MapGet("/webhooks", WebhooksAsync);
        sandbox.MapGet("/settings", (SimulationSettingsStore settings) => TypedResults.Ok(settings.Current));
        sandbox.MapPut("/settings", UpdateSettings);
        return app;
    }

    /// <summary>
    /// <paramref name="At"/>: when the customer paid, for a test or benchmark that plays a customer paying at a precise
    /// instant (a call may reach the sandbox a little after it was made on a loaded machine, as a bank's confirmation
    /// reaches a provider). Kept between the payment's creation and now; the payment must still be open when the
    /// call arrives (not canceled or failed) and <paramref name="At"/> must come before its deadline.
    /// </summary>
    public sealed record PayRequest(decimal? Amount, DateTimeOffset? At = null);

    static async Task<IResult> PayAsync(
        string providerReference, PayRequest? request, PaymentLedger ledger, CancellationToken cancellationToken)
    {
        if (request?.Amount is { } amount && Money.AmountError(amount) is { } error)
            return Problems.Invalid("amount", error);
        return (await ledger.PayAsync(providerReference, request?.Amount, request?.At, cancellationToken)).ToResult(TypedResults.Ok);
    }

    static async Task<IResult> FailAsync(string providerReference, PaymentLedger ledger, CancellationToken cancellationToken) =>
        (await ledger.FailAsync(providerReference, cancellationToken)).ToResult(TypedResults.Ok);

    /// <summary>
    /// Every payment for <paramref name="merchantReference"/>; without it, the whole ledger, so that a
    /// benchmark can check exactly-once for every order in one call.
    /// </summary>
    static async Task<IResult> LedgerAsync(string? merchantReference, PaymentLedger ledger, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ledger.ListAsync(merchantReference, cancellationToken));

    static async Task<IResult> WebhooksAsync(
        string? providerReference, WebhookDeliveryQueue deliveries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await deliveries.ListAsync(providerReference, cancellationToken));

    static IResult UpdateSettings(SimulationSettingsUpdate update, SimulationSettingsStore settings, ILoggerFactory loggers)
    {
        var errors = update.Validate();
        if (errors.Count > 0)
            return Problems.Invalid(errors);
        var current = settings.Update(update);
        loggers.CreateLogger(typeof(SimulationApi)).LogInformation("Sandbox settings now {Settings}", current);
        return TypedResults.Ok(current);
    }
}
