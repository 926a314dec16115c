using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Sagas.Api.Hosting;
using Sagas.Api.Orders.Admission;
using Sagas.Api.Orders.Events;
using Sagas.Contracts.Ordering;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Orders;

/// <summary>
/// The storefront's endpoints (http-contract.md, "Orders"). Accepting an order is one PostgreSQL
/// transaction: the idempotency record and the <see cref="SubmitOrder"/> outbox rows commit together, so
/// an accepted order is never lost and a retried request never creates a second one. A new order the system could
/// not give its QR code in time is refused (503) before anything is written (<see cref="OrderAdmission"/>).
/// </summary>
public static class OrderEndpoints
{
    public sealed record SubmitOrderRequest(string? CustomerId, string? Currency, List<SubmitOrderLine?>? Lines);
    public sealed record SubmitOrderLine(string? Sku, int? Quantity);
    public sealed record OrderAccepted(Guid OrderId, string Status);

    public static IEndpointRouteBuilder MapOrders(this IEndpointRouteBuilder endpoints)
    {
        var orders = endpoints.MapGroup("/orders").WithTags("Orders");
        orders.MapPost("/", Submit).RequireAuthorization(Roles.Storefront)
            .WithName("SubmitOrder").WithSummary("Submit an order; the same Idempotency-Key and body never make a second one")
            .WithHeader("Idempotency-Key", "1 to 255 characters, chosen by the storefront per order: a retry with the same key and " +
                                           "body answers as the first request did; the same key with another body is 409.", required: true)
            .Produces<OrderAccepted>(202).ProducesValidationProblem().ProducesProblem(409).ProducesProblem(422).ProducesProblem(503);
        orders.MapGet("/{orderId:guid}", Get).RequireAuthorization(Policies.StorefrontOrSupport)
            .WithName("GetOrder").WithSummary("An order with its payment; a storefront sees only its own orders")
            .WithDescription("Support callers also read `traceId`, the order's trace in the tracing backend (null when the order " +
                             "was accepted without tracing); a storefront reads null there.")
            .Produces<OrderView>().ProducesProblem(404);
        orders.MapOrderEvents();
        orders.MapPost("/{orderId:guid}/cancel", Cancel).RequireAuthorization(Policies.StorefrontOrSupport)
            .WithName("CancelOrder").WithSummary("Cancel an order (support may cancel a placed one, which refunds it)")
            .Produces<OrderAccepted>(202).ProducesProblem(404).ProducesProblem(409);
        orders.MapPost("/{orderId:guid}/retry-compensation", RetryCompensation).RequireAuthorization(Roles.Support).WithTags("Support")
            .WithName("RetryPendingSteps").WithSummary("Issue again the steps the order is waiting for (refund, QR withdrawal, release, placement)")
            .Produces<OrderAccepted>(202).ProducesProblem(404).ProducesProblem(409);
        return endpoints;
    }

