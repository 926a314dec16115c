using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.Data.Payments;
using Sagas.Workers.Ordering;
using Sagas.Workers.Payments;
using Sagas.Workers.Sweeps;

namespace Sagas.Workers.Reconciliation;

/// <summary>
/// Reconciliation's report: reads the provider's listing of the payments changed in a range (every page), our orders
/// they name and the orders we placed in the range (hot or archived), compares them (<see cref="ReconciliationRules"/>) and stores the
/// result as a <see cref="ReconciliationReport"/>. Used by the schedule and by support's request through the Api.
/// </summary>
public sealed class PaymentReconciler(PaymentProviderClient provider, FulfilmentDbContext db, ArchivedOrders archived, TimeProvider clock,
    IOptions<SagaTimings> timings, IOptions<SweepOptions> sweeps)
{
    /// <summary>The longest range one report covers: its listing is read inside one consume or one sweep run.</summary>
    public static readonly TimeSpan MaxRange = RunReconciliation.MaxRange;

    const int PageSize = 500;
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ReconciliationReport> RunAsync(DateTimeOffset from, DateTimeOffset to, bool scheduled, string? requestedBy,
        CancellationToken cancellationToken)
    {
        if (to <= from || to - from > MaxRange)
            throw new ArgumentOutOfRangeException(nameof(to), $"a reconciliation covers more than nothing and at most {MaxRange.TotalDays} days");

        var listed = await ListAsync(from, to, cancellationToken);
        var ids = listed.Select(p => Guid.TryParse(p.MerchantReference, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).Distinct().ToList();
        var named = await db.Set<OrderState>().AsNoTracking()
            .Where(o => ids.Contains(o.CorrelationId))
            .Select(o => new OurOrder(o.CorrelationId, o.CurrentState, o.Total, o.Currency, o.ProviderReference, o.PlacedAt))
            .ToDictionaryAsync(o => o.OrderId, cancellationToken);
        var placed = await db.Set<OrderState>().AsNoTracking()
            .Where(o => o.CurrentState == OrderStatuses.Placed && o.PlacedAt >= from && o.PlacedAt < to)
            .Select(o => new OurOrder(o.CorrelationId, o.CurrentState, o.Total, o.Currency, o.ProviderReference, o.PlacedAt))
            .ToListAsync(cancellationToken);
        // Orders the retention sweep archived are our books too: looked up there only for what the hot table lacks.
        foreach (var order in await archived.NamedAsync(ids.Where(id => !named.ContainsKey(id)).ToList(), cancellationToken))
            named[order.OrderId] = order;
        // An order archived between the two reads is in both: once is enough.
        placed = placed.Concat(await archived.PlacedAsync(from, to, cancellationToken)).DistinctBy(o => o.OrderId).ToList();

        // A placed order's payment that did not change in the range (refunded after it, say) is asked for by itself.
        var listedReferences = listed.Select(p => p.ProviderReference).ToHashSet();
        var fetched = new Dictionary<string, ProviderPayment?>();
        foreach (var reference in placed.Select(o => o.ProviderReference).OfType<string>().Where(r => !listedReferences.Contains(r)))
            fetched[reference] = await FindAsync(reference, cancellationToken);

        var now = clock.GetUtcNow();
        var outcome = ReconciliationRules.Compare(listed, named, placed, fetched, now,
            new SettlingTime(timings.Value.PaymentGrace, sweeps.Value.ReconciliationGrace));
        var report = new ReconciliationReport
        {
            RangeFrom = from,
            RangeTo = to,
            CheckedAt = now,
            Scheduled = scheduled,
            RequestedBy = requestedBy,
            Payments = outcome.Payments,
            Captured = outcome.Captured,
            Refunded = outcome.Refunded,
            MismatchCount = outcome.Mismatches.Count,
            Mismatches = JsonSerializer.Serialize(outcome.Mismatches, Json),
        };
        db.Add(report);
        await db.SaveChangesAsync(cancellationToken);
        return report;
    }

    async Task<List<ProviderPayment>> ListAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var payments = new List<ProviderPayment>();
        string? cursor = null;
        do
        {
            var page = await provider.ListChangedPaymentsAsync(from, cursor, PageSize, cancellationToken, updatedTo: to);
            payments.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);

        return payments;
    }

    async Task<ProviderPayment?> FindAsync(string reference, CancellationToken cancellationToken)
    {
        try
        {
            return await provider.GetPaymentAsync(reference, cancellationToken);
        }
        catch (PaymentProviderRejectedException e) when (e.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
