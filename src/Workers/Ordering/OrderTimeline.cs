using System.Globalization;
using MassTransit;
using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Ordering;

/// <summary>
/// Writes the order's timeline. Connected to the state machine as a state observer, so every transition gets its
/// entry without any handler having to remember it; handlers add entries for significant events that do not change
/// the state through <see cref="Note"/>. Entries name the message that caused them and say why in words support
/// staff can act on.
/// </summary>
sealed class OrderTimeline(TimeProvider clock) : IStateObserver<OrderState>
{
    public Task StateChanged(BehaviorContext<OrderState> context, State currentState, State? previousState)
    {
        // The saga's implicit first step (no state → Initial) is not part of the order's history.
        if (previousState is null)
            return Task.CompletedTask;

        var from = previousState.Name == "Initial" ? null : previousState.Name;
        context.Saga.Record(clock.GetUtcNow(), EventName(context), from, currentState.Name, Describe(context, previousState, currentState));
        return Task.CompletedTask;
    }

    /// <summary>Records an event that leaves the order in its current state.</summary>
    public void Note(BehaviorContext<OrderState> context, string detail) =>
        context.Saga.Record(clock.GetUtcNow(), EventName(context), context.Saga.CurrentState, context.Saga.CurrentState, detail);

    /// <summary>The event as support (and the transition metric) knows it: a timer by its message.</summary>
    internal static string EventName(BehaviorContext<OrderState> context) => context switch
    {
        // Timers arrive as the schedule's "Received" event; support knows them by their message.
        ConsumeContext<PaymentWindowExpired> => nameof(PaymentWindowExpired),
        ConsumeContext<PaymentPollDue> => nameof(PaymentPollDue),
        ConsumeContext<PendingWorkDue> => nameof(PendingWorkDue),
        _ => context.Event.Name,
    };

    static string? Describe(BehaviorContext<OrderState> context, State from, State to)
    {
        var order = context.Saga;
        return context switch
        {
            ConsumeContext<SubmitOrder> c =>
                $"{c.Message.Lines.Sum(l => l.Quantity)} units in {c.Message.Lines.Count} lines, {Money(c.Message.Total, c.Message.Currency)}; " +
                "stock hold requested",
            ConsumeContext<CancelOrder> c when from.Name == "Initial" =>
                $"{Canceled(c.Message)} before the order was taken; nothing held, nothing to pay",
            ConsumeContext<CancelOrder> c when to.Name == OrderStatuses.Compensating => $"{Canceled(c.Message)}; {Requested(order)}",
            ConsumeContext<CancelOrder> c => $"{Canceled(c.Message)} after the order ended {from.Name}",
            ConsumeContext<StockHeld> => $"stock held until {Time(order.HoldUntil)}; QR payment requested",
            ConsumeContext<StockHoldRejected> c => $"{c.Message.Reason}: {string.Join(", ", c.Message.Skus)}",
            ConsumeContext<PaymentSucceeded> c when order.FailureReason == OrderFailureReasons.AmountMismatch =>
                $"amount mismatch: paid {Money(c.Message.Amount, c.Message.Currency)} ({c.Message.Source}), " +
                $"expected {Money(order.Total, order.Currency)}; refund and stock release requested",
            ConsumeContext<PaymentSucceeded> c =>
                $"paid {Money(c.Message.Amount, c.Message.Currency)} ({c.Message.Source}) at {Time(order.PaidAt)}" +
                (order.PaidAt > order.PaymentExpiresAt ? ", after the QR's deadline by the provider's clock" : "") + "; placing the order",
            ConsumeContext<PaymentFailed> c => $"payment failed: {c.Message.Reason}; stock release requested",
            ConsumeContext<PaymentWindowExpired> => "no QR code was created in time; stock release requested",
            ConsumeContext<StockHoldOverdue> => "the stock hold ran out before a QR code was created; stock release requested",
            ConsumeContext<Fault<RequestPayment>> c =>
                $"the QR payment could not be created: {c.Message.Exceptions.FirstOrDefault()?.Message}; stock release requested",
            ConsumeContext<PaymentCanceled> c when from.Name == OrderStatuses.AwaitingPayment =>
                $"the provider confirms the QR code can no longer be paid ({(c.Message.Status is { Length: > 0 } s ? s : "canceled")}); " +
                "stock release requested",
            ConsumeContext<PaymentCanceled> => "QR payment withdrawn at the provider; compensation complete",
            ConsumeContext<StockCommitted> => "stock committed; order placed",
            ConsumeContext<OrderPlacementFailed> c => $"placement failed: {c.Message.Reason}; refund and stock release requested",
            ConsumeContext<StockReleased> => "stock released; compensation complete",
            ConsumeContext<PaymentRefunded> c => $"refund {c.Message.RefundId} of {c.Message.Amount.ToString("0.00", CultureInfo.InvariantCulture)} confirmed; compensation complete",
            _ => null,
        };
    }

    static string Canceled(CancelOrder cancel) =>
        $"canceled by {cancel.RequestedBy}{(cancel.Reason is { Length: > 0 } reason ? $": {reason}" : "")}";

    /// <summary>What a cancel set in motion, e.g. "refund and stock release requested".</summary>
    static string Requested(OrderState order)
    {
        var steps = new List<string>();
        if (order.RefundRequestedAt is not null)
            steps.Add("refund");
        if (order.PaymentCancelRequestedAt is not null && order.PaymentClosedAt is null)
            steps.Add("QR withdrawal");
        steps.Add("stock release");
        return string.Join(" and ", steps) + " requested";
    }

    internal static string Money(decimal amount, string currency) =>
        $"{amount.ToString("0.00", CultureInfo.InvariantCulture)} {currency}";

    internal static string Time(DateTimeOffset? at) => at?.ToString("O", CultureInfo.InvariantCulture) ?? "?";
}
