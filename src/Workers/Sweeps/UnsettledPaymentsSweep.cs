using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Contracts.Payments;
using Sagas.Data;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Once per unplaced order (Expired, Canceled, Failed, with a QR payment and no refund yet), a while after
/// it ended: ask the provider about the payment. A success we never heard of comes back as
/// <see cref="PaymentSucceeded"/>, which the saga refunds as a late payment. The reconciliation row and the
/// <see cref="CheckPaymentStatus"/> outbox row commit together, so each order is checked exactly once.
/// </summary>
[DisallowConcurrentExecution]
public sealed class UnsettledPaymentsSweep(IServiceScopeFactory scopes, IOptions<SweepOptions> options, TimeProvider clock,
    ILogger<UnsettledPaymentsSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        var now = clock.GetUtcNow();
        var endedBefore = now - options.Value.ReconciliationGrace;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var due = await db.Database.SqlQuery<Unsettled>($"""
            INSERT INTO payments.reconciliations (order_id, checked_at)
            SELECT s.order_id, {now}
              FROM ordering.order_state s
             WHERE s.current_state IN ('Expired', 'Canceled', 'Failed')
               AND s.provider_reference IS NOT NULL
               AND s.refund_requested_at IS NULL
               AND s.updated_at < {endedBefore}
               AND NOT EXISTS (SELECT 1 FROM payments.reconciliations r WHERE r.order_id = s.order_id)
             ORDER BY s.updated_at
             LIMIT {options.Value.BatchSize}
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id AS "OrderId",
                      (SELECT provider_reference FROM ordering.order_state o WHERE o.order_id = reconciliations.order_id) AS "ProviderReference"
            """).ToListAsync(cancellationToken);

        foreach (var order in due)
            await publish.Publish(new CheckPaymentStatus { OrderId = order.OrderId, ProviderReference = order.ProviderReference }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        if (due.Count > 0)
            logger.LogInformation("Asked the provider once more about {Orders} unplaced order(s)", due.Count);
    }

    sealed record Unsettled(Guid OrderId, string ProviderReference);
}
