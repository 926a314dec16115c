using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Reconciliation's automatic half: every unplaced order (Expired, Canceled, Failed) whose payment our books do not
/// show as settled — the provider never confirmed the QR code closed, or a refund asked for was never confirmed — is
/// checked at the provider, a while after it ended and then again with a doubling delay (up to an hour) until it is
/// settled. The answer goes to the saga like a poll's: a capture we never heard of is refunded, a refund the provider
/// made is recorded, a closed QR code is noted. The reconciliation row and the <see cref="CheckPaymentStatus"/>
/// outbox row commit together, so no two Workers check the same order at once.
/// </summary>
[DisallowConcurrentExecution]
public sealed class UnsettledPaymentsSweep(IServiceScopeFactory scopes, IOptions<SweepOptions> options, SweepMetrics metrics,
    ILogger<UnsettledPaymentsSweep> logger) : IJob
{
    static readonly string[] Unplaced = [OrderStatuses.Expired, OrderStatuses.Canceled, OrderStatuses.Failed];

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        var grace = options.Value.ReconciliationGrace;
        var maxDelay = options.Value.ReconciliationMaxDelay;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var due = await db.Database.SqlQuery<Unsettled>($"""
            INSERT INTO payments.reconciliations AS r (order_id, checked_at, attempts, next_check_at)
            SELECT s.order_id, now(), 1, now() + {grace}
              FROM ordering.order_state s
              LEFT JOIN payments.reconciliations p ON p.order_id = s.order_id
             WHERE s.current_state = ANY({Unplaced})
               AND s.provider_reference IS NOT NULL
               AND (s.payment_closed_at IS NULL OR (s.refund_requested_at IS NOT NULL AND s.refunded_at IS NULL))
               AND s.updated_at < now() - {grace}
               AND (p.order_id IS NULL OR p.next_check_at <= now())
             ORDER BY s.updated_at
             LIMIT {options.Value.BatchSize}
            ON CONFLICT (order_id) DO UPDATE
               SET checked_at = now(), attempts = r.attempts + 1,
                   next_check_at = now() + least({maxDelay}, {grace} * power(2, least(r.attempts, 20)))
             WHERE r.next_check_at <= now()
            RETURNING r.order_id,
                      (SELECT provider_reference FROM ordering.order_state o WHERE o.order_id = r.order_id) AS provider_reference
            """).ToListAsync(cancellationToken);

        foreach (var order in due)
            await publish.Publish(new CheckPaymentStatus { OrderId = order.OrderId, ProviderReference = order.ProviderReference }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        metrics.Found<UnsettledPaymentsSweep>("checked", due.Count);
        if (due.Count > 0)
            logger.LogInformation("Asked the provider about the unsettled payments of {Orders} unplaced order(s)", due.Count);
    }

    // Columns named by the context's snake_case convention, as every SqlQuery row type's.
    sealed record Unsettled(Guid OrderId, string ProviderReference);
}
