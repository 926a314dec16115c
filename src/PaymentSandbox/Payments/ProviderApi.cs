using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Sagas.PaymentSandbox.Http;
using Sagas.PaymentSandbox.Simulation;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>
/// The provider API the Workers call (<c>/v1/qr-payments</c>), as pinned in the HTTP contract. These
/// endpoints are the ones faults (error rate, latency) apply to.
/// </summary>
public static partial class ProviderApi
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
        payments.MapGet("", ListAsync);
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
            return Problems.Invalid(errors);

        var payment = new NewQrPayment(request.MerchantReference!, request.Amount!.Value, request.Currency!,
            request.ExpiresInSeconds ?? DefaultExpiresInSeconds);
        var outcome = await ledger.CreateAsync(idempotencyKey!, payment, cancellationToken);
        return outcome.ToResult(created => TypedResults.Created($"/v1/qr-payments/{created.ProviderReference}", created));
    }

    static async Task<IResult> GetAsync(string providerReference, PaymentLedger ledger, CancellationToken cancellationToken) =>
        await ledger.FindAsync(providerReference, cancellationToken) is { } payment
            ? TypedResults.Ok(payment)
            : Problems.NotFound($"No payment '{providerReference}'.");

    /// <summary>
    /// Payments changed in <c>[updatedFrom, updatedTo)</c> (both optional), oldest change first, a page of
    /// <c>limit</c> (default 200, 1-500) at a time. Every query parameter is read as text and checked here,
    /// so that each bad one is named in the 400; an empty one (<c>cursor=</c>) counts as absent.
    /// </summary>
    static async Task<IResult> ListAsync(
        string? updatedFrom, string? updatedTo, string? cursor, string? limit, PaymentLedger ledger,
        CancellationToken cancellationToken)
    {
        (updatedFrom, updatedTo, cursor, limit) = (NullIfEmpty(updatedFrom), NullIfEmpty(updatedTo),
            NullIfEmpty(cursor), NullIfEmpty(limit));
        var errors = new Dictionary<string, string[]>();
        var from = ParseTimestamp(updatedFrom, nameof(updatedFrom), errors);
        var to = ParseTimestamp(updatedTo, nameof(updatedTo), errors);
        if (from > to)
            errors[nameof(updatedTo)] = ["must not be before updatedFrom."];
        ListingPosition? after = null;
        if (cursor is not null && (after = ListingPosition.FromCursor(cursor)) is null)
            errors[nameof(cursor)] = ["is not a cursor this listing returned."];
        var pageSize = PaymentListingQuery.DefaultLimit;
        if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize)
                                   && pageSize is >= 1 and <= PaymentListingQuery.MaxLimit))
            errors[nameof(limit)] = [$"must be an integer between 1 and {PaymentListingQuery.MaxLimit}."];
        if (errors.Count > 0)
            return Problems.Invalid(errors);

        return TypedResults.Ok(await ledger.ListUpdatedAsync(new PaymentListingQuery(from, to, after, pageSize),
            cancellationToken));
    }

    static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>ISO-8601 with seconds optional and a zone (<c>Z</c> or an offset), e.g. 2026-11-26T10:00:00Z.</summary>
    static DateTime? ParseTimestamp(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (value is null)
            return null;
        if (IsoTimestamp().IsMatch(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            return parsed.UtcDateTime;
        errors[field] = ["must be an ISO-8601 timestamp with a zone, e.g. 2026-11-26T10:00:00Z."];
        return null;
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?(Z|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex IsoTimestamp();

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
            return Problems.Invalid(errors);

        var outcome = await ledger.RefundAsync(providerReference, idempotencyKey!, request.Amount!.Value, cancellationToken);
        return outcome.ToResult(refund => TypedResults.Created((string?)null, refund));
    }

    static void ValidateIdempotencyKey(string? key, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxIdempotencyKeyLength)
            errors[IdempotencyKeyHeader] = [$"header is required, 1-{MaxIdempotencyKeyLength} characters."];
    }
}
