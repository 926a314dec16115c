using MassTransit;
using Microsoft.Extensions.Options;
using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Ordering;

/// <summary>
/// One order from submission to exactly one final state (the transition table is in
/// <c>shared/design/architecture.md</c>, "The saga"). Stock is held, a QR payment requested and awaited (polled, and
/// reported by webhook, whichever comes first), then the order is placed; anything that goes wrong releases the stock
/// and refunds what was paid, at most once.
/// <para>
/// Final states (<c>Placed</c>, <c>Rejected</c>, <c>Expired</c>, <c>Canceled</c>, <c>Failed</c>) are ordinary states,
/// never the machine's <c>Final</c>: the row stays for support, a placed order can still be canceled by support, and
/// a payment that arrives after the order ended is refunded. Every message may come twice or out of order, so every
/// handler is safe to repeat and anything not handled in a state is ignored.
/// </para>
/// </summary>
public sealed class OrderStateMachine : MassTransitStateMachine<OrderState>
{
    const string LatePayment = "late-payment";

    readonly TimeProvider _clock;
    readonly OrderTimeline _timeline;

    public OrderStateMachine(IOptions<SagaTimings> options, TimeProvider clock, ILogger<OrderStateMachine> logger)
    {
        var timings = options.Value;
        _clock = clock;
        _timeline = new OrderTimeline(clock);
        ConnectStateObserver(_timeline);

        InstanceState(x => x.CurrentState);

        Event(() => SubmitOrder, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => CancelOrder, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockHeld, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockHoldRejected, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => StockReleased, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentRequested, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentStillPending, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentStatusCheckFaulted, x => x.CorrelateById(m => m.Message.Message.OrderId));
        Event(() => PaymentSucceeded, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentFailed, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentCanceled, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => PaymentRefunded, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => OrderPlaced, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => OrderPlacementFailed, x => x.CorrelateById(m => m.Message.OrderId));

        // The token id of the pending timer is kept on the order; a timer carrying any other token is stale and
        // dropped before it reaches a handler, and leaving AwaitingPayment clears both tokens.
        Schedule(() => PaymentWindow, x => x.PaymentWindowTokenId, s =>
        {
            s.Delay = timings.PaymentWindow;
            s.Received = r => r.CorrelateById(m => m.Message.OrderId);
        });
        Schedule(() => PaymentPoll, x => x.PaymentPollTokenId, s =>
        {
            s.Delay = timings.PollInterval;
            s.Received = r => r.CorrelateById(m => m.Message.OrderId);
        });

        OnUnhandledEvent(context =>
        {
            logger.LogDebug("Order {OrderId}: {Event} ignored in {State}", context.Saga.CorrelationId, context.Event.Name, context.CurrentState.Name);
            return context.Ignore();
        });

        Initially(
            When(SubmitOrder)
                .Then(context =>
                {
                    var order = context.Saga;
                    var submitted = context.Message;
                    order.CustomerId = submitted.CustomerId;
                    order.Currency = submitted.Currency;
                    order.Total = submitted.Total;
                    order.Lines = submitted.Lines.ToList();
                    order.CreatedAt = submitted.SubmittedAt == default ? Now : submitted.SubmittedAt.ToUniversalTime();
                    order.HoldUntil = Now + timings.EffectiveHoldTtl;
                })
                .Publish(context => new HoldStock
                {
                    OrderId = context.Saga.CorrelationId,
                    Lines = context.Saga.Lines.Select(l => new StockLine { Sku = l.Sku, Quantity = l.Quantity }).ToList(),
                    HoldUntil = context.Saga.HoldUntil!.Value,
                })
                .TransitionTo(Submitted));

        During(Submitted,
            When(StockHeld)
                .Then(context =>
                {
                    var order = context.Saga;
                    order.HoldUntil = context.Message.HeldUntil.ToUniversalTime();
                    order.PaymentStatus = PaymentStatus.Pending;
                    order.PaymentExpiresAt = Now + timings.PaymentWindow;
                })
                .Publish(context => new RequestPayment
                {
                    OrderId = context.Saga.CorrelationId,
                    Amount = context.Saga.Total,
                    Currency = context.Saga.Currency,
                    ExpiresAt = context.Saga.PaymentExpiresAt!.Value,
                })
                .Schedule(PaymentWindow, context => new PaymentWindowExpired { OrderId = context.Saga.CorrelationId })
                .Schedule(PaymentPoll, context => new PaymentPollDue { OrderId = context.Saga.CorrelationId })
                .TransitionTo(AwaitingPayment),
            When(StockHoldRejected)
                .Then(context => context.Saga.FailureReason = OrderFailureReasons.InsufficientStock)
                .TransitionTo(Rejected),
            When(CancelOrder)
                .Then(MarkCanceled)
                .Publish(ReleaseStockFor)
                .TransitionTo(Compensating));

        During(AwaitingPayment,
            When(PaymentRequested, context => context.Saga.ProviderReference is null)
                .Then(context =>
                {
                    var order = context.Saga;
                    order.ProviderReference = context.Message.ProviderReference;
                    order.QrPayload = context.Message.QrPayload;
                    order.PaymentExpiresAt = context.Message.ExpiresAt.ToUniversalTime();
                    _timeline.Note(context, $"QR ready: provider reference {order.ProviderReference}, " +
                                            $"expires {OrderTimeline.Time(order.PaymentExpiresAt)}");
                }),
            When(PaymentPoll.Received, context => context.Saga.ProviderReference is not null)
                .Publish(context => new CheckPaymentStatus
                {
                    OrderId = context.Saga.CorrelationId,
                    ProviderReference = context.Saga.ProviderReference!,
                }),
            // Nothing to ask about before the QR exists: try again next tick.
            When(PaymentPoll.Received, context => context.Saga.ProviderReference is null)
                .Schedule(PaymentPoll, NextPoll),
            // The next tick is scheduled only once the previous check was answered, so a slow provider never has
            // checks piling up. A check that faulted for good is answered by its Fault, or polling would stop.
            When(PaymentStillPending)
                .Schedule(PaymentPoll, NextPoll),
            When(PaymentStatusCheckFaulted)
                .Then(context => logger.LogWarning("Order {OrderId}: payment status check faulted; polling again in {Interval}",
                    context.Saga.CorrelationId, timings.PollInterval))
                .Schedule(PaymentPoll, NextPoll),
            When(PaymentSucceeded, PaidAsOrdered)
                .Then(context =>
                {
                    var order = context.Saga;
                    order.ProviderReference ??= context.Message.ProviderReference;
                    order.PaymentStatus = PaymentStatus.Succeeded;
                    order.PaidAmount = context.Message.Amount;
                })
                .Unschedule(PaymentWindow)
                .Unschedule(PaymentPoll)
                .Publish(context => new PlaceOrder
                {
                    OrderId = context.Saga.CorrelationId,
                    ProviderReference = context.Saga.ProviderReference!,
                    PaidAmount = context.Saga.PaidAmount!.Value,
                    Currency = context.Saga.Currency,
                })
                .TransitionTo(Placing),
            // Never place an order for the wrong money: give back what was actually paid.
            When(PaymentSucceeded, context => !PaidAsOrdered(context))
                .Then(context =>
                {
                    var order = context.Saga;
                    order.ProviderReference ??= context.Message.ProviderReference;
                    order.PaymentStatus = PaymentStatus.Succeeded;
                    order.PaidAmount = context.Message.Amount;
                    order.FailureReason = OrderFailureReasons.AmountMismatch;
                    order.RefundRequestedAt = Now;
                })
                .Unschedule(PaymentWindow)
                .Unschedule(PaymentPoll)
                .Publish(context => new RefundPayment
                {
                    OrderId = context.Saga.CorrelationId,
                    ProviderReference = context.Message.ProviderReference,
                    Amount = context.Message.Amount,
                    Currency = context.Message.Currency,
                    Reason = OrderFailureReasons.AmountMismatch,
                })
                .Publish(ReleaseStockFor)
                .TransitionTo(Compensating),
            When(PaymentFailed)
                .Then(context =>
                {
                    var order = context.Saga;
                    order.ProviderReference ??= context.Message.ProviderReference;
                    order.PaymentStatus = PaymentStatus.Failed;
                    order.FailureReason = OrderFailureReasons.PaymentFailed;
                })
                .Unschedule(PaymentWindow)
                .Unschedule(PaymentPoll)
                .If(context => context.Saga.ProviderReference is not null, x => x.Publish(CancelPaymentFor))
                .Publish(ReleaseStockFor)
                .TransitionTo(Failed),
            When(PaymentWindow.Received)
                .Then(context =>
                {
                    context.Saga.PaymentStatus = PaymentStatus.Expired;
                    context.Saga.FailureReason = OrderFailureReasons.PaymentExpired;
                })
                .Unschedule(PaymentPoll)
                .If(context => context.Saga.ProviderReference is not null, x => x.Publish(CancelPaymentFor))
                .Publish(ReleaseStockFor)
                .TransitionTo(Expired),
            When(CancelOrder)
                .Then(MarkCanceled)
                .Then(context => context.Saga.PaymentStatus = PaymentStatus.Canceled)
                .Unschedule(PaymentWindow)
                .Unschedule(PaymentPoll)
                .If(context => context.Saga.ProviderReference is not null, x => x.Publish(CancelPaymentFor))
                .Publish(ReleaseStockFor)
                .TransitionTo(Compensating));

        During(Placing,
            When(OrderPlaced)
                .Then(context => context.Saga.PlacedAt = context.Message.PlacedAt.ToUniversalTime())
                .TransitionTo(Placed),
            When(OrderPlacementFailed)
                .Then(context =>
                {
                    context.Saga.FailureReason = OrderFailureReasons.All.Contains(context.Message.Reason)
                        ? context.Message.Reason
                        : OrderFailureReasons.HoldExpired;
                    context.Saga.RefundRequestedAt = Now;
                })
                .Publish(context => RefundOf(context.Saga, context.Saga.FailureReason!))
                .Publish(ReleaseStockFor)
                .TransitionTo(Compensating),
            // Not placed yet, so either requester may cancel. Placement may still win the race: the release
            // returns committed stock as well as held stock.
            When(CancelOrder)
                .Then(MarkCanceled)
                .Then(context => context.Saga.RefundRequestedAt = Now)
                .Publish(context => RefundOf(context.Saga, OrderFailureReasons.Canceled))
                .Publish(ReleaseStockFor)
                .TransitionTo(Compensating),
            Ignore(PaymentSucceeded));

        During(Placed,
            When(CancelOrder, context => context.Message.RequestedBy == CancelRequesters.Support)
                .Then(MarkCanceled)
                .Then(context => context.Saga.RefundRequestedAt = Now)
                .Publish(context => RefundOf(context.Saga, OrderFailureReasons.Canceled))
                .Publish(ReleaseStockFor)
                .TransitionTo(Compensating),
            When(CancelOrder, context => context.Message.RequestedBy != CancelRequesters.Support)
                .Then(context => _timeline.Note(context, $"ignored: {context.Message.RequestedBy} may not cancel a placed order")),
            Ignore(PaymentSucceeded));

        // Compensating ends when the stock is back and, if a refund was asked for, the refund is confirmed
        // (tracked with StockReleasedAt / RefundRequestedAt / RefundedAt rather than a composite event, because
        // whether a refund is awaited is only known at run time: a late payment can add one while compensating).
        During(Compensating,
            When(StockReleased)
                .Then(context => context.Saga.StockReleasedAt ??= Now)
                .IfElse(IsCompensated,
                    x => x.IfElse(WasCanceled, c => c.TransitionTo(Canceled), f => f.TransitionTo(Failed)),
                    x => x.Then(context => _timeline.Note(context, "stock released; waiting for the refund"))),
            When(PaymentRefunded)
                .Then(RecordRefund)
                .IfElse(IsCompensated,
                    x => x.IfElse(WasCanceled, c => c.TransitionTo(Canceled), f => f.TransitionTo(Failed)),
                    x => x.Then(context => _timeline.Note(context,
                        $"refund {context.Message.RefundId} of {OrderTimeline.Money(context.Message.Amount, context.Saga.Currency)} confirmed; " +
                        "waiting for the stock release"))),
            When(PaymentSucceeded, context => context.Saga.RefundRequestedAt is null)
                .Then(RecordLatePayment)
                .Publish(LateRefundFor),
            When(OrderPlaced)
                .Then(context => _timeline.Note(context, "placed while being compensated; the release returns the committed stock")),
            When(StockHeld)
                .Then(context => _timeline.Note(context, "stock held after the cancel; releasing it again"))
                .Publish(ReleaseStockFor),
            When(PaymentRequested, context => context.Saga.ProviderReference is null)
                .Then(RecordPaymentRequestedAfterTheEnd)
                .Publish(CancelPaymentFor),
            When(PaymentCanceled)
                .Then(context => _timeline.Note(context, "payment canceled at the provider")),
            When(CancelOrder)
                .Then(context => _timeline.Note(context, $"ignored ({context.Message.RequestedBy}): already being compensated")));

        During(Rejected, Expired, Canceled, Failed,
            // A payment that can no longer lead to a placed order: refund it, once, whatever reports it again.
            When(PaymentSucceeded, context => context.Saga.RefundRequestedAt is null)
                .Then(RecordLatePayment)
                .Publish(LateRefundFor),
            When(PaymentRefunded)
                .Then(RecordRefund)
                .Then(context => _timeline.Note(context,
                    $"refund {context.Message.RefundId} of {context.Message.Amount:0.00} confirmed")),
            // The QR payment was created after we gave up on it: withdraw it too.
            When(PaymentRequested, context => context.Saga.ProviderReference is null)
                .Then(RecordPaymentRequestedAfterTheEnd)
                .Publish(CancelPaymentFor),
            When(PaymentCanceled)
                .Then(context => _timeline.Note(context, "payment canceled at the provider")),
            When(StockReleased)
                .Then(context => context.Saga.StockReleasedAt ??= Now)
                .Then(context => _timeline.Note(context, "stock released")),
            When(CancelOrder)
                .Then(context => _timeline.Note(context, $"ignored ({context.Message.RequestedBy}): the order is already {context.Saga.CurrentState}")));

        // A cancel in Submitted may overtake the hold: its release can run before the hold exists. The hold's
        // late StockHeld then releases again (ReleaseStock is idempotent on hold status).
        During(Canceled,
            When(StockHeld)
                .Then(context => _timeline.Note(context, "stock held after the cancel; releasing it again"))
                .Publish(ReleaseStockFor));

        DuringAny(Ignore(SubmitOrder));
    }

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
    public Event<StockHeld> StockHeld { get; private set; } = null!;
    public Event<StockHoldRejected> StockHoldRejected { get; private set; } = null!;
    public Event<StockReleased> StockReleased { get; private set; } = null!;
    public Event<PaymentRequested> PaymentRequested { get; private set; } = null!;
    public Event<PaymentStillPending> PaymentStillPending { get; private set; } = null!;
    public Event<Fault<CheckPaymentStatus>> PaymentStatusCheckFaulted { get; private set; } = null!;
    public Event<PaymentSucceeded> PaymentSucceeded { get; private set; } = null!;
    public Event<PaymentFailed> PaymentFailed { get; private set; } = null!;
    public Event<PaymentCanceled> PaymentCanceled { get; private set; } = null!;
    public Event<PaymentRefunded> PaymentRefunded { get; private set; } = null!;
    public Event<OrderPlaced> OrderPlaced { get; private set; } = null!;
    public Event<OrderPlacementFailed> OrderPlacementFailed { get; private set; } = null!;

