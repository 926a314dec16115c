using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;
using Sagas.Data.Ordering;
using Sagas.Messaging.Inbox;

namespace Sagas.Workers.Ordering;

/// <summary>
/// What the order saga did, as metrics (meter <c>Sagas.Workers</c>): every transition, the time from the Api's
/// acceptance to the QR code and to each final state, outcomes by failure reason, refunds, late payments and attention
/// flags. Connected to the state machine as a state observer (transitions) and called by its handlers for the rest.
/// <para>
/// Recorded only once the saga's transaction has committed (<see cref="AfterCommit"/>): a pass rolled back and retried
/// counts once. Labels are states, events and reasons, never an order id. Times are measured on this process's clock
/// from <see cref="OrderState.CreatedAt"/>, the Api's.
/// </para>
/// </summary>
public sealed class OrderMetrics : IStateObserver<OrderState>
{
    public const string MeterName = "Sagas.Workers";

    /// <summary>Milliseconds normally; the quality bar's 5 s p99 sits on a boundary; minutes when the provider is away.</summary>
    static readonly double[] QrBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300];

    /// <summary>Seconds for a quick payment, the 2-minute payment window plus grace for an expiry, up to hours for compensation.</summary>
    static readonly double[] FinalBuckets = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 180, 300, 600, 1800, 3600, 7200];

    readonly TimeProvider _clock;
    readonly Counter<long> _transitions;
    readonly Histogram<double> _timeToQr;
    readonly Histogram<double> _timeToFinal;
    readonly Counter<long> _outcomes;
    readonly Counter<long> _refundsRequested;
    readonly Counter<long> _refundsConfirmed;
    readonly Counter<long> _latePayments;
    readonly Counter<long> _attention;

    public OrderMetrics(IMeterFactory meters, TimeProvider clock)
    {
        _clock = clock;
        var meter = meters.Create(MeterName);
        _transitions = meter.CreateCounter<long>("sagas.order.transitions", "{transition}",
            "Order state transitions by from, to and the event that caused them (from=Initial: the order's creation)");
        _timeToQr = meter.CreateHistogram("sagas.order.time_to_qr", "s", "From the Api accepting an order to its QR code being ready",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = QrBuckets });
        _timeToFinal = meter.CreateHistogram("sagas.order.time_to_final_state", "s",
            "From the Api accepting an order to its reaching a final state (each final state it reaches counts)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FinalBuckets });
        _outcomes = meter.CreateCounter<long>("sagas.order.outcomes", "{order}",
            "Orders reaching a final state, by state and failure reason (reason=none for Placed)");
        _refundsRequested = meter.CreateCounter<long>("sagas.order.refunds.requested", "{refund}", "Refunds the saga asked for, by reason");
        _refundsConfirmed = meter.CreateCounter<long>("sagas.order.refunds.confirmed", "{refund}", "Refunds confirmed by the provider");
        _latePayments = meter.CreateCounter<long>("sagas.order.late_payments", "{payment}",
            "Payments reported after the order could no longer be placed (refunded)");
        _attention = meter.CreateCounter<long>("sagas.order.attention.flagged", "{flag}", "Orders flagged for support, by reason");
    }

    public Task StateChanged(BehaviorContext<OrderState> context, State currentState, State? previousState)
    {
        // The saga's implicit first step (no state → Initial) is no transition of the order.
        if (previousState is null)
            return Task.CompletedTask;

        var to = currentState.Name;
        TagList transition = new() { { "from", previousState.Name }, { "to", to }, { "event", OrderTimeline.EventName(context) } };
        var final = OrderStatuses.IsFinal(to);
        TagList state = new() { { "state", to } };
        TagList outcome = new() { { "state", to }, { "reason", context.Saga.FailureReason ?? "none" } };
        var elapsed = SinceAccepted(context.Saga);
        AfterCommit.Run(context, () =>
        {
            _transitions.Add(1, transition);
            if (!final)
                return;
            _outcomes.Add(1, outcome);
            _timeToFinal.Record(elapsed, state);
        });
        return Task.CompletedTask;
    }

    internal void QrReady(BehaviorContext<OrderState> context)
    {
        var elapsed = SinceAccepted(context.Saga);
        AfterCommit.Run(context, () => _timeToQr.Record(elapsed));
    }

    internal void RefundRequested(BehaviorContext<OrderState> context, string? reason) =>
        AfterCommit.Run(context, () => _refundsRequested.Add(1, new KeyValuePair<string, object?>("reason", reason ?? "unknown")));

    internal void RefundConfirmed(BehaviorContext<OrderState> context) => AfterCommit.Run(context, () => _refundsConfirmed.Add(1));

    internal void LatePayment(BehaviorContext<OrderState> context) => AfterCommit.Run(context, () => _latePayments.Add(1));

    internal void AttentionFlagged(BehaviorContext<OrderState> context, string reason) =>
        AfterCommit.Run(context, () => _attention.Add(1, new KeyValuePair<string, object?>("reason", reason)));

    double SinceAccepted(OrderState order) => Math.Max(0, (_clock.GetUtcNow() - order.CreatedAt).TotalSeconds);
}
