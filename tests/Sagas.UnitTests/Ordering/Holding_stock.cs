using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Holding_stock : OrderSagaSpec
{
    async Task WhenStockIsHeld()
    {
        await GivenSubmitted();
        Clock.Advance(TimeSpan.FromSeconds(1));
        await Deliver(new StockHeld { OrderId = OrderId, HeldUntil = Start.AddMinutes(61) });
    }

    [Fact]
    public async Task Should_request_a_qr_payment_for_the_order_total()
    {
        await WhenStockIsHeld();

        var request = Assert.Single(Published<RequestPayment>());
        Assert.Equal(OrderId, request.OrderId);
        Assert.Equal(Total, request.Amount);
        Assert.Equal(Currency, request.Currency);
        // The window counts from when the provider creates the QR code; the hold is extended to outlive its deadline.
        Assert.Equal(Timings.PaymentWindow, request.PaymentWindow);
        Assert.Equal(Timings.PaymentGrace + TimeSpan.FromMinutes(1), request.HoldAfterDeadline);
    }

    [Fact]
    public async Task Should_schedule_the_payment_window_only()
    {
        await WhenStockIsHeld();

        Assert.Equal(OrderId, Assert.Single(Scheduled<PaymentWindowExpired>()).OrderId);
        Assert.NotNull(Order.PaymentWindowTokenId);
        // The payment is polled for every order at once by the Workers' PaymentStatusPoll, not per order.
        Assert.Empty(Scheduled<PaymentPollDue>());
        Assert.Null(Order.PaymentPollTokenId);
    }

    [Fact]
    public async Task Should_await_the_payment_with_the_hold_confirmed()
    {
        await WhenStockIsHeld();

        Assert.NotNull(await Saga.Exists(OrderId, x => x.AwaitingPayment));
        Assert.Equal(Start.AddMinutes(61), Order.HoldUntil);
        Assert.Equal(PaymentStatus.Pending, Order.PaymentStatus);
        Assert.Null(Order.PaymentExpiresAt); // the provider states the deadline with the QR code
        Assert.Equal(["SubmitOrder: - -> Submitted", "StockHeld: Submitted -> AwaitingPayment"], Transitions());
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_ignore_the_hold_reported_again()
    {
        await WhenStockIsHeld();
        var windowToken = Order.PaymentWindowTokenId;

        await Deliver(new StockHeld { OrderId = OrderId, HeldUntil = Start.AddMinutes(61) });

        Assert.Single(Published<RequestPayment>());
        Assert.Single(Scheduled<PaymentWindowExpired>());
        Assert.Equal(windowToken, Order.PaymentWindowTokenId);
        Assert.Equal(2, Order.Timeline.Count);
    }
}

public sealed class Stock_hold_rejected : OrderSagaSpec
{
    [Fact]
    public async Task Should_reject_the_order_for_insufficient_stock()
    {
        await GivenSubmitted();

        await Deliver(new StockHoldRejected { OrderId = OrderId, Reason = "insufficient-stock", Skus = ["MOUSE-1"] });

        Assert.Equal(OrderStatuses.Rejected, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.InsufficientStock, Order.FailureReason);
        Assert.Empty(Published<RequestPayment>());
        Assert.Empty(Published<ReleaseStock>());
        var entry = Order.Timeline[^1];
        Assert.Equal(("StockHoldRejected", OrderStatuses.Submitted, OrderStatuses.Rejected), (entry.Event, entry.FromState, entry.ToState));
        Assert.Equal("insufficient-stock: MOUSE-1", entry.Detail);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_ignore_a_hold_reported_after_the_rejection()
    {
        await GivenEnded(OrderStatuses.Rejected);

        await Deliver(new StockHeld { OrderId = OrderId, HeldUntil = Start.AddMinutes(61) });

        Assert.Equal(OrderStatuses.Rejected, Order.CurrentState);
        Assert.Empty(Published<RequestPayment>());
    }
}
