using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Quartz;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.Data.Payments;
using Sagas.Workers.Ordering;
using Sagas.Workers.Sweeps;

namespace Sagas.Workers.Payments;

/// <summary>
/// The payment poll: notices what the provider's webhooks did not tell, for every order awaiting payment at once.
/// Each tick (<see cref="SagaTimings.ListingPeriod"/>, several per promised <see cref="SagaTimings.PollInterval"/>)
/// reads the provider's listing of payments changed since the last tick and reports to the saga each outcome
/// (captured, failed, no longer payable) that the saga has not recorded — the same events a per-order status check
/// would publish. A tick costs one listing call (one page per 500 changes) and a few statements whatever the number of
/// customers looking at a QR code, and nothing while no order awaits payment; a pending payment costs nothing per tick.
/// <para>
/// A clustered Quartz job: one Worker runs each tick. How far the listing has been read (the provider's clock) advances
/// in the transaction that writes the events to the outbox, so nothing read is lost; every event carries a message id
/// derived from the payment and its status, so one reported again is dropped by the saga's inbox; a tick does not report
/// again what our payment record shows was already reported.
/// </para>
/// </summary>
[DisallowConcurrentExecution]
public sealed class PaymentStatusPoll(IServiceScopeFactory scopes, TimeProvider clock, SweepMetrics metrics, ILogger<PaymentStatusPoll> logger) : IJob
{
    /// <summary>
    /// Each tick reads again from this long before the last change seen: a change stamped before a later one but
    /// committed after it (the provider takes the time before its commit) is still read.
    /// </summary>
    internal static readonly TimeSpan Overlap = TimeSpan.FromSeconds(5);

    /// <summary>How far before the oldest order awaiting payment a read may start (the provider's clock is not ours).</summary>
    internal static readonly TimeSpan ClockAllowance = TimeSpan.FromMinutes(1);

    const int PageSize = 500;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();

        var oldestAwaiting = await db.Database.SqlQuery<DateTimeOffset?>($"""
            SELECT min(created_at) AS "Value" FROM ordering.order_state WHERE current_state = {OrderStatuses.AwaitingPayment}
            """).SingleAsync(cancellationToken);
        if (oldestAwaiting is null)
            return;
        var position = await db.Set<PaymentStatusPollState>().SingleAsync(p => p.Id == 1, cancellationToken);
        var listedThrough = position.ListedThrough;
        var from = oldestAwaiting.Value - ClockAllowance;
        if (listedThrough is { } through && through - Overlap > from)
            from = through - Overlap;

        List<ProviderPayment> changed;
        DateTimeOffset? lastChange;
        try
        {
            (changed, lastChange) = await ReadChangesAsync(scope.ServiceProvider.GetRequiredService<PaymentProviderClient>(), from, cancellationToken);
        }
        catch (Exception exception) when (ProviderUnavailable.Is(exception) && !cancellationToken.IsCancellationRequested)
        {
            throw ProviderUnavailable.Report(exception, logger, "Payment poll");
        }
        var outcomes = await UnheardOutcomesAsync(db, changed, cancellationToken);

        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Our payment records in one read, saved with the position below.
        await PaymentRecords.UpdateManyAsync(db, outcomes.ToDictionary(o => o.OrderId, o => o.Payment), clock.GetUtcNow(), cancellationToken);
        foreach (var (_, payment, outcome) in outcomes)
        {
            var messageId = MessageIdOf(payment);
            await publish.Publish(outcome, outcome.GetType(), c => c.MessageId = messageId, cancellationToken);
        }