    public Schedule<OrderState, PaymentWindowExpired> PaymentWindow { get; private set; } = null!;
    public Schedule<OrderState, PaymentPollDue> PaymentPoll { get; private set; } = null!;

    DateTimeOffset Now => _clock.GetUtcNow();

    static bool PaidAsOrdered(BehaviorContext<OrderState, PaymentSucceeded> context) =>
        context.Message.Amount == context.Saga.Total &&
        string.Equals(context.Message.Currency, context.Saga.Currency, StringComparison.OrdinalIgnoreCase);

    static bool IsCompensated(BehaviorContext<OrderState> context) =>
        context.Saga.StockReleasedAt is not null && (context.Saga.RefundRequestedAt is null || context.Saga.RefundedAt is not null);

    static bool WasCanceled(BehaviorContext<OrderState> context) => context.Saga.FailureReason == OrderFailureReasons.Canceled;

    static void MarkCanceled(BehaviorContext<OrderState, CancelOrder> context)
    {
        context.Saga.FailureReason = OrderFailureReasons.Canceled;
        context.Saga.CanceledBy = context.Message.RequestedBy;
    }

    void RecordLatePayment(BehaviorContext<OrderState, PaymentSucceeded> context)
    {
        var order = context.Saga;
        var payment = context.Message;
        order.ProviderReference ??= payment.ProviderReference;
        order.PaymentStatus = PaymentStatus.Succeeded;
        order.PaidAmount = payment.Amount;
        order.RefundRequestedAt = Now;
        _timeline.Note(context, $"late payment of {OrderTimeline.Money(payment.Amount, payment.Currency)} ({payment.Source}); refund requested");
    }

