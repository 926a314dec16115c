using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Data.Payments;
using Sagas.Workers.Reconciliation;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Reconciliation on a schedule: every <c>Sweeps:ReconciliationReportInterval</c> one Worker (a clustered job) compares
/// the last <c>Sweeps:ReconciliationReportRange</c> of the provider's listing with our orders and stores the report. The
/// latest scheduled report is what <c>GET /support/stats</c> counts as reconciliation mismatches and the console shows;
/// the ranges overlap, so a mismatch that is put right (a refund made) is gone from the next report.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ReconciliationReportSweep(IServiceScopeFactory scopes, IOptions<SweepOptions> options, TimeProvider clock,
    SweepMetrics metrics, ILogger<ReconciliationReportSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        // Checked here rather than left unscheduled: the clustered store keeps a trigger that an earlier start scheduled.
        if (!options.Value.ReconciliationReportEnabled)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var reconciler = scope.ServiceProvider.GetRequiredService<PaymentReconciler>();
        var to = clock.GetUtcNow();
        ReconciliationReport report;
        try
        {
            report = await reconciler.RunAsync(to - options.Value.ReconciliationReportRange, to, scheduled: true, requestedBy: null,
                cancellationToken);
        }
        catch (Exception exception) when (ProviderUnavailable.Is(exception) && !cancellationToken.IsCancellationRequested)
        {
            throw ProviderUnavailable.Report(exception, logger, "Reconciliation report");
        }

        metrics.Found<ReconciliationReportSweep>("mismatch", report.MismatchCount);
        if (report.MismatchCount > 0)
            logger.LogWarning("Reconciliation report {ReportId}: {Mismatches} mismatch(es) with the provider over {Payments} payment(s)",
                report.Id, report.MismatchCount, report.Payments);
    }
}
