using System.Diagnostics.Metrics;
using Quartz;
using Sagas.Workers.Ordering;
using Sagas.Workers.Payments;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// The clustered Quartz jobs of the Workers (the sweeps and the payment poll): each run by outcome and duration (from
/// <see cref="SweepRunListener"/>), and what each run found, by result: holds released or reported overdue, unsettled
/// payments checked, outcomes the poll reported, orders archived and history deleted. The stuck-orders sweep reports through <c>sagas_orders_stuck</c>.
/// </summary>
public sealed class SweepMetrics
{
    public const string Group = "sweeps";

    static readonly double[] RunBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    readonly Counter<long> _runs;
    readonly Histogram<double> _duration;
    readonly Counter<long> _items;

    public SweepMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(OrderMetrics.MeterName);
        _runs = meter.CreateCounter<long>("sagas.sweep.runs", "{run}", "Runs of each sweep, by outcome (ok, failed)");
        _duration = meter.CreateHistogram("sagas.sweep.duration", "s", "How long each run of a sweep took",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RunBuckets });
        _items = meter.CreateCounter<long>("sagas.sweep.items", "{item}", "What the sweeps found and acted on, by sweep and result");
    }

    /// <summary>The label of a job: <c>expired-holds</c>, <c>reconciliation</c>, <c>reconciliation-report</c>, <c>stuck-orders</c>, <c>payment-poll</c>, <c>retention</c>.</summary>
    public static string Name(Type job) => job.Name switch
    {
        nameof(ExpiredHoldsSweep) => "expired-holds",
        nameof(UnsettledPaymentsSweep) => "reconciliation",
        nameof(ReconciliationReportSweep) => "reconciliation-report",
        nameof(StuckOrdersSweep) => "stuck-orders",
        nameof(PaymentStatusPoll) => "payment-poll",
        nameof(Retention.RetentionSweep) => "retention",
        var other => other,
    };

    internal void Found<TJob>(string result, long count)
    {
        if (count > 0)
            _items.Add(count, new KeyValuePair<string, object?>("sweep", Name(typeof(TJob))), new KeyValuePair<string, object?>("result", result));
    }

    internal void Ran(Type job, bool failed, TimeSpan took)
    {
        var sweep = new KeyValuePair<string, object?>("sweep", Name(job));
        _runs.Add(1, sweep, new KeyValuePair<string, object?>("outcome", failed ? "failed" : "ok"));
        _duration.Record(took.TotalSeconds, sweep);
    }
}

/// <summary>Reports every run of a job scheduled in the <see cref="SweepMetrics.Group"/> group to <see cref="SweepMetrics"/>.</summary>
public sealed class SweepRunListener(SweepMetrics metrics) : IJobListener
{
    public string Name => nameof(SweepRunListener);

    public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
    {
        if (context.Trigger.Key.Group == SweepMetrics.Group)
            metrics.Ran(context.JobDetail.JobType.Type, jobException is not null, context.JobRunTime);
        return ValueTask.CompletedTask;
    }
}
