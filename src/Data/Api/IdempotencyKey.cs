namespace Sagas.Data.Api;

/// <summary>
/// An order the Api accepted, keyed by the caller and its <c>Idempotency-Key</c>. <see cref="RequestHash"/>
/// tells a retry of the same request (same answer) from a different request under the same key (409).
/// </summary>
public sealed class IdempotencyKey
{
    public required string ClientId { get; init; }
    public required string Key { get; init; }
    public required string RequestHash { get; init; }
    public Guid OrderId { get; init; }
    public required string CustomerId { get; init; }
    public required string Currency { get; init; }
    public decimal Total { get; init; }
    /// <summary>The order lines as accepted, JSON (sku, quantity, unitPrice).</summary>
    public required string Lines { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The W3C traceparent of the request that accepted the order; null when it was not traced.</summary>
    public string? TraceParent { get; init; }
}
