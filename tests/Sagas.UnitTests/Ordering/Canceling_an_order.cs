using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Canceling_an_order : OrderSagaSpec
{
    CancelOrder By(string requester) => new() { OrderId = OrderId, RequestedBy = requester, Reason = "changed my mind" };

    [Fact]
    public async Task Should_release_the_stock_when_canceled_before_it_is_held()
    {
        await GivenSubmitted();

        await Deliver(By(CancelRequesters.Storefront));

        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.Canceled, Assert.Single(Published<ReleaseStock>()).Reason);
        Assert.Empty(Published<CancelPayment>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal((OrderFailureReasons.Canceled, CancelRequesters.Storefront), (Order.FailureReason, Order.CanceledBy));

        await Deliver(new StockReleased { OrderId = OrderId });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(["SubmitOrder: - -> Submitted", "CancelOrder: Submitted -> Compensating", "StockReleased: Compensating -> Canceled"],
            Transitions());
        Assert.Equal("canceled by storefront: changed my mind; stock release requested", Order.Timeline[1].Detail);
        AssertTimelineIsConsistent();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_release_again_a_hold_made_after_the_cancel(bool releasedBeforeTheHold)
    {
        await GivenSubmitted();
        await Deliver(By(CancelRequesters.Storefront));
        if (releasedBeforeTheHold)
            await Deliver(new StockReleased { OrderId = OrderId });

        await Deliver(new StockHeld { OrderId = OrderId, HeldUntil = Start.AddMinutes(61) });

        Assert.Equal(2, Published<ReleaseStock>().Count);
        Assert.Empty(Published<RequestPayment>());
        Assert.Equal(releasedBeforeTheHold ? OrderStatuses.Canceled : OrderStatuses.Compensating, Order.CurrentState);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_cancel_the_payment_and_release_the_stock_while_awaiting_payment()
    {
        await GivenAwaitingPayment();

        await Deliver(By(CancelRequesters.Storefront));

        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(PaymentStatus.Canceled, Order.PaymentStatus);
        Assert.Equal(ProviderReference, Assert.Single(Published<CancelPayment>()).ProviderReference);
        Assert.Single(Published<ReleaseStock>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Null(Order.PaymentPollTokenId);

        await Deliver(new PaymentCanceled { OrderId = OrderId });
        await Deliver(new StockReleased { OrderId = OrderId });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal("canceled by storefront: changed my mind; payment cancel and stock release requested",
            Order.Timeline.Single(e => e.Event == "CancelOrder").Detail);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_cancel_a_qr_payment_created_only_after_the_cancel()
    {
        await GivenAwaitingPayment(qrReady: false);
        await Deliver(By(CancelRequesters.Storefront));
        Assert.Empty(Published<CancelPayment>());

        await Deliver(new PaymentRequested { OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://late", ExpiresAt = Start });

        Assert.Equal(ProviderReference, Assert.Single(Published<CancelPayment>()).ProviderReference);
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
    }

    [Theory]
    [InlineData(CancelRequesters.Storefront)]
    [InlineData(CancelRequesters.Support)]
    public async Task Should_refund_and_release_when_canceled_while_placing(string requester)
    {
        await GivenPlacing();

        await Deliver(By(requester));

        var refund = Assert.Single(Published<RefundPayment>());
        Assert.Equal((ProviderReference, Total, Currency, "canceled"), (refund.ProviderReference, refund.Amount, refund.Currency, refund.Reason));
        Assert.Single(Published<ReleaseStock>());
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);

        // Placement may still win the race; the release returns the committed stock, so the cancel stands.
        await Deliver(new OrderPlaced { OrderId = OrderId, PlacedAt = Start });
        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_3", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Single(Published<RefundPayment>());
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_refund_and_return_the_stock_when_support_cancels_a_placed_order()
    {
        await GivenPlaced();

        await Deliver(By(CancelRequesters.Support));

        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(CancelRequesters.Support, Order.CanceledBy);
        Assert.Equal(Total, Assert.Single(Published<RefundPayment>()).Amount);
        Assert.Single(Published<ReleaseStock>());

        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_4", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
        Assert.Equal(
            ["OrderPlaced: Placing -> Placed", "CancelOrder: Placed -> Compensating", "PaymentRefunded: Compensating -> Canceled"],
            Transitions().TakeLast(3));
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_ignore_a_storefront_cancel_of_a_placed_order_but_note_it()
    {
        await GivenPlaced();

        await Deliver(By(CancelRequesters.Storefront));

        Assert.Equal(OrderStatuses.Placed, Order.CurrentState);
        Assert.Null(Order.FailureReason);
        Assert.Empty(Published<RefundPayment>());
        Assert.Empty(Published<ReleaseStock>());
        var entry = Order.Timeline[^1];
        Assert.Equal(("CancelOrder", OrderStatuses.Placed, OrderStatuses.Placed), (entry.Event, entry.FromState, entry.ToState));
        Assert.Equal("ignored: storefront may not cancel a placed order", entry.Detail);
    }

    [Theory]
    [InlineData(OrderStatuses.Rejected)]
    [InlineData(OrderStatuses.Expired)]
    [InlineData(OrderStatuses.Failed)]
    [InlineData(OrderStatuses.Canceled)]
    public async Task Should_ignore_a_cancel_of_an_order_that_already_ended(string ended)
    {
        await GivenEnded(ended);
        var releases = Published<ReleaseStock>().Count;
        var failureReason = Order.FailureReason;

        await Deliver(By(CancelRequesters.Support));

        Assert.Equal(ended, Order.CurrentState);
        Assert.Equal(failureReason, Order.FailureReason);
        Assert.Equal(releases, Published<ReleaseStock>().Count);
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal($"ignored (support): the order is already {ended}", Order.Timeline[^1].Detail);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_ignore_a_second_cancel_while_compensating()
    {
        await GivenPlaced();
        await Deliver(By(CancelRequesters.Support));

        await Deliver(By(CancelRequesters.Support));

        Assert.Single(Published<RefundPayment>());
        Assert.Single(Published<ReleaseStock>());
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
    }
}