    void RecordRefund(BehaviorContext<OrderState, PaymentRefunded> context)
    {
        context.Saga.RefundId = context.Message.RefundId;
        context.Saga.RefundedAt ??= Now;
        context.Saga.PaymentStatus = PaymentStatus.Refunded;
    }

    void RecordPaymentRequestedAfterTheEnd(BehaviorContext<OrderState, PaymentRequested> context)
    {
        context.Saga.ProviderReference = context.Message.ProviderReference;
        _timeline.Note(context, $"QR payment {context.Message.ProviderReference} created after the order ended; canceling it");
    }

    static PaymentPollDue NextPoll(BehaviorContext<OrderState> context) => new() { OrderId = context.Saga.CorrelationId };

    static ReleaseStock ReleaseStockFor(BehaviorContext<OrderState> context) => new()
    {
        OrderId = context.Saga.CorrelationId,
        Reason = context.Saga.FailureReason ?? OrderFailureReasons.Canceled,
    };

    static CancelPayment CancelPaymentFor(BehaviorContext<OrderState> context) => new()
    {
        OrderId = context.Saga.CorrelationId,
        ProviderReference = context.Saga.ProviderReference!,
    };

    static RefundPayment RefundOf(OrderState order, string reason) => new()
    {
        OrderId = order.CorrelationId,
        ProviderReference = order.ProviderReference!,
        Amount = order.PaidAmount ?? order.Total,
        Currency = order.Currency,
        Reason = reason,
    };

    static RefundPayment LateRefundFor(BehaviorContext<OrderState, PaymentSucceeded> context) => new()
    {
        OrderId = context.Saga.CorrelationId,
        ProviderReference = context.Message.ProviderReference,
        Amount = context.Message.Amount,
        Currency = context.Message.Currency,
        Reason = LatePayment,
    };
}
