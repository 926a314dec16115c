using MassTransit;
using Sagas.Contracts.Payments;

namespace Sagas.Workers.Reconciliation;

/// <summary>
/// Support's reconciliation, asked for through the Api (request/response): the report is stored, and its id answered
/// through the outbox once the row is committed, so the Api reads a report that exists.
/// </summary>
public sealed class RunReconciliationConsumer(PaymentReconciler reconciler) : IConsumer<RunReconciliation>
{
    public async Task Consume(ConsumeContext<RunReconciliation> context)
    {
        var request = context.Message;
        var report = await reconciler.RunAsync(request.From, request.To, scheduled: false, request.RequestedBy, context.CancellationToken);
        await context.RespondAsync(new ReconciliationReported { ReportId = report.Id });
    }
}
