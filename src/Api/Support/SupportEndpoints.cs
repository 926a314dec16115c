using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Sagas.Api.Hosting;
using Sagas.Api.Orders;
using Sagas.Data.Ordering;
using Sagas.Messaging.Outbox;
using Sagas.Observability;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Support;

public sealed class SupportOptions
{
    /// <summary><c>Saga:StuckAfter</c>: a non-final order not updated for longer than this counts as stuck.</summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromMinutes(10);

    public IEnumerable<string> Problems()
    {
        if (StuckAfter <= TimeSpan.Zero)
            yield return "Saga:StuckAfter must be positive";
    }
}

/// <summary>Support staff's queries (http-contract.md, "Support"), all read-only and lock-free.</summary>
public static class SupportEndpoints
{
    public sealed record OrderPage(IReadOnlyList<OrderSummary> Items, string? NextCursor);
    public sealed record TimelineEntry(DateTimeOffset At, string Event, string? From, string To, string? Detail);
    /// <summary>
    /// <see cref="FailedMessages"/>: waiting for support (parked outboxes among them); <see cref="ReconciliationMismatches"/>:
    /// in the latest scheduled reconciliation report (null before the first).
    /// </summary>
    public sealed record OrderStats(IReadOnlyDictionary<string, long> ByStatus, long Stuck, double? OldestUndeliveredOutboxAgeSeconds,
        long FailedMessages, int? ReconciliationMismatches);

    public static IServiceCollection AddSupportOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SupportOptions>().Bind(configuration.GetSection("Saga")).ValidateProblems(o => o.Problems());
        return services;
    }

    public static IEndpointRouteBuilder MapSupport(this IEndpointRouteBuilder endpoints)
    {
        var support = endpoints.MapGroup("/orders").WithTags("Support").RequireAuthorization(Roles.Support);
        support.MapGet("/", List).WithName("ListOrders").WithSummary("Search orders, newest first, a page at a time")
            .WithQuery(new DocumentedParameter("status", ParameterLocation.Query, "Only orders in this status.", Values: OrderStatuses.All))
            .WithQuery(new DocumentedParameter("customerId", ParameterLocation.Query, "Only this customer's orders.", MaxLength: 100))
            .WithQuery(new DocumentedParameter("createdFrom", ParameterLocation.Query, "Created at or after this instant (ISO 8601, UTC).", Format: "date-time"))
            .WithQuery(new DocumentedParameter("createdTo", ParameterLocation.Query, "Created before this instant (ISO 8601, UTC).", Format: "date-time"))
            .WithPaging()
            .Produces<OrderPage>().ProducesValidationProblem();
        support.MapGet("/{orderId:guid}/timeline", Timeline).WithName("GetOrderTimeline").WithSummary("An order's timeline, oldest first")
            .Produces<IReadOnlyList<TimelineEntry>>().ProducesProblem(404);
        support.MapGet("/stats", Stats).WithName("GetOrderStats").WithSummary("Orders by status, stuck orders, the oldest undelivered message's age")
            .Produces<OrderStats>();
        endpoints.MapGet("/support/attention", Attention).WithTags("Support").RequireAuthorization(Roles.Support)
            .WithName("ListOrdersNeedingAttention").WithSummary("Orders that need a person, oldest first").WithPaging()
            .Produces<OrderPage>().ProducesValidationProblem();
        return endpoints;
    }

    static async Task<IResult> List(HttpRequest http, SupportQueries queries, CancellationToken cancellationToken)
    {
        var query = http.Query;
        var validation = new Validation();
        var status = query["status"].ToString();
        var customerId = query["customerId"].ToString();
        if (status.Length > 0 && !OrderStatuses.All.Contains(status))
            validation.Add("status", $"must be one of {string.Join(", ", OrderStatuses.All)}");
        if (customerId.Length > 100)
            validation.Add("customerId", "must be at most 100 characters");
        else
            validation.PrintableText(customerId, "customerId");
        var createdFrom = Instant(query["createdFrom"], "createdFrom", validation);
        var createdTo = Instant(query["createdTo"], "createdTo", validation);
        var (limit, cursor) = KeysetCursor.PageOf(query, Cursor.Decode, validation);
        if (!validation.IsValid)
            return validation.Problem();

        var items = await queries.SearchAsync(new SupportQueries.OrderFilter(status, customerId, createdFrom, createdTo), cursor, limit + 1,
            cancellationToken);
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = Cursor.Encode(items[^1].CreatedAt, items[^1].OrderId);
        }

        return Results.Ok(new OrderPage(items, next));
    }

    /// <summary>Orders that need a person, oldest first (the time each was first flagged), a page at a time.</summary>
    static async Task<IResult> Attention(HttpRequest http, SupportQueries queries, CancellationToken cancellationToken)
    {
        var query = http.Query;
        var validation = new Validation();
        var (limit, cursor) = KeysetCursor.PageOf(query, Cursor.Decode, validation);
        if (!validation.IsValid)
            return validation.Problem();

        var items = await queries.NeedingAttentionAsync(cursor, limit + 1, cancellationToken);
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = Cursor.Encode(items[^1].Attention!.Since, items[^1].OrderId);
        }

        return Results.Ok(new OrderPage(items, next));
    }

    static async Task<IResult> Timeline(Guid orderId, SupportQueries queries, CancellationToken cancellationToken) =>
        await queries.TimelineAsync(orderId, cancellationToken) is { } entries
            ? Results.Ok(entries)
            : Problems.NotFound($"No order {orderId}.");

    static async Task<IResult> Stats(SupportQueries queries, IOptions<SupportOptions> options, TimeProvider clock,
        IOutboxMonitor outbox, CancellationToken cancellationToken)
    {
        var (byStatus, stuck) = await queries.CountsAsync(clock.GetUtcNow() - options.Value.StuckAfter, cancellationToken);
        var messaging = await outbox.ReadFiguresAsync(cancellationToken);
        var mismatches = await queries.LatestScheduledMismatchesAsync(cancellationToken);
        return Results.Ok(new OrderStats(byStatus, stuck, messaging.OldestAge?.TotalSeconds, messaging.FailedMessages, mismatches));
    }

    static DateTimeOffset? Instant(string? value, string field, Validation validation)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
            return instant;
        validation.Add(field, "must be an ISO-8601 timestamp, e.g. 2026-11-27T00:00:00Z");
        return null;
    }

    /// <summary>The order lists' cursor: created_at for the order list, attention since for the attention list, and the order id.</summary>
    static class Cursor
    {
        public static string Encode(DateTimeOffset at, Guid orderId) => KeysetCursor.Encode(at, orderId.ToString("N"));

        public static (DateTimeOffset CreatedAt, Guid OrderId)? Decode(string value) =>
            KeysetCursor.Decode(value) is { } cursor && Guid.TryParseExact(cursor.Key, "N", out var id) ? (cursor.At, id) : null;
    }
}
