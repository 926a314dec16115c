using MassTransit;
using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Ordering;

/// <summary>The order saga's states, events, timers and the facts it records; the flow is in OrderStateMachine.cs.</summary>
public sealed partial class OrderStateMachine
{
    internal const string LatePayment = "late-payment";

    readonly SagaTimings _timings;
    readonly TimeProvider _clock;
    readonly OrderTimeline _timeline;
    readonly OrderMetrics? _metrics;

    public State Submitted { get; private set; } = null!;
    public State AwaitingPayment { get; private set; } = null!;
    public State Placing { get; private set; } = null!;
    public State Compensating { get; private set; } = null!;
    public State Placed { get; private set; } = null!;
    public State Rejected { get; private set; } = null!;
    public State Expired { get; private set; } = null!;
    public State Canceled { get; private set; } = null!;
    public State Failed { get; private set; } = null!;

    public Event<SubmitOrder> SubmitOrder { get; private set; } = null!;
    public Event<CancelOrder> CancelOrder { get; private set; } = null!;
    public Event<RetryCompensation> RetryCompensation { get; private set; } = null!;
    public Event<StockHeld> StockHeld { get; private set; } = null!;
    public Event<StockHoldRejected> StockHoldRejected { get; private set; } = null!;
    public Event<StockHoldOverdue> StockHoldOverdue { get; private set; } = null!;
    public Event<StockReleased> StockReleased { get; private set; } = null!;
    public Event<StockCommitted> StockCommitted { get; private set; } = null!;
    public Event<OrderPlacementFailed> OrderPlacementFailed { get; private set; } = null!;
    public Event<PaymentRequested> PaymentRequested { get; private set; } = null!;
    /// <summary>Reconciliation's answer for a payment still open; nothing to do (ignored).</summary>
    public Event<PaymentStillPending> PaymentStillPending { get; private set; } = null!;
    public Event<PaymentSucceeded> PaymentSucceeded { get; private set; } = null!;
    public Event<PaymentFailed> PaymentFailed { get; private set; } = null!;
    public Event<PaymentCanceled> PaymentCanceled { get; private set; } = null!;
    public Event<PaymentRefunded> PaymentRefunded { get; private set; } = null!;

    // Steps that failed for good after their consumer's own retries.
    /// <summary>Reconciliation's check faulted; it asks again by itself (ignored).</summary>
    public Event<Fault<CheckPaymentStatus>> PaymentStatusCheckFaulted { get; private set; } = null!;
    public Event<Fault<RequestPayment>> PaymentRequestFaulted { get; private set; } = null!;
    public Event<Fault<RefundPayment>> RefundFaulted { get; private set; } = null!;
    public Event<Fault<CancelPayment>> CancelPaymentFaulted { get; private set; } = null!;
    public Event<Fault<ReleaseStock>> ReleaseFaulted { get; private set; } = null!;
    public Event<Fault<PlaceOrder>> PlacementFaulted { get; private set; } = null!;
    public Event<Fault<HoldStock>> HoldFaulted { get; private set; } = null!;

    /// <summary>The QR's deadline (plus grace); while placing, the placement's watchdog.</summary>
    public Schedule<OrderState, PaymentWindowExpired> PaymentWindow { get; private set; } = null!;

    /// <summary>
    /// The per-order payment poll of earlier versions, replaced by the Workers' PaymentStatusPoll (one provider listing
    /// per tick for every order). Still declared so that a timer armed before the upgrade is unscheduled when its order
    /// moves on, or ignored when it fires; never armed any more.
    /// </summary>
    public Schedule<OrderState, PaymentPollDue> PaymentPoll { get; private set; } = null!;

    /// <summary>Re-issues whatever the saga asked for and has not heard back about.</summary>
    public Schedule<OrderState, PendingWorkDue> PendingWork { get; private set; } = null!;

    internal DateTimeOffset Now => _clock.GetUtcNow();
    internal SagaTimings Timings => _timings;
    internal OrderTimeline Timeline => _timeline;
    internal OrderMetrics? Metrics => _metrics;

    /// <summary>Every transition gets its timeline entry and, where the saga is measured (null in most specs), its metrics.</summary>
    void ConnectObservers()
    {
        ConnectStateObserver(_timeline);
        if (_metrics is not null)
            ConnectStateObserver(_metrics);
    }