    static async Task<IResult> Submit(HttpRequest http, SubmitOrderRequest? request, ClaimsPrincipal user,
        FulfilmentDbContext db, IPublishEndpoint publish, OrderAdmission admission, ApiMetrics metrics, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var key = http.Headers["Idempotency-Key"].ToString();
        var validation = new Validation();
        if (http.Headers["Idempotency-Key"].Count != 1 || key.Length is < 1 or > 255)
            validation.Add("Idempotency-Key", "header is required, 1 to 255 characters");
        else
            // Stored and compared as text like any other field: a tab or DEL that HTTP lets through is refused here too.
            validation.PrintableText(key, "Idempotency-Key");
        if (request is null)
            return validation.Add("body", "is required").Problem();
        Validate(request, validation);
        if (!validation.IsValid)
            return validation.Problem();

        var lines = request.Lines!.Select(l => (Sku: l!.Sku!, Quantity: l.Quantity!.Value)).ToList();
        var clientId = user.ClientId();
        var hash = RequestHash(request.CustomerId!, request.Currency!, lines);

        // The lookups share the transaction of the insert: one transaction per accepted order, not three. An early
        // answer (replay, 4xx) rolls back what was only read.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Nothing is retried inside the transaction: a failed SaveChanges ends the request, so EF's savepoint around it
        // (two more round trips) buys nothing.
        db.Database.AutoSavepointsEnabled = false;
        if (await Replay(db, clientId, key, hash, metrics, cancellationToken) is { } replay)
            return replay;

        // Prices come from the catalog at submission; the saga charges exactly this total.
        var skus = lines.Select(l => l.Sku).ToArray();
        var catalog = await db.Database
            .SqlQuery<CatalogPrice>($"SELECT sku, price, currency FROM inventory.items WHERE sku = ANY({skus})")
            .ToDictionaryAsync(i => i.Sku, cancellationToken);
        var unknown = skus.Where(s => !catalog.ContainsKey(s)).ToList();
        if (unknown.Count > 0)
            return Problems.Unprocessable($"Unknown sku(s): {string.Join(", ", unknown)}.",
                new Dictionary<string, object?> { ["unknownSkus"] = unknown });
        foreach (var sku in skus.Where(s => catalog[s].Currency != request.Currency))
            validation.Add("currency", $"must equal the currency of every item; {sku} is sold in {catalog[sku].Currency}");
        if (!validation.IsValid)
            return validation.Problem();

        // Last of all: a replay, a conflict and every 4xx answer as they would anyway; only a new, valid order is refused.
        if (admission.Decide() is { Refused: true } refused)
            return Overloaded(http.HttpContext.Response, refused);
        using var pending = admission.Pending();

        var orderId = NewId.NextGuid();
        var now = clock.GetUtcNow();
        var orderLines = lines.Select(l => new OrderLine { Sku = l.Sku, Quantity = l.Quantity, UnitPrice = catalog[l.Sku].Price }).ToList();
        var total = orderLines.Sum(l => l.UnitPrice * l.Quantity);
        if (total > Validation.MaxMoney)
            return Problems.Unprocessable(
                $"The order's total {total:0.00} {request.Currency} exceeds the largest amount an order can carry ({Validation.MaxMoney:0.00}).");
        var linesJson = JsonSerializer.Serialize(orderLines.Select(l => new OrderLineView(l.Sku, l.Quantity, l.UnitPrice)), JsonSerializerOptions.Web);

        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO api.idempotency_keys (client_id, idempotency_key, request_hash, order_id, customer_id, currency, total, lines, created_at, trace_parent)
            VALUES ({clientId}, {key}, {hash}, {orderId}, {request.CustomerId}, {request.Currency}, {total}, {linesJson}::jsonb, {now}, {OrderTrace.Capture()})
            ON CONFLICT (client_id, idempotency_key) DO NOTHING
            """, cancellationToken);
        if (inserted == 0)
        {
            // A concurrent request with the same key won; answer as it did.
            await transaction.RollbackAsync(cancellationToken);
            return await Replay(db, clientId, key, hash, metrics, cancellationToken)
                   ?? throw new InvalidOperationException("idempotency key vanished after a conflict");
        }

        await publish.Publish(new SubmitOrder
        {
            OrderId = orderId,
            CustomerId = request.CustomerId!,
            Currency = request.Currency!,
            Lines = orderLines,
            Total = total,
            SubmittedAt = now,
        }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        admission.Committed();
        metrics.OrderAccepted();

        return Accepted(orderId);
    }

    /// <summary>http-contract.md, "Additions, 2026-11-26": 503 with Retry-After; nothing was recorded, the same key may come again.</summary>
    static IResult Overloaded(HttpResponse response, AdmissionDecision refused)
    {
        response.Headers.RetryAfter = refused.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Overloaded(
            string.Create(CultureInfo.InvariantCulture, $"New orders cannot get their QR code in time right now (estimated wait {refused.EstimatedWait.TotalSeconds:0.0} s). " +
                    $"Nothing was recorded: send the same request with the same Idempotency-Key again after {refused.RetryAfterSeconds} s."));
    }

    static async Task<IResult?> Replay(FulfilmentDbContext db, string clientId, string key, string hash, ApiMetrics metrics,
        CancellationToken cancellationToken)
    {
        var existing = await db.Database
            .SqlQuery<StoredKey>($"SELECT order_id, request_hash FROM api.idempotency_keys WHERE client_id = {clientId} AND idempotency_key = {key}")
            .SingleOrDefaultAsync(cancellationToken);
        if (existing is null)
            return null;
        metrics.Replayed(conflict: existing.RequestHash != hash);
        return existing.RequestHash == hash
            ? Accepted(existing.OrderId)
            : Problems.Conflict(
                "This Idempotency-Key was already used for a different request; use a new key for a new order.");
    }

    static IResult Accepted(Guid orderId) =>
        Results.Accepted($"/orders/{orderId}", new OrderAccepted(orderId, OrderStatuses.Submitted));

    // The status read: the standby's view when one is configured, the primary's when the standby misses the order.
    static async Task<IResult> Get(Guid orderId, ClaimsPrincipal user, OrderReader orders, CancellationToken cancellationToken) =>
        await FindVisible(orderId, user, orders, cancellationToken, recent: true) is { } found
            ? Results.Ok(found.Order)
            : NotFound(orderId);

    static async Task<IResult> Cancel(Guid orderId, ClaimsPrincipal user, OrderReader orders, FulfilmentDbContext db,
        IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        if (await FindVisible(orderId, user, orders, cancellationToken) is not { } found)
            return NotFound(orderId);

        var status = found.Order.Status;
        if (found.Archived)
            return Problems.Conflict($"The order is {status} and archived; it can no longer be canceled.");
        var isSupport = user.IsInRole(Roles.Support);
        var cancelable = !OrderStatuses.IsFinal(status) || (status == OrderStatuses.Placed && isSupport);
        if (!cancelable)
            return Problems.Conflict(status == OrderStatuses.Placed
                ? "The order is already placed; only support can cancel a placed order (which refunds it)."
                : $"The order is already {status}.");

        await publish.Publish(new CancelOrder
        {
            OrderId = orderId,
            // Who asked is the whole story here; the contract's cancel has no free-text reason to pass on.
            RequestedBy = isSupport ? CancelRequesters.Support : CancelRequesters.Storefront,
        }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        return Results.Accepted($"/orders/{orderId}", new OrderAccepted(orderId, status));
    }

    /// <summary>
    /// Support asks the saga to issue again what it is still waiting for (refund, QR withdrawal, stock release,
    /// placement or hold), e.g. once the provider accepts refunds again. Each step is keyed by the order at its
    /// consumer, so however often this is asked nothing happens twice. 409 when the order waits for nothing.
    /// </summary>
    static async Task<IResult> RetryCompensation(Guid orderId, ClaimsPrincipal user, OrderReader orders, FulfilmentDbContext db,
        IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        if (await FindVisible(orderId, user, orders, cancellationToken) is not { } found)
            return NotFound(orderId);

        var pending = await db.Database.SqlQuery<bool>($"""
            SELECT (s.current_state IN ({OrderStatuses.Submitted}, {OrderStatuses.Placing})
                    OR (s.payment_cancel_requested_at IS NOT NULL AND s.payment_closed_at IS NULL)
                    OR (s.refund_requested_at IS NOT NULL AND s.refunded_at IS NULL)
                    OR (s.release_requested_at IS NOT NULL AND s.stock_released_at IS NULL)) AS "Value"
              FROM ordering.order_state s WHERE s.order_id = {orderId}
            """).SingleOrDefaultAsync(cancellationToken);
        if (!pending)
            return Problems.Conflict(
                $"Order {orderId} ({found.Order.Status}) is not waiting for a refund, a QR withdrawal, a stock release or its placement.");

        await publish.Publish(new RetryCompensation { OrderId = orderId, RequestedBy = user.ClientId() }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        return Results.Accepted($"/orders/{orderId}", new OrderAccepted(orderId, found.Order.Status));
    }

    /// <summary>
    /// Support sees every order; a storefront only the orders it submitted (others are 404 to it). <paramref name="recent"/>:
    /// the standby may answer (<see cref="OrderReader.FindRecentAsync"/>); otherwise the primary does.
    /// </summary>
    internal static async Task<OrderReader.Found?> FindVisible(Guid orderId, ClaimsPrincipal user, OrderReader orders, CancellationToken cancellationToken,
        bool recent = false)
    {
        var found = recent ? await orders.FindRecentAsync(orderId, cancellationToken) : await orders.FindAsync(orderId, cancellationToken);
        return found is not null && (user.IsInRole(Roles.Support) || found.ClientId == user.ClientId())
            ? found with { Order = AsSeenBy(found.Order, user) }
            : null;
    }

    /// <summary>The trace id is for support, who look orders up in the tracing backend; a storefront reads null.</summary>
    internal static OrderView AsSeenBy(OrderView order, ClaimsPrincipal user) =>
        user.IsInRole(Roles.Support) ? order : order with { TraceId = null };

    internal static IResult NotFound(Guid orderId) =>
        Problems.NotFound($"No order {orderId}.");

    static void Validate(SubmitOrderRequest request, Validation validation)
    {
        validation.Text(request.CustomerId, "customerId", 1, 100).Currency(request.Currency);
        if (request.Lines is null || request.Lines.Count is < 1 or > 50)
        {
            validation.Add("lines", "must have 1 to 50 lines");
            return;
        }

        for (var i = 0; i < request.Lines.Count; i++)
        {
            var line = request.Lines[i];
            if (line is null)
            {
                validation.Add($"lines[{i}]", "is required");
                continue;
            }

            if (line.Sku is null || !Validation.IsSku(line.Sku))
                validation.Add($"lines[{i}].sku", "must be a sku: 1 to 64 letters, digits, '.', '_' or '-'");
            if (line.Quantity is null or < 1 or > 1000)
                validation.Add($"lines[{i}].quantity", "must be an integer from 1 to 1000");
        }

        var duplicates = request.Lines.Where(l => l?.Sku is not null).GroupBy(l => l!.Sku).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            validation.Add("lines", $"skus must be distinct; repeated: {string.Join(", ", duplicates)}");
    }

    /// <summary>Same customer, currency and lines (in order) → same hash, whatever the JSON's spacing or extra fields.</summary>
    static string RequestHash(string customerId, string currency, IEnumerable<(string Sku, int Quantity)> lines)
    {
        var canonical = JsonSerializer.Serialize(new { customerId, currency, lines = lines.Select(l => new[] { l.Sku, l.Quantity.ToString() }) });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    // Rows of SqlQuery: their columns are named by the context's snake_case convention too (sku, order_id, ...).
    sealed record CatalogPrice(string Sku, decimal Price, string Currency);
    sealed record StoredKey(Guid OrderId, string RequestHash);
}
