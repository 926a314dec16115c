using Microsoft.AspNetCore.Mvc;
using Sagas.PaymentSandbox.Http;
using Sagas.PaymentSandbox.Simulation;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>
/// The provider API the Workers call (<c>/v1/qr-payments</c>), as pinned in the HTTP contract. These
/// endpoints are the ones faults (error rate, latency) apply to.
/// </summary>
public static class ProviderApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const int DefaultExpiresInSeconds = 120;
    public const int MaxExpiresInSeconds = 86_400;
    const int MaxIdempotencyKeyLength = 255;
    const int MaxMerchantReferenceLength = 100;

    public static IEndpointRouteBuilder MapProviderApi(this IEndpointRouteBuilder app)
    {
        var payments = app.MapGroup("/v1/qr-payments");
        payments.MapPost("", CreateAsync);
        payments.MapGet("{providerReference}", GetAsync);
        payments.MapPost("{providerReference}/cancel", CancelAsync).RejectableBy(RejectableOperation.Cancels);
        payments.MapPost("{providerReference}/refunds", RefundAsync).RejectableBy(RejectableOperation.Refunds);
        return app;
    }

    public sealed record CreateQrPaymentRequest(
        string? MerchantReference, decimal? Amount, string? Currency, int? ExpiresInSeconds);

    public sealed record CreateRefundRequest(decimal? Amount);

    static async Task<IResult> CreateAsync(
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        CreateQrPaymentRequest request,
        PaymentLedger ledger,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        ValidateIdempotencyKey(idempotencyKey, errors);
        if (string.IsNullOrWhiteSpace(request.MerchantReference) || request.MerchantReference.Length > MaxMerchantReferenceLength)
            errors["merchantReference"] = [$"is required, 1-{MaxMerchantReferenceLength} characters."];
        if (request.Amount is null)
            errors["amount"] = ["is required."];
        else if (Money.AmountError(request.Amount.Value) is { } amountError)
            errors["amount"] = [amountError];
        if (!Money.IsCurrency(request.Currency))
            errors["currency"] = ["must be an ISO 4217 code: 3 upper-case letters."];
        if (request.ExpiresInSeconds is < 1 or > MaxExpiresInSeconds)
            errors["expiresInSeconds"] = [$"must be between 1 and {MaxExpiresInSeconds}."];
        if (errors.Count > 0)
            return ProblemResponses.Invalid(errors);

        var payment = new NewQrPayment(request.MerchantReference!, request.Amount!.Value, request.Currency!,
            request.ExpiresInSeconds ?? DefaultExpiresInSeconds);
        var outcome = await ledger.CreateAsync(idempotencyKey!, payment, cancellationToken);
        return outcome.ToResult(created => TypedResults.Created($"/v1/qr-payments/{created.ProviderReference}", created));
    }

    static async Task<IResult> GetAsync(string providerReference, PaymentLedger ledger, CancellationToken cancellationToken) =>
        await ledger.FindAsync(providerReference, cancellationToken) is { } payment
            ? TypedResults.Ok(payment)
            : ProblemResponses.NotFound($"No payment '{providerReference}'.");

    static async Task<IResult> CancelAsync(string providerReference, PaymentLedger ledger, CancellationToken cancellationToken) =>
        (await ledger.CancelAsync(providerReference, cancellationToken)).ToResult(TypedResults.Ok);

    static async Task<IResult> RefundAsync(
        string providerReference,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        CreateRefundRequest request,
        PaymentLedger ledger,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        ValidateIdempotencyKey(idempotencyKey, errors);
        if (request.Amount is null)
            errors["amount"] = ["is required."];
        else if (Money.AmountError(request.Amount.Value) is { } amountError)
            errors["amount"] = [amountError];
        if (errors.Count > 0)
            return ProblemResponses.Invalid(errors);

        var outcome = await ledger.RefundAsync(providerReference, idempotencyKey!, request.Amount!.Value, cancellationToken);
        return outcome.ToResult(refund => TypedResults.Created((string?)null, refund));
    }

    static void ValidateIdempotencyKey(string? key, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxIdempotencyKeyLength)
            errors[IdempotencyKeyHeader] = [$"header is required, 1-{MaxIdempotencyKeyLength} characters."];
    }
}
