using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Placing_the_order : OrderSagaSpec
{
    [Fact]
    public async Task Should_be_placed_once_the_stock_is_committed_and_say_so_itself()
    {
        await GivenPlacing();
        Clock.Advance(TimeSpan.FromSeconds(3));

        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Start.AddSeconds(3) });

        Assert.NotNull(await Saga.Exists(OrderId, x => x.Placed));
        Assert.Equal(Start.AddSeconds(3), Order.PlacedAt);
        Assert.Equal(PaymentStatus.Succeeded, Order.PaymentStatus);
        Assert.Null(Order.FailureReason);
        Assert.Equal(new OrderPlaced { OrderId = OrderId, PlacedAt = Start.AddSeconds(3) }, Assert.Single(Published<OrderPlaced>()));
        Assert.Empty(Published<RefundPayment>());
        Assert.Empty(Published<ReleaseStock>());
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Equal(
            ["SubmitOrder: - -> Submitted", "StockHeld: Submitted -> AwaitingPayment", "PaymentSucceeded: AwaitingPayment -> Placing",
             "StockCommitted: Placing -> Placed"],
            Transitions());
        Assert.Equal(Start.AddSeconds(3), Order.Timeline[^1].At);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_refund_and_release_when_placement_fails()
    {
        await GivenPlacing();

        await Deliver(new OrderPlacementFailed { OrderId = OrderId, Reason = OrderFailureReasons.HoldExpired });

        var refund = Assert.Single(Published<RefundPayment>());
        Assert.Equal((ProviderReference, Total, Currency, "hold-expired"), (refund.ProviderReference, refund.Amount, refund.Currency, refund.Reason));
        Assert.Single(Published<ReleaseStock>());
        Assert.Empty(Published<OrderPlaced>());
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.HoldExpired, Order.FailureReason);
        Assert.NotNull(Order.RefundRequestedAt);
    }

    [Fact]
    public async Task Should_report_a_placement_failure_it_does_not_know_as_hold_expired()
    {
        await GivenPlacing();

        await Deliver(new OrderPlacementFailed { OrderId = OrderId, Reason = "hold-released" });

        Assert.Equal(OrderFailureReasons.HoldExpired, Order.FailureReason);
        Assert.Contains("placement failed: hold-released", Order.Timeline[^1].Detail);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_fail_only_once_both_the_refund_and_the_release_are_confirmed(bool releaseFirst)
    {
        await GivenPlacing();
        await Deliver(new OrderPlacementFailed { OrderId = OrderId, Reason = OrderFailureReasons.HoldExpired });
        var refunded = new PaymentRefunded { OrderId = OrderId, RefundId = "rf_1", Amount = Total };
        var released = new StockReleased { OrderId = OrderId };

        if (releaseFirst)
            await Deliver(released);
        else
            await Deliver(refunded);
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);

        if (releaseFirst)
            await Deliver(refunded);
        else
            await Deliver(released);

        Assert.Equal(OrderStatuses.Failed, Order.CurrentState);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
        Assert.Equal("rf_1", Order.RefundId);
        Assert.NotNull(Order.StockReleasedAt);
        Assert.Single(Published<RefundPayment>());
        Assert.Null(Order.PendingWorkTokenId);
        Assert.Equal(releaseFirst ? "PaymentRefunded: Compensating -> Failed" : "StockReleased: Compensating -> Failed", Transitions()[^1]);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_ignore_a_second_placement_answer()
    {
        await GivenPlaced();

        await Deliver(new OrderPlacementFailed { OrderId = OrderId, Reason = OrderFailureReasons.HoldExpired });
        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Start });

        Assert.Equal(OrderStatuses.Placed, Order.CurrentState);
        Assert.Empty(Published<RefundPayment>());
        Assert.Single(Published<OrderPlaced>());
    }
}

/// <summary>Placement that never answers is asked again, with a growing delay, until a person is told.</summary>
public sealed class Placement_not_answering : OrderSagaSpec
{
    [Fact]
    public async Task Should_ask_again_at_the_deadline_then_keep_asking_and_flag_the_order_for_support()
    {
        await GivenPlacing();
        Assert.Single(Published<PlaceOrder>());

        // The deadline timer stayed armed as the placement's watchdog.
        await PaymentWindowFires();
        Assert.Equal(2, Published<PlaceOrder>().Count);
        Assert.NotNull(Order.PendingWorkTokenId);

        for (var round = 1; round <= Timings.AttentionAfter; round++)
        {
            Assert.Null(Order.AttentionReason);
            await PendingWorkFires();
        }

        Assert.Equal(2 + Timings.AttentionAfter, Published<PlaceOrder>().Count);
        Assert.Equal(AttentionReasons.PlacementStuck, Order.AttentionReason);
        Assert.NotNull(Order.AttentionSince);
        Assert.NotNull(Order.PendingWorkTokenId); // it never stops asking
        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);

        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Clock.GetUtcNow() });

        Assert.Equal(OrderStatuses.Placed, Order.CurrentState);
        Assert.Null(Order.AttentionReason);
        Assert.Null(Order.PendingWorkTokenId);
        Assert.Single(Published<OrderPlaced>());
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_flag_a_placement_that_faulted_and_keep_retrying_it()
    {
        await GivenPlacing();

        await DeliverFault(new PlaceOrder { OrderId = OrderId, ProviderReference = ProviderReference, PaidAmount = Total, Currency = Currency });

        Assert.Equal(AttentionReasons.PlacementStuck, Order.AttentionReason);
        Assert.Equal("placement failed: the operation timed out", Order.AttentionDetail);

        await PaymentWindowFires();
        Assert.Equal(2, Published<PlaceOrder>().Count);
    }
}
