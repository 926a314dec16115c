using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Ordering;

/// <summary>
/// The order saga's recurring steps as activity chains, so the state machine reads like the business flow: ask for
/// something (and remember that it was asked), keep the pending-work timer armed exactly while anything is awaited,
/// and flag the order for support when a step keeps failing.
/// </summary>
static class OrderStateMachineBinders
{
    public static EventActivityBinder<OrderState, T> ReleaseStock<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine)
        where T : class =>
        binder
            .Then(c =>
            {
                c.Saga.ReleaseRequestedAt = machine.Now;
                c.Saga.StockReleasedAt = null;
            })
            .Publish(c => OrderCommands.ReleaseStock(c.Saga));

    public static EventActivityBinder<OrderState, T> RequestWithdrawal<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine)
        where T : class =>
        binder
            .Then(c => c.Saga.PaymentCancelRequestedAt ??= machine.Now)
            .Publish(c => OrderCommands.CancelPayment(c.Saga));

    /// <summary>
    /// Asks the provider to withdraw the unpaid QR code while keeping the stock: the provider's answer decides between
    /// expired (withdrawn) and placed (paid meanwhile).
    /// </summary>
    public static EventActivityBinder<OrderState, T> WithdrawQr<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine,
        string why)
        where T : class =>
        binder
            .Then(c => machine.Timeline.Note(c, $"{why}; asking the provider to withdraw the QR code, stock still held"))
            .RequestWithdrawal(machine)
            .TrackPendingWork(machine);

    /// <summary>The payment's timers have nothing more to watch (the poll timer only in orders from earlier versions).</summary>
    public static EventActivityBinder<OrderState, T> StopPaymentTimers<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine)
        where T : class =>
        binder
            .Unschedule(machine.PaymentWindow)
            .Unschedule(machine.PaymentPoll);

    /// <summary>Expires an order whose QR code nobody can have paid: none was ever shown.</summary>
    public static EventActivityBinder<OrderState, T> ExpireUnpaid<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine)
        where T : class =>
        binder
            .Then(c =>
            {
                c.Saga.PaymentStatus = PaymentStatus.Expired;
                c.Saga.FailureReason = OrderFailureReasons.PaymentExpired;
            })
            .Unschedule(machine.PaymentPoll)
            .ReleaseStock(machine)
            .TransitionTo(machine.Expired)
            .TrackPendingWork(machine);

    /// <summary>Refunds what was paid; <paramref name="reason"/> null means the order's failure reason.</summary>
    public static EventActivityBinder<OrderState, T> RequestRefund<T>(this EventActivityBinder<OrderState, T> binder, string? reason,
        OrderStateMachine machine)
        where T : class =>
        binder
            .Then(c =>
            {
                c.Saga.RefundRequestedAt = machine.Now;
                c.Saga.RefundReason = reason ?? c.Saga.FailureReason;
                machine.Metrics?.RefundRequested(c, c.Saga.RefundReason);
            })
            .Publish(c => OrderCommands.RefundPayment(c.Saga));

    /// <summary>
    /// After anything that changes what the order waits for: an attention flag whose step is done is cleared; while
    /// something is awaited the pending-work timer is armed, once nothing is it is stopped and its rounds reset.
    /// </summary>
    public static EventActivityBinder<OrderState, T> TrackPendingWork<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine)
        where T : class =>
        binder
            .If(c => c.Saga.AttentionReason is not null && machine.AttentionResolved(c.Saga), x => x.Then(c =>
            {
                machine.Timeline.Note(c, $"no longer needs attention ({c.Saga.AttentionReason}): the step it was about is done");
                c.Saga.AttentionReason = null;
                c.Saga.AttentionSince = null;
                c.Saga.AttentionDetail = null;
            }))
            .IfElse(machine.HasPendingWork,
                // A placement is already watched by the still-armed deadline timer: no second timer for it.
                x => x.If(c => c.Saga.PendingWorkTokenId is null && !(c.Saga.CurrentState == machine.Placing.Name && c.Saga.PaymentWindowTokenId is not null),
                    y => y.Schedule(machine.PendingWork, c => OrderCommands.PendingWorkDue(c.Saga),
                        c => machine.Timings.PendingWorkDelay(c.Saga.PendingWorkAttempts))),
                x => x
                    .Then(c => c.Saga.PendingWorkAttempts = 0)
                    .If(c => c.Saga.PendingWorkTokenId is not null, y => y.Unschedule(machine.PendingWork)));

    /// <summary>
    /// Compensating ends when nothing is awaited any more: Canceled when a cancel asked for it, Failed otherwise.
    /// </summary>
    public static EventActivityBinder<OrderState, T> FinishCompensation<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine,
        Func<BehaviorContext<OrderState, T>, string> what)
        where T : class =>
        binder.IfElse(OrderStateMachine.IsCompensated,
            x => x.IfElse(OrderStateMachine.WasCanceled, c => c.TransitionTo(machine.Canceled), f => f.TransitionTo(machine.Failed))
                .TrackPendingWork(machine),
            x => x.Then(c => machine.Timeline.Note(c, $"{what(c)}; waiting for the {machine.DescribePendingWork(c.Saga)}")));

    public static EventActivityBinder<OrderState, T> FinishCompensation<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine,
        string what)
        where T : class =>
        binder.FinishCompensation(machine, _ => what);

    /// <summary>
    /// Sends again every step still awaited (each is idempotent at its consumer) and re-arms the timer with a longer
    /// delay; with <paramref name="escalate"/>, after <c>Saga:AttentionAfter</c> rounds the order is flagged.
    /// </summary>
    public static EventActivityBinder<OrderState, T> ReissuePendingWork<T>(this EventActivityBinder<OrderState, T> binder, OrderStateMachine machine,
        bool escalate)
        where T : class =>
        binder.IfElse(machine.HasPendingWork,
            x => x
                .If(c => escalate, y => y.Then(c => machine.Timeline.Note(c,
                    $"asked again (round {c.Saga.PendingWorkAttempts}): {machine.DescribePendingWork(c.Saga)}")))
                .If(c => c.Saga.CurrentState == machine.Submitted.Name, y => y.Publish(c => OrderCommands.HoldStock(c.Saga, machine.Timings)))
                .If(c => c.Saga.CurrentState == machine.Placing.Name, y => y.Publish(c => OrderCommands.PlaceOrder(c.Saga)))
                .If(c => OrderStateMachine.CancelPending(c.Saga), y => y.Publish(c => OrderCommands.CancelPayment(c.Saga)))
                .If(c => OrderStateMachine.RefundPending(c.Saga), y => y.Publish(c => OrderCommands.RefundPayment(c.Saga)))
                .If(c => OrderStateMachine.ReleasePending(c.Saga), y => y.Publish(c => OrderCommands.ReleaseStock(c.Saga)))
                .If(c => escalate && c.Saga.AttentionReason is null && c.Saga.PendingWorkAttempts >= machine.Timings.AttentionAfter,
                    y => y.Then(c => machine.FlagForAttention(c, machine.StuckReason(c.Saga),
                        $"no answer to the {machine.DescribePendingWork(c.Saga)} after {c.Saga.PendingWorkAttempts} rounds")))
                .TrackPendingWork(machine),
            x => x.TrackPendingWork(machine));

    /// <summary>
    /// A step failed for good after its consumer's own retries: the order is flagged for support (as refused when the
    /// provider said no with a 4xx and <paramref name="refusedReason"/> is given) and the step keeps being retried.
    /// </summary>
    public static EventActivityBinder<OrderState, Fault<TCommand>> NeedsAttention<TCommand>(
        this EventActivityBinder<OrderState, Fault<TCommand>> binder, OrderStateMachine machine, string? refusedReason, string what)
        where TCommand : class =>
        binder
            .Then(c =>
            {
                var exception = c.Message.Exceptions.FirstOrDefault();
                var refused = exception?.ExceptionType.EndsWith("PaymentProviderRejectedException", StringComparison.Ordinal) == true;
                machine.FlagForAttention(c, refused && refusedReason is not null ? refusedReason : machine.StuckReason(c.Saga),
                    $"{what} failed: {exception?.Message ?? "no detail"}");
            })
            .TrackPendingWork(machine);
}
