using Microsoft.EntityFrameworkCore;
using Sagas.Data;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Reconciliation;

/// <summary>
/// Our books for orders the retention sweep moved to schema <c>archive</c> (Data migration 0013): a provider's listing
/// may name an old payment (a late refund, a range support asks for), and an old range has its placed orders there.
/// </summary>
public sealed class ArchivedOrders(FulfilmentDbContext db)
{
    /// <summary>The archived orders among <paramref name="ids"/> (reconciliation asks only for those the hot table lacks).</summary>
    public async Task<List<OurOrder>> NamedAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
            return [];
        var wanted = ids.ToArray();
        var rows = await db.Database.SqlQuery<Row>($"""
            SELECT order_id, current_state, total, currency, provider_reference, placed_at
              FROM archive.order_state WHERE order_id = ANY({wanted})
            """).ToListAsync(cancellationToken);
        return rows.ConvertAll(r => r.Ours());
    }

    /// <summary>Archived orders placed in [from, to) (index archive_order_state_placed).</summary>
    public async Task<List<OurOrder>> PlacedAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var rows = await db.Database.SqlQuery<Row>($"""
            SELECT order_id, current_state, total, currency, provider_reference, placed_at
              FROM archive.order_state
             WHERE current_state = {OrderStatuses.Placed} AND placed_at >= {from} AND placed_at < {to}
            """).ToListAsync(cancellationToken);
        return rows.ConvertAll(r => r.Ours());
    }

    // Columns named by the context's snake_case convention, as every SqlQuery row type's.
    sealed record Row(Guid OrderId, string CurrentState, decimal Total, string Currency, string? ProviderReference, DateTimeOffset? PlacedAt)
    {
        public OurOrder Ours() => new(OrderId, CurrentState, Total, Currency, ProviderReference, PlacedAt);
    }
}
