using System.ComponentModel;
using System.Text.Json;
using Npgsql;
using Sagas.Data;

namespace Sagas.Api.Orders;

public sealed record OrderLineView(string Sku, int Quantity, decimal UnitPrice);

public sealed record PaymentView(string? Status, string? ProviderReference, string? QrPayload, DateTimeOffset? ExpiresAt, DateTimeOffset? PaidAt);

/// <summary>Why a person must look at the order (http-contract.md, "Additions, 2026-11-26"); null when nobody must.</summary>
public sealed record AttentionView(string Reason, DateTimeOffset Since, string? Detail);

public sealed record OrderView(
    Guid OrderId,
    string CustomerId,
    string Status,
    IReadOnlyList<OrderLineView> Lines,
    decimal Total,
    string Currency,
    PaymentView? Payment,
    string? FailureReason,
    AttentionView? Attention,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    [property: Description("Support callers only (null for a storefront): the id of the order's trace in the tracing backend, " +
                           "32 lowercase hex digits; null when the order was accepted without tracing (docs/observability.md).")]
    string? TraceId);

public sealed record OrderSummary(
    Guid OrderId,
    string CustomerId,
    string Status,
    decimal Total,
    string Currency,
    string? PaymentStatus,
    string? FailureReason,
    AttentionView? Attention,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// Reads orders as the Api reports them. Every accepted order has its row in <c>api.idempotency_keys</c>
/// from the moment of its 202; the saga row joins it once a worker has taken the order, so an order is
/// <c>Submitted</c> until then, never missing. A final order the retention sweep moved has the same two rows in schema
/// <c>archive</c>, read only when the hot tables miss (a live order costs one query, as before). Plain reads:
/// PostgreSQL's MVCC takes no row locks, so support queries never slow the workers down.
/// <para>
/// <see cref="FindAsync"/> reads the primary: what a write decides on (cancel, retry) and the event stream, which reads
/// when the primary announces a change (a standby may not have replayed it yet). <see cref="FindRecentAsync"/>, the status
/// read, asks the standby first (<see cref="ReadOnlyDatabase"/>) and the primary when the standby misses: an order accepted
/// a moment ago is never a 404 for want of replay.
/// </para>
/// </summary>
public sealed class OrderReader(NpgsqlDataSource db, ReadOnlyDatabase readOnly)
{
    internal const string Columns = """
        k.order_id, k.customer_id, coalesce(s.current_state, 'Submitted'), k.total, k.currency,
        s.payment_status, s.failure_reason, k.created_at, coalesce(s.updated_at, k.created_at),
        s.attention_reason, s.attention_since, s.attention_detail,
        k.client_id, k.lines, s.provider_reference, s.qr_payload, s.payment_expires_at, s.paid_at, k.trace_parent
        """;

    internal const string From = "api.idempotency_keys k LEFT JOIN ordering.order_state s ON s.order_id = k.order_id";

    /// <summary>The same rows of archived orders (Data migration 0013): an archived order always has its saga row.</summary>
    internal const string ArchiveFrom = "archive.idempotency_keys k JOIN archive.order_state s ON s.order_id = k.order_id";

    /// <summary><paramref name="Archived"/>: read from schema archive (a final order nothing may change any more).</summary>
    public sealed record Found(OrderView Order, string ClientId, bool Archived = false);

    /// <summary>The order as the primary has it now.</summary>
    public Task<Found?> FindAsync(Guid orderId, CancellationToken cancellationToken) => FindOnAsync(db, orderId, cancellationToken);

    /// <summary>The order as the standby has it (maybe a moment old), or as the primary has it when the standby misses it.</summary>
    public async Task<Found?> FindRecentAsync(Guid orderId, CancellationToken cancellationToken) =>
        await FindOnAsync(readOnly.DataSource, orderId, cancellationToken)
        ?? (readOnly.IsStandby ? await FindOnAsync(db, orderId, cancellationToken) : null);

    static async Task<Found?> FindOnAsync(NpgsqlDataSource server, Guid orderId, CancellationToken cancellationToken) =>
        await FindInAsync(server, From, orderId, cancellationToken)
        ?? (await FindInAsync(server, ArchiveFrom, orderId, cancellationToken) is { } archived ? archived with { Archived = true } : null);

    static async Task<Found?> FindInAsync(NpgsqlDataSource server, string from, Guid orderId, CancellationToken cancellationToken)
    {
        await using var command = server.CreateCommand($"SELECT {Columns} FROM {from} WHERE k.order_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = orderId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;

        var summary = ReadSummary(reader);
        var lines = JsonSerializer.Deserialize<List<OrderLineView>>(reader.GetString(13), JsonSerializerOptions.Web) ?? [];
        var payment = reader.IsDBNull(14)
            ? null
            : new PaymentView(summary.PaymentStatus, reader.GetString(14), reader.IsDBNull(15) ? null : reader.GetString(15),
                reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16),
                reader.IsDBNull(17) ? null : reader.GetFieldValue<DateTimeOffset>(17));
        return new Found(new OrderView(summary.OrderId, summary.CustomerId, summary.Status, lines, summary.Total, summary.Currency,
            payment, summary.FailureReason, summary.Attention, summary.CreatedAt, summary.UpdatedAt,
            OrderTrace.TraceIdOf(reader.IsDBNull(18) ? null : reader.GetString(18))), reader.GetString(12));
    }

    internal static OrderSummary ReadSummary(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetDecimal(3),
        reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetString(6),
        reader.IsDBNull(9) ? null : new AttentionView(reader.GetString(9), reader.GetFieldValue<DateTimeOffset>(10),
            reader.IsDBNull(11) ? null : reader.GetString(11)),
        reader.GetFieldValue<DateTimeOffset>(7),
        reader.GetFieldValue<DateTimeOffset>(8));
}
