using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>A cancel the Api answered 202 is a promise: whenever it reaches the saga, the order ends Canceled.</summary>
public sealed class Canceling_an_order : OrderSagaSpec
{
    CancelOrder By(string requester) => new() { OrderId = OrderId, RequestedBy = requester, Reason = "changed my mind" };

    [Fact]
    public async Task Should_cancel_an_order_whose_cancel_arrives_before_its_submission()
    {
        await Deliver(By(CancelRequesters.Storefront));

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal((OrderFailureReasons.Canceled, CancelRequesters.Storefront), (Order.FailureReason, Order.CanceledBy));

        await Deliver(Submission());

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Empty(Published<HoldStock>());
        Assert.Empty(Published<RequestPayment>());
        Assert.Equal(("c-1", Total, 2), (Order.CustomerId, Order.Total, Order.Lines.Count));
        Assert.Equal(["CancelOrder: - -> Canceled"], Transitions());
        Assert.Equal("canceled by storefront: changed my mind before the order was taken; nothing held, nothing to pay", Order.Timeline[0].Detail);
        Assert.Equal("submission arrived after the cancel; nothing held", Order.Timeline[^1].Detail);
        AssertTimelineIsConsistent();

        await Deliver(Submission());
        Assert.Empty(Published<HoldStock>());
        Assert.Equal(2, Order.Timeline.Count);
    }

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
        Assert.Null(Order.PendingWorkTokenId);
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
        Assert.Null(Order.StockReleasedAt); // the second release is awaited
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_withdraw_the_qr_release_the_stock_and_end_canceled_once_both_are_confirmed()
    {
        await GivenAwaitingPayment();

        await Deliver(By(CancelRequesters.Storefront));

        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(ProviderReference, Assert.Single(Published<CancelPayment>()).ProviderReference);
        Assert.Single(Published<ReleaseStock>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Null(Order.PaymentPollTokenId);
        Assert.Equal("canceled by storefront: changed my mind; QR withdrawal and stock release requested",
            Order.Timeline.Single(e => e.Event == "CancelOrder").Detail);

        await Deliver(new StockReleased { OrderId = OrderId });
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState); // the QR code might still be paid
        await Deliver(Withdrawn());

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(PaymentStatus.Canceled, Order.PaymentStatus);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_refund_a_payment_made_while_the_qr_was_being_withdrawn()
    {
        await GivenAwaitingPayment();
        await Deliver(By(CancelRequesters.Storefront));
        await Deliver(new StockReleased { OrderId = OrderId });

        // The provider refused the withdrawal (409) and its status read shows the capture.
        await Deliver(Payment(PaymentSources.Cancel));

        Assert.Equal(new RefundPayment { OrderId = OrderId, ProviderReference = ProviderReference, Amount = Total, Currency = Currency, Reason = "late-payment" },
            Assert.Single(Published<RefundPayment>()));
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);

        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_1", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
    }

    [Fact]
    public async Task Should_withdraw_a_qr_payment_created_only_after_the_cancel()
    {
        await GivenAwaitingPayment(qrReady: false);
        await Deliver(By(CancelRequesters.Storefront));
        Assert.Empty(Published<CancelPayment>());

        await Deliver(new PaymentRequested { OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://late", ExpiresAt = Start });
        await Deliver(new StockReleased { OrderId = OrderId });

        Assert.Equal(ProviderReference, Assert.Single(Published<CancelPayment>()).ProviderReference);
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        await Deliver(Withdrawn());
        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
    }

    [Theory]
    [InlineData(CancelRequesters.Storefront)]
    [InlineData(CancelRequesters.Support)]
    public async Task Should_never_announce_a_placement_that_a_cancel_reached_first(string requester)
    {
        await GivenPlacing();

        await Deliver(By(requester));

        var refund = Assert.Single(Published<RefundPayment>());
        Assert.Equal((ProviderReference, Total, Currency, "canceled"), (refund.ProviderReference, refund.Amount, refund.Currency, refund.Reason));
        Assert.Single(Published<ReleaseStock>());
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);

        // Placement may still win the race at the ledger; the release returns the committed stock, the cancel stands.
        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Start });
        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_3", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Empty(Published<OrderPlaced>());
        Assert.Single(Published<RefundPayment>());
        AssertTimelineIsConsistent();
    }

    [Theory]
    [InlineData(CancelRequesters.Support)]
    [InlineData(CancelRequesters.Storefront)] // answered 202 before the order was placed, delivered after
    public async Task Should_refund_and_return_the_stock_of_a_placed_order(string requester)
    {
        await GivenPlaced();

        await Deliver(By(requester));

        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(requester, Order.CanceledBy);
        Assert.Equal(Total, Assert.Single(Published<RefundPayment>()).Amount);
        Assert.Single(Published<ReleaseStock>());

        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_4", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
        Assert.Equal(
            ["StockCommitted: Placing -> Placed", "CancelOrder: Placed -> Compensating", "PaymentRefunded: Compensating -> Canceled"],
            Transitions().TakeLast(3));
        AssertTimelineIsConsistent();
    }

    [Theory]
    [InlineData(OrderStatuses.Rejected)]
    [InlineData(OrderStatuses.Expired)]
    [InlineData(OrderStatuses.Failed)]
    public async Task Should_end_canceled_when_the_order_ended_otherwise_after_the_cancel_was_accepted(string ended)
    {
        await GivenEnded(ended);
        var releases = Published<ReleaseStock>().Count;

        await Deliver(By(CancelRequesters.Storefront));

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.Canceled, Order.FailureReason);
        Assert.Equal(releases, Published<ReleaseStock>().Count);
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal($"canceled by storefront: changed my mind after the order ended {ended}", Order.Timeline[^1].Detail);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_turn_a_compensation_towards_failed_into_a_cancel()
    {
        await GivenAwaitingPayment();
        await Deliver(Payment(amount: 10m)); // amount mismatch: compensating towards Failed

        await Deliver(By(CancelRequesters.Storefront));
        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_5", Amount = 10m });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Single(Published<RefundPayment>());
    }

    [Fact]
    public async Task Should_note_a_cancel_of_an_order_already_canceled()
    {
        await GivenEnded(OrderStatuses.Canceled);

        await Deliver(By(CancelRequesters.Support));

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal("ignored (support): the order is already Canceled", Order.Timeline[^1].Detail);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_record_a_refund_reported_by_both_the_refund_call_and_the_webhook_once()
    {
        await GivenPlaced();
        await Deliver(By(CancelRequesters.Support));
        await Deliver(new StockReleased { OrderId = OrderId });

        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_6", Amount = Total, Source = "refund" });
        await Deliver(new PaymentRefunded { OrderId = OrderId, Amount = Total, Source = PaymentSources.Webhook });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal("rf_6", Order.RefundId);
        Assert.Single(Order.Timeline, e => e.Event == nameof(PaymentRefunded));
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