        // One Worker polls at a time (a clustered job that disallows concurrent runs): the position read above is ours.
        if (lastChange > position.ListedThrough || position.ListedThrough is null)
            position.ListedThrough = lastChange;
        position.PolledAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        metrics.Found<PaymentStatusPoll>("reported", outcomes.Count);
        if (outcomes.Count > 0)
            logger.LogInformation("Payment poll: {Count} outcome(s) the saga had not heard of (of {Changed} changed payments)",
                outcomes.Count, changed.Count);
    }

    /// <summary>Every payment changed since <paramref name="from"/> that is no longer pending, and the last change seen.</summary>
    static async Task<(List<ProviderPayment> Changed, DateTimeOffset? LastChange)> ReadChangesAsync(PaymentProviderClient provider,
        DateTimeOffset from, CancellationToken cancellationToken)
    {
        var changed = new List<ProviderPayment>();
        DateTimeOffset? lastChange = null;
        string? cursor = null;
        do
        {
            var page = await provider.ListChangedPaymentsAsync(from, cursor, PageSize, cancellationToken);
            foreach (var payment in page.Items)
            {
                if (payment.UpdatedAt > lastChange || lastChange is null)
                    lastChange = payment.UpdatedAt;
                if (payment.Status != "pending")
                    changed.Add(payment);
            }

            cursor = page.NextCursor;
        } while (cursor is not null && !cancellationToken.IsCancellationRequested);

        return (changed, lastChange);
    }

    /// <summary>
    /// The outcomes the orders' sagas have not recorded: a capture of an order without one (whatever its state: a late
    /// one is refunded by the saga), and the end of an unpaid QR code of an order still awaiting payment.
    /// </summary>
    async Task<List<(Guid OrderId, ProviderPayment Payment, object Outcome)>> UnheardOutcomesAsync(FulfilmentDbContext db,
        List<ProviderPayment> changed, CancellationToken cancellationToken)
    {
        var byOrder = new Dictionary<Guid, ProviderPayment>();
        foreach (var payment in changed)
            if (Guid.TryParse(payment.MerchantReference, out var orderId))
                byOrder[orderId] = payment;
        if (byOrder.Count == 0)
            return [];

        var ids = byOrder.Keys.ToList();
        var orders = await db.Set<OrderState>().AsNoTracking()
            .Where(o => ids.Contains(o.CorrelationId))
            .Select(o => new { o.CorrelationId, o.CurrentState, o.PaidAt, o.PaymentClosedAt })
            .ToListAsync(cancellationToken);

        var unheard = orders.Where(order => byOrder[order.CorrelationId].Status == "succeeded"
                ? order.PaidAt is null
                : order.CurrentState == OrderStatuses.AwaitingPayment && order.PaymentClosedAt is null)
            .Select(order => order.CorrelationId)
            .ToList();
        if (unheard.Count == 0)
            return [];

        // Already reported, not yet consumed: our payment record shows this status only once a transaction that also
        // wrote the outcome to the outbox committed (an earlier tick, a status check, a cancel). Reporting it again
        // would only cost a message the saga's inbox drops; with several ticks per poll period and a saga busy for a
        // second, it would be most of them.
        var recorded = await db.Set<PaymentRecord>().AsNoTracking()
            .Where(p => unheard.Contains(p.OrderId))
            .Select(p => new { p.OrderId, p.Status })
            .ToDictionaryAsync(p => p.OrderId, p => p.Status, cancellationToken);

        var outcomes = new List<(Guid, ProviderPayment, object)>();
        foreach (var orderId in unheard)
        {
            var payment = byOrder[orderId];
            if (recorded.TryGetValue(orderId, out var status) && status == PaymentRecords.StatusOf(payment.Status))
                continue;
            if (PaymentRecords.Outcome(orderId, payment, PaymentSources.Poll, clock) is { } outcome)
                outcomes.Add((orderId, payment, outcome));
        }

        return outcomes;
    }

    /// <summary>The same payment in the same status is the same message, however often it is read.</summary>
    internal static Guid MessageIdOf(ProviderPayment payment) =>
        new(MD5.HashData(Encoding.UTF8.GetBytes($"payment-poll:{payment.ProviderReference}:{payment.Status}")));
}
