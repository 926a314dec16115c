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
        context.Saga.Record(clock.GetUtcNow(), EventName(context), from, currentState.Name, Describe(context));
        return Task.CompletedTask;
    }

    /// <summary>Records an event that leaves the order in its current state.</summary>
    public void Note(BehaviorContext<OrderState> context, string detail) =>
        context.Saga.Record(clock.GetUtcNow(), EventName(context), context.Saga.CurrentState, context.Saga.CurrentState, detail);

    static string EventName(BehaviorContext<OrderState> context) => context switch
    {
        // Timers arrive as the schedule's "Received" event; support knows them by their message.
        ConsumeContext<PaymentWindowExpired> => nameof(PaymentWindowExpired),
        ConsumeContext<PaymentPollDue> => nameof(PaymentPollDue),
        _ => context.Event.Name,
    };

    static string? Describe(BehaviorContext<OrderState> context)
    {
        var order = context.Saga;
        return context switch
        {
            ConsumeContext<SubmitOrder> c =>
                $"{c.Message.Lines.Sum(l => l.Quantity)} units in {c.Message.Lines.Count} lines, {Money(c.Message.Total, c.Message.Currency)}; " +
                $"stock requested until {Time(order.HoldUntil)}",
            ConsumeContext<StockHeld> => $"stock held until {Time(order.HoldUntil)}; payment requested, window until {Time(order.PaymentExpiresAt)}",
            ConsumeContext<StockHoldRejected> c => $"{c.Message.Reason}: {string.Join(", ", c.Message.Skus)}",
            ConsumeContext<PaymentSucceeded> c when order.FailureReason == OrderFailureReasons.AmountMismatch =>
                $"amount mismatch: paid {Money(c.Message.Amount, c.Message.Currency)} ({c.Message.Source}), " +
                $"expected {Money(order.Total, order.Currency)}; refund and stock release requested",
            ConsumeContext<PaymentSucceeded> c => $"paid {Money(c.Message.Amount, c.Message.Currency)} ({c.Message.Source}); placing the order",
            ConsumeContext<PaymentFailed> c => $"payment failed: {c.Message.Reason}; payment cancel and stock release requested",
            ConsumeContext<PaymentWindowExpired> => "not paid in time; payment cancel and stock release requested",
            ConsumeContext<OrderPlaced> => "stock committed",
            ConsumeContext<OrderPlacementFailed> c => $"placement failed: {c.Message.Reason}; refund and stock release requested",
            ConsumeContext<CancelOrder> c => $"canceled by {c.Message.RequestedBy}{(c.Message.Reason is { Length: > 0 } r ? $": {r}" : "")}; " +
                                             (order.RefundRequestedAt is not null ? "refund and stock release requested"
                                                 : order.PaymentStatus == PaymentStatus.Canceled ? "payment cancel and stock release requested"
                                                 : "stock release requested"),
            ConsumeContext<StockReleased> => "stock released; compensation complete",
            ConsumeContext<PaymentRefunded> c => $"refund {c.Message.RefundId} of {c.Message.Amount.ToString("0.00", CultureInfo.InvariantCulture)} confirmed; compensation complete",
            _ => null,
        };
    }

    internal static string Money(decimal amount, string currency) =>
        $"{amount.ToString("0.00", CultureInfo.InvariantCulture)} {currency}";

    internal static string Time(DateTimeOffset? at) => at?.ToString("O", CultureInfo.InvariantCulture) ?? "?";
}
