using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sagas.Api.Hosting;
using Sagas.Api.Orders;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Observability;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Webhooks;

public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    public string Secret { get; set; } = "";
    public TimeSpan Tolerance { get; set; } = TimeSpan.FromSeconds(300);

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Secret))
            yield return "Webhooks:Secret is empty: set the HMAC secret shared with the payment provider (environment variable Webhooks__Secret)";
        if (Tolerance <= TimeSpan.Zero)
            yield return "Webhooks:Tolerance must be positive";
    }
}

/// <summary>
/// <c>POST /webhooks/payments</c>: the provider tells us a payment succeeded or failed. The signature is
/// checked over the raw body before anything is parsed or recorded; the event is recorded once by its
/// <c>eventId</c> and published to the saga in the same transaction, so a repeated delivery is answered
/// 200 and changes nothing. The saga decides what a success means (placing, refunding a late or wrong
/// payment); the Api only reports it.
/// </summary>
public static class WebhookEndpoints
{
    const int MaxBody = 64 * 1024;

    public sealed record PaymentWebhook(
        string? EventId, string? Type, string? ProviderReference, string? MerchantReference, decimal? Amount, string? Currency,
        DateTimeOffset? OccurredAt);

    /// <summary>The <c>Webhooks</c> section, checked at start-up: without a secret no webhook could ever be verified.</summary>
    public static IServiceCollection AddWebhookOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateProblems(o => o.Problems());
        return services;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder endpoints)
    {
        // No API key: the provider signs the body instead (X-Signature), checked before anything is read or recorded.
        endpoints.MapPost("/webhooks/payments", Receive).WithTags("Webhooks").AllowAnonymous()
            .WithName("ReceivePaymentWebhook").WithSummary("The payment provider reports a payment or refund (signed, no API key)")
            .WithHeader("X-Signature", "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`; a timestamp more " +
                                       "than 300 s from now, or a mismatch, is 401.", required: true)
            .Accepts<PaymentWebhook>("application/json")
            .Produces(200).ProducesValidationProblem().ProducesProblem(401);
        return endpoints;
    }

    static async Task<IResult> Receive(HttpRequest http, IOptions<WebhookOptions> options, FulfilmentDbContext db,
        IPublishEndpoint publish, TimeProvider clock, ApiMetrics metrics, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var body = await ReadBody(http, cancellationToken);
        var signature = new WebhookSignature(options.Value.Secret, options.Value.Tolerance);
        var verdict = string.IsNullOrEmpty(options.Value.Secret)
            ? WebhookSignature.Verdict.Mismatch
            : signature.Verify(http.Headers["X-Signature"].ToString(), body, clock.GetUtcNow());
        if (verdict != WebhookSignature.Verdict.Valid)
        {
            metrics.WebhookRejected(verdict switch
            {
                WebhookSignature.Verdict.Stale => "signature_stale",
                WebhookSignature.Verdict.Missing => "signature_missing",
                _ => "signature_mismatch",
            });
            return Problems.Unauthorized(verdict switch
            {
                WebhookSignature.Verdict.Stale => "The signature's timestamp is more than 300 seconds from now.",
                WebhookSignature.Verdict.Missing => "The X-Signature header is required.",
                _ => "The X-Signature header does not match the body.",
            });
        }

        PaymentWebhook? webhook;
        try
        {
            webhook = JsonSerializer.Deserialize<PaymentWebhook>(body, StrictJson);
        }
        catch (JsonException)
        {
            metrics.WebhookRejected("malformed");
            return Problems.BadRequest("The body is not a valid payment webhook.");
        }

        var validation = Validate(webhook);
        if (!validation.IsValid)
        {
            metrics.WebhookRejected("invalid");
            return validation.Problem();
        }

        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Nothing is retried inside the transaction: a failed SaveChanges ends the request, so EF's savepoint around it
        // (two more round trips) buys nothing.
        db.Database.AutoSavepointsEnabled = false;
        var recorded = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO payments.webhook_events (event_id, type, provider_reference, merchant_reference, amount, currency, occurred_at, received_at)
            VALUES ({webhook!.EventId}, {webhook.Type}, {webhook.ProviderReference}, {webhook.MerchantReference}, {webhook.Amount},
                    {webhook.Currency}, {webhook.OccurredAt}, {now})
            ON CONFLICT (event_id) DO NOTHING
            """, cancellationToken);
        if (recorded == 0)
        {
            metrics.WebhookReceived(webhook.Type, "duplicate");
            return Received(); // a repeat: processed once already
        }

        var orderId = Guid.TryParse(webhook.MerchantReference, out var id) ? id : Guid.Empty;
        // The order's stored trace context comes with the lookup: "" for an order accepted while nothing traced.
        var orderTrace = orderId == Guid.Empty ? null : await db.Database
            .SqlQuery<string>($"SELECT coalesce(trace_parent, '') AS \"Value\" FROM api.idempotency_keys WHERE order_id = {orderId}")
            .SingleOrDefaultAsync(cancellationToken);
        var knownOrder = orderTrace is not null;
        // The provider's call carries no context of ours: the order's work joins the order's trace (OrderTrace).
        using var work = knownOrder ? OrderTrace.StartWebhookWork(orderTrace is "" ? null : orderTrace, webhook.Type!, orderId) : null;
        if (!knownOrder)
        {
            // Recorded for support, answered 200 so the provider stops retrying; there is no order to act on.
            loggers.CreateLogger(typeof(WebhookEndpoints)).LogWarning(
                "Webhook {EventId} ({Type}) names unknown merchant reference {MerchantReference}",
                webhook.EventId, webhook.Type, webhook.MerchantReference);
        }
        else if (webhook.Type == "payment.succeeded")
        {
            await publish.Publish(new PaymentSucceeded
            {
                OrderId = orderId,
                ProviderReference = webhook.ProviderReference!,
                Amount = webhook.Amount!.Value,
                Currency = webhook.Currency!,
                Source = PaymentSources.Webhook,
                PaidAt = webhook.OccurredAt!.Value,
            }, cancellationToken);
        }
        else if (webhook.Type == "payment.failed")
        {
            await publish.Publish(new PaymentFailed
            {
                OrderId = orderId,
                ProviderReference = webhook.ProviderReference!,
                Reason = OrderFailureReasons.PaymentFailed,
            }, cancellationToken);
        }

        else if (webhook.Type == "refund.succeeded")
        {
            // Usually the refund consumer has reported it already; this settles a refund whose answer was lost.
            await publish.Publish(new PaymentRefunded
            {
                OrderId = orderId,
                Amount = webhook.Amount!.Value,
                Source = PaymentSources.Webhook,
            }, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.WebhookReceived(webhook.Type, knownOrder ? "published" : "unknown_order");
        return Received();
    }

    static IResult Received() => Results.Ok(new { received = true });

    static readonly JsonSerializerOptions StrictJson = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
    };

    static readonly string[] Types = ["payment.succeeded", "payment.failed", "refund.succeeded"];

    static Validation Validate(PaymentWebhook? webhook)
    {
        var validation = new Validation();
        if (webhook is null)
            return validation.Add("body", "is required");
        validation.Text(webhook.EventId, "eventId", 1, 200)
            .Text(webhook.ProviderReference, "providerReference", 1, 200)
            .Text(webhook.MerchantReference, "merchantReference", 1, 200)
            .Money(webhook.Amount, "amount")
            .Currency(webhook.Currency)
            .Require(webhook.OccurredAt is not null, "occurredAt", "is required");
        if (webhook.Type is null || !Types.Contains(webhook.Type))
            validation.Add("type", $"must be one of {string.Join(", ", Types)}");
        return validation;
    }

    static async Task<byte[]> ReadBody(HttpRequest http, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await http.Body.CopyToAsync(buffer, cancellationToken); // Kestrel enforces the 64 KiB limit (413)
        return buffer.Length > MaxBody ? throw new BadHttpRequestException("body too large", 413) : buffer.ToArray();
    }
}