    void DeclareEvents()
    {
        Event(() => SubmitOrder, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => CancelOrder, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => RetryCompensation, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockHeld, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockHoldRejected, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockHoldOverdue, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockReleased, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockCommitted, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => OrderPlacementFailed, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentRequested, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentStillPending, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentSucceeded, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentFailed, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentCanceled, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentRefunded, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentStatusCheckFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => PaymentRequestFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => RefundFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => CancelPaymentFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => ReleaseFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => PlacementFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => HoldFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));

        // The token id of each pending timer is kept on the order; a timer carrying any other token is stale and
        // dropped before it reaches a handler.
        Schedule(() => PaymentWindow, x => x.PaymentWindowTokenId, s =>
        {
            s.Delay = _timings.PaymentWindow + _timings.PaymentGrace;
            s.Received = r => r.CorrelateById(m => m.Message.OrderId);
        });
        Schedule(() => PaymentPoll, x => x.PaymentPollTokenId, s =>
        {
            s.Delay = _timings.PollInterval;
            s.Received = r => r.CorrelateById(m => m.Message.OrderId);
        });
        Schedule(() => PendingWork, x => x.PendingWorkTokenId, s =>
        {
            s.Delay = _timings.PendingWorkRetry;
            s.Received = r => r.CorrelateById(m => m.Message.OrderId);
        });
    }

    // ---- what is awaited ----------------------------------------------------------------------------------------

    internal static bool RefundPending(OrderState order) => order.RefundRequestedAt is not null && order.RefundedAt is null;
    internal static bool CancelPending(OrderState order) => order.PaymentCancelRequestedAt is not null && order.PaymentClosedAt is null;
    internal static bool ReleasePending(OrderState order) => order.ReleaseRequestedAt is not null && order.StockReleasedAt is null;

    internal bool HasPendingWork(BehaviorContext<OrderState> context) => PendingSteps(context.Saga).Any();

    /// <summary>Every step the order waits for, by name: what support reads and what a retry issues again.</summary>
    internal IEnumerable<string> PendingSteps(OrderState order)
    {
        if (order.CurrentState == Submitted.Name)
            yield return "stock hold";
        if (order.CurrentState == Placing.Name)
            yield return "placement";
        if (CancelPending(order))
            yield return "QR withdrawal";
        if (RefundPending(order))
            yield return "refund";
        if (ReleasePending(order))
            yield return "stock release";
    }

    internal string DescribePendingWork(OrderState order) => string.Join(", ", PendingSteps(order));

    /// <summary>Compensation is over when the stock is back and neither a refund nor a QR withdrawal is awaited.</summary>
    internal static bool IsCompensated(BehaviorContext<OrderState> context) =>
        context.Saga.StockReleasedAt is not null && !RefundPending(context.Saga) && !CancelPending(context.Saga);

    internal static bool WasCanceled(BehaviorContext<OrderState> context) => context.Saga.FailureReason == OrderFailureReasons.Canceled;

    static bool PaidAsOrdered(BehaviorContext<OrderState, PaymentSucceeded> context) =>
        context.Message.Amount == context.Saga.Total &&
        string.Equals(context.Message.Currency, context.Saga.Currency, StringComparison.OrdinalIgnoreCase);

    /// <summary>When the saga asks the provider to withdraw an unpaid QR code: its deadline plus the grace.</summary>
    DateTimeOffset DeadlineWithGrace(OrderState order) => order.PaymentExpiresAt!.Value + _timings.PaymentGrace;

    /// <summary>Whether the step an attention flag is about is no longer awaited.</summary>
    internal bool AttentionResolved(OrderState order) => order.AttentionReason switch
    {
        AttentionReasons.RefundRefused => !RefundPending(order),
        AttentionReasons.CancelRefused => !CancelPending(order),
        AttentionReasons.PlacementStuck => order.CurrentState != Placing.Name,
        AttentionReasons.HoldStuck => order.CurrentState != Submitted.Name,
        _ => !CancelPending(order) && !RefundPending(order) && !ReleasePending(order),
    };

    /// <summary>The attention reason for a step that keeps failing, by what the order waits for.</summary>
    internal string StuckReason(OrderState order) =>
        order.CurrentState == Submitted.Name ? AttentionReasons.HoldStuck
        : order.CurrentState == Placing.Name ? AttentionReasons.PlacementStuck
        : AttentionReasons.CompensationStuck;

    /// <summary>Flags the order for support (kept until nothing is pending); the first flag's time is kept.</summary>
    internal void FlagForAttention(BehaviorContext<OrderState> context, string reason, string detail)
    {
        var order = context.Saga;
        order.AttentionSince ??= Now;
        order.AttentionReason = reason;
        order.AttentionDetail = detail.Length > 500 ? detail[..500] : detail;
        _timeline.Note(context, $"needs attention ({reason}): {order.AttentionDetail}");
        _metrics?.AttentionFlagged(context, reason);
    }

    // ---- what is recorded ---------------------------------------------------------------------------------------

    void RecordSubmission(BehaviorContext<OrderState, SubmitOrder> context)
    {
        var order = context.Saga;
        var submitted = context.Message;
        order.CustomerId = submitted.CustomerId;
        order.Currency = submitted.Currency;
        order.Total = submitted.Total;
        order.Lines = submitted.Lines.ToList();
        order.CreatedAt = submitted.SubmittedAt == default ? Now : submitted.SubmittedAt.ToUniversalTime();
    }

    static void MarkCanceled(BehaviorContext<OrderState, CancelOrder> context)
    {
        context.Saga.FailureReason = OrderFailureReasons.Canceled;
        context.Saga.CanceledBy = context.Message.RequestedBy;
    }

    void RecordQr(BehaviorContext<OrderState, PaymentRequested> context)
    {
        var order = context.Saga;
        order.ProviderReference = context.Message.ProviderReference;
        order.QrPayload = context.Message.QrPayload;
        order.PaymentExpiresAt = context.Message.ExpiresAt.ToUniversalTime();
        _timeline.Note(context, $"QR ready: provider reference {order.ProviderReference}, expires {OrderTimeline.Time(order.PaymentExpiresAt)}");
        _metrics?.QrReady(context);
    }

    void RecordCapture(BehaviorContext<OrderState, PaymentSucceeded> context)
    {
        var order = context.Saga;
        var payment = context.Message;
        order.ProviderReference ??= payment.ProviderReference;
        order.PaymentStatus = PaymentStatus.Succeeded;
        order.PaidAmount = payment.Amount;
        order.PaidCurrency = payment.Currency;
        order.PaidAt = payment.PaidAt == default ? Now : payment.PaidAt.ToUniversalTime();
        order.PaymentClosedAt ??= Now;
    }

    void RecordLatePayment(BehaviorContext<OrderState, PaymentSucceeded> context)
    {
        RecordCapture(context);
        _timeline.Note(context, $"late payment of {OrderTimeline.Money(context.Message.Amount, context.Message.Currency)} " +
                                $"({context.Message.Source}); refund requested");
        _metrics?.LatePayment(context);
    }

    void RecordRefund(BehaviorContext<OrderState, PaymentRefunded> context)
    {
        if (context.Message.RefundId is { Length: > 0 } refundId)
            context.Saga.RefundId = refundId;
        context.Saga.RefundedAt ??= Now;
        context.Saga.PaymentStatus = PaymentStatus.Refunded;
        _metrics?.RefundConfirmed(context);
    }

    /// <summary>The provider says the QR code can no longer be paid: recorded, unless money was taken meanwhile.</summary>
    void RecordWithdrawal(BehaviorContext<OrderState, PaymentCanceled> context, PaymentStatus status)
    {
        context.Saga.PaymentClosedAt ??= Now;
        if (context.Saga.PaymentStatus is not (PaymentStatus.Succeeded or PaymentStatus.Refunded))
            context.Saga.PaymentStatus = status;
    }

    void RecordPaymentRequestedAfterTheEnd(BehaviorContext<OrderState, PaymentRequested> context)
    {
        context.Saga.ProviderReference = context.Message.ProviderReference;
        context.Saga.PaymentExpiresAt = context.Message.ExpiresAt.ToUniversalTime();
        _timeline.Note(context, $"QR payment {context.Message.ProviderReference} created after the order ended; withdrawing it");
    }
}
