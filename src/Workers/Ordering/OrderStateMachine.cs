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
/// Two promises shape it. <b>Paid in time means placed</b>: the customer's deadline is the QR's <c>expiresAt</c> as
/// the provider states it; when it has passed (plus <c>Saga:PaymentGrace</c>) the saga asks the provider to withdraw
/// the QR code and keeps the stock until the provider answers — withdrawn, the order expires; paid meanwhile, it is
/// placed. <b>A cancel answered 202 holds</b>: whenever it arrives (before the submission, while placing, after
/// placement) the order ends <c>Canceled</c>, its money refunded and its stock back.
/// </para>
/// <para>
/// Whatever the saga asks for and has not heard back about (placement, refund, QR withdrawal, stock release) is kept
/// on the order and asked for again by the <see cref="PendingWork"/> timer, with a growing delay, for as long as it
/// takes; when it keeps failing the order is flagged for support (<c>attention</c>).
/// </para>
/// <para>
/// Final states are ordinary states, never the machine's <c>Final</c>: the row stays for support, a placed order can
/// still be canceled, and a payment that arrives after the order ended is refunded. Every message may come twice or
/// out of order, so every handler is safe to repeat and anything not handled in a state is ignored.
/// </para>
/// </summary>
public sealed partial class OrderStateMachine : MassTransitStateMachine<OrderState>
{
    public OrderStateMachine(IOptions<SagaTimings> options, TimeProvider clock, ILogger<OrderStateMachine> logger, OrderMetrics? metrics = null)
    {
        _timings = options.Value;
        _clock = clock;
        _timeline = new OrderTimeline(clock);
        _metrics = metrics;
        ConnectObservers();
        InstanceState(x => x.CurrentState);
        DeclareEvents();
        OnUnhandledEvent(context =>
        {
            logger.LogDebug("Order {OrderId}: {Event} ignored in {State}", context.Saga.CorrelationId, context.Event.Name, context.CurrentState.Name);
            return context.Ignore();
        });

        Initially(
            When(SubmitOrder)
                .Then(RecordSubmission)
                .Publish(c => OrderCommands.HoldStock(c.Saga, _timings))
                .TransitionTo(Submitted),
            // The cancel overtook the submission: the order is canceled before anything was held or asked for.
            When(CancelOrder)
                .Then(c => c.Saga.CreatedAt = Now)
                .Then(MarkCanceled)
                .TransitionTo(Canceled));

        During(Submitted,
            When(StockHeld)
                .Then(c =>
                {
                    c.Saga.HoldUntil = c.Message.HeldUntil.ToUniversalTime();
                    c.Saga.PaymentStatus = PaymentStatus.Pending;
                })
                .Publish(c => OrderCommands.RequestPayment(c.Saga, _timings))
                // Until the QR's own deadline is known, a QR code that never comes ends the order at window + grace.
                .Schedule(PaymentWindow, c => OrderCommands.PaymentWindowExpired(c.Saga), _ => _timings.PaymentWindow + _timings.PaymentGrace)
                .TransitionTo(AwaitingPayment)
                .TrackPendingWork(this),
            When(StockHoldRejected)
                .Then(c => c.Saga.FailureReason = OrderFailureReasons.InsufficientStock)
                .TransitionTo(Rejected)
                .TrackPendingWork(this),
            When(CancelOrder)
                .Then(MarkCanceled)
                .ReleaseStock(this)
                .TransitionTo(Compensating)
                .TrackPendingWork(this),
            When(StockHoldOverdue)
                .Then(c => _timeline.Note(c, "hold reported overdue before the saga heard it was made; waiting for it")));

        During(AwaitingPayment,
            When(PaymentRequested, c => c.Saga.ProviderReference is null)
                .Then(RecordQr),
            // Paid while we still hold the stock: placed, whichever of webhook, poll or withdrawal brought the news and
            // whenever it came. The deadline timer stays armed as the placement's watchdog.
            When(PaymentSucceeded, PaidAsOrdered)
                .Then(RecordCapture)
                .Unschedule(PaymentPoll)
                .Publish(c => OrderCommands.PlaceOrder(c.Saga))
                .TransitionTo(Placing)
                .TrackPendingWork(this),
            // Never place an order for the wrong money: give back what was actually paid.
            When(PaymentSucceeded, c => !PaidAsOrdered(c))
                .Then(RecordCapture)
                .Then(c => c.Saga.FailureReason = OrderFailureReasons.AmountMismatch)
                .StopPaymentTimers(this)
                .RequestRefund(OrderFailureReasons.AmountMismatch, this)
                .ReleaseStock(this)
                .TransitionTo(Compensating)
                .TrackPendingWork(this),
            When(PaymentFailed)
                .Then(c =>
                {
                    c.Saga.ProviderReference ??= c.Message.ProviderReference;
                    c.Saga.PaymentStatus = PaymentStatus.Failed;
                    c.Saga.PaymentClosedAt ??= Now;
                    c.Saga.FailureReason = OrderFailureReasons.PaymentFailed;
                })
                .StopPaymentTimers(this)
                .ReleaseStock(this)
                .TransitionTo(Failed)
                .TrackPendingWork(this),
            // No QR code ever reached the customer: nothing can have been paid, so the order expires now (a QR code
            // created later is withdrawn on arrival).
            When(PaymentWindow.Received, c => c.Saga.ProviderReference is null)
                .ExpireUnpaid(this),
            // The QR code came late: its own deadline counts.
            When(PaymentWindow.Received, c => c.Saga.ProviderReference is not null && Now < DeadlineWithGrace(c.Saga))
                .Schedule(PaymentWindow, c => OrderCommands.PaymentWindowExpired(c.Saga), c => DeadlineWithGrace(c.Saga) - Now),
            When(PaymentWindow.Received, c => c.Saga.ProviderReference is not null && Now >= DeadlineWithGrace(c.Saga))
                .WithdrawQr(this, "not paid by the deadline"),
            When(StockHoldOverdue, c => c.Saga.ProviderReference is null)
                .Unschedule(PaymentWindow)
                .ExpireUnpaid(this),
            When(StockHoldOverdue, c => c.Saga.ProviderReference is not null && c.Saga.PaymentCancelRequestedAt is null)
                .Unschedule(PaymentWindow)
                .WithdrawQr(this, "the stock hold ran out"),
            // The provider confirms nobody can pay the QR code any more: only now does the order expire.
            When(PaymentCanceled)
                .Then(c => RecordWithdrawal(c, c.Message.Status == "failed" ? PaymentStatus.Failed : PaymentStatus.Expired))
                .Then(c => c.Saga.FailureReason = c.Message.Status == "failed" ? OrderFailureReasons.PaymentFailed : OrderFailureReasons.PaymentExpired)
                .StopPaymentTimers(this)
                .ReleaseStock(this)
                .IfElse(c => c.Message.Status == "failed", x => x.TransitionTo(Failed), x => x.TransitionTo(Expired))
                .TrackPendingWork(this),
            // The QR code could not be created at all (the provider refused, or kept failing).
            When(PaymentRequestFaulted, c => c.Saga.ProviderReference is null)
                .Then(c => c.Saga.FailureReason = OrderFailureReasons.PaymentFailed)
                .Then(c => c.Saga.PaymentStatus = PaymentStatus.Failed)
                .StopPaymentTimers(this)
                .ReleaseStock(this)
                .TransitionTo(Failed)
                .TrackPendingWork(this),
            When(CancelOrder)
                .Then(MarkCanceled)
                .StopPaymentTimers(this)
                .If(c => c.Saga.ProviderReference is not null && c.Saga.PaymentCancelRequestedAt is null, x => x.RequestWithdrawal(this))
                .ReleaseStock(this)
                .TransitionTo(Compensating)
                .TrackPendingWork(this));

        During(Placing,
            When(StockCommitted)
                .Then(c => c.Saga.PlacedAt = c.Message.CommittedAt.ToUniversalTime())
                .Unschedule(PaymentWindow)
                .Publish(c => OrderCommands.OrderPlaced(c.Saga))
                .TransitionTo(Placed)
                .TrackPendingWork(this),
            When(OrderPlacementFailed)
                .Then(c => c.Saga.FailureReason = OrderFailureReasons.All.Contains(c.Message.Reason) ? c.Message.Reason : OrderFailureReasons.HoldExpired)
                .Unschedule(PaymentWindow)
                .RequestRefund(null, this)
                .ReleaseStock(this)
                .TransitionTo(Compensating)
                .TrackPendingWork(this),
            // Not placed yet, so either requester may cancel. Placement may still win the race: the release returns
            // committed stock as well as held stock, and OrderPlaced is never published.
            When(CancelOrder)
                .Then(MarkCanceled)
                .Unschedule(PaymentWindow)
                .RequestRefund(OrderFailureReasons.Canceled, this)
                .ReleaseStock(this)
                .TransitionTo(Compensating)
                .TrackPendingWork(this),
            // The deadline timer, still armed: placement has not answered by deadline + grace. Ask again.
            When(PaymentWindow.Received)
                // Fired and done: cleared now rather than after this handler, so the pending-work timer takes over.
                .Then(c => c.Saga.PaymentWindowTokenId = null)
                .Then(c => _timeline.Note(c, "placement not answered yet; asked again"))
                .Publish(c => OrderCommands.PlaceOrder(c.Saga))
                .TrackPendingWork(this));

        During(Placed,
            // A cancel accepted (202) while the order was not yet placed is honoured too, whoever sent it.
            When(CancelOrder)
                .Then(MarkCanceled)
                .RequestRefund(OrderFailureReasons.Canceled, this)
                .ReleaseStock(this)
                .TransitionTo(Compensating)
                .TrackPendingWork(this),
            When(PaymentRefunded, c => c.Saga.RefundedAt is null)
                .Then(RecordRefund)
                .Then(c => _timeline.Note(c, $"refund {c.Message.RefundId} of {OrderTimeline.Money(c.Message.Amount, c.Saga.Currency)} " +
                                             $"reported by the provider ({c.Message.Source}) although none was asked for")));

        // Compensating ends when the stock is back, a refund asked for is confirmed and a QR withdrawal asked for is
        // answered (tracked with the *RequestedAt / *At pairs rather than a composite event, because which of them
        // are awaited is only known at run time: a late payment can add a refund while compensating).
        During(Compensating,
            When(StockReleased).Then(c => c.Saga.StockReleasedAt ??= Now).FinishCompensation(this, "stock released"),
            // The refund is reported by our refund call and by the provider's webhook: the first one counts.
            When(PaymentRefunded, c => c.Saga.RefundedAt is null).Then(RecordRefund)
                .FinishCompensation(this, c => $"refund {c.Message.RefundId} of {OrderTimeline.Money(c.Message.Amount, c.Saga.Currency)} confirmed"),
            When(PaymentCanceled).Then(c => RecordWithdrawal(c, PaymentStatus.Canceled)).FinishCompensation(this, "QR payment withdrawn at the provider"),
            When(PaymentSucceeded, c => c.Saga.RefundRequestedAt is null)
                .Then(RecordLatePayment)
                .RequestRefund(LatePayment, this)
                .TrackPendingWork(this),
            When(StockCommitted)
                .Then(c => _timeline.Note(c, "stock committed after the cancel; the release returns it")),
            When(StockHeld)
                .Then(c => _timeline.Note(c, "stock held after the cancel; releasing it again"))
                .ReleaseStock(this)
                .TrackPendingWork(this),
            When(PaymentRequested, c => c.Saga.ProviderReference is null)
                .Then(RecordPaymentRequestedAfterTheEnd)
                .RequestWithdrawal(this)
                .TrackPendingWork(this),
            When(CancelOrder, c => c.Saga.FailureReason != OrderFailureReasons.Canceled)
                .Then(MarkCanceled)
                .Then(c => _timeline.Note(c, $"canceled by {c.Message.RequestedBy} while being compensated; it will end Canceled")),
            When(CancelOrder, c => c.Saga.FailureReason == OrderFailureReasons.Canceled)
                .Then(c => _timeline.Note(c, $"ignored ({c.Message.RequestedBy}): already being canceled")));

        // After the end: late news is refunded, withdrawn or noted; a cancel accepted while the order was open still
        // holds. And in any state: the pending-work timer and steps that failed for good.
        DuringFinalStates();
        DuringAnyState();
    }
}
