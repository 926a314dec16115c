using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>Every compensation completes or asks for a person; nothing ends with nobody responsible.</summary>
public sealed class Compensation_that_fails : OrderSagaSpec
{
    RefundPayment Refund => Published<RefundPayment>()[0];

    async Task GivenPlacedOrderCanceledBySupport()
    {
        await GivenPlaced();
        await Deliver(new CancelOrder { OrderId = OrderId, RequestedBy = CancelRequesters.Support });
        await Deliver(new StockReleased { OrderId = OrderId });
    }

    [Fact]
    public async Task Should_flag_a_refund_the_provider_refuses_and_finish_once_a_support_retry_is_accepted()
    {
        await GivenPlacedOrderCanceledBySupport();

        await DeliverFault(Refund, ProviderRefused, "payment provider refused the request: 422 refunds are switched off");

        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(AttentionReasons.RefundRefused, Order.AttentionReason);
        Assert.Equal("refund failed: payment provider refused the request: 422 refunds are switched off", Order.AttentionDetail);
        Assert.NotNull(Order.AttentionSince);
        Assert.NotNull(Order.PendingWorkTokenId);

        await Deliver(new RetryCompensation { OrderId = OrderId, RequestedBy = "support-desk" });

        Assert.Equal(2, Published<RefundPayment>().Count);
        Assert.Equal(Published<RefundPayment>()[0], Published<RefundPayment>()[1]); // the same refund, keyed by the order
        Assert.Equal("support-desk asked to retry: refund", Order.Timeline[^1].Detail);

        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_7", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Null(Order.AttentionReason);
        Assert.Null(Order.PendingWorkTokenId);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_keep_retrying_a_refund_with_a_growing_delay_for_as_long_as_it_takes()
    {
        await GivenPlacedOrderCanceledBySupport();
        await DeliverFault(Refund, ProviderRefused, "422");

        for (var round = 1; round <= 6; round++)
            await PendingWorkFires();

        Assert.Equal(7, Published<RefundPayment>().Count);
        var delays = Scheduled<PendingWorkDue>().Count;
        Assert.Equal(7, delays); // armed once by the fault, again after every round
        Assert.Equal(6, Order.PendingWorkAttempts);
        Assert.Equal(AttentionReasons.RefundRefused, Order.AttentionReason); // the first reason is kept
    }

    [Fact]
    public async Task Should_flag_an_unanswered_refund_after_a_few_rounds()
    {
        await GivenPlacedOrderCanceledBySupport();

        for (var round = 1; round < Timings.AttentionAfter; round++)
            await PendingWorkFires();
        Assert.Null(Order.AttentionReason);

        await PendingWorkFires();

        Assert.Equal(AttentionReasons.CompensationStuck, Order.AttentionReason);
        Assert.Equal($"no answer to the refund after {Timings.AttentionAfter} rounds", Order.AttentionDetail);
    }

    [Fact]
    public async Task Should_flag_a_late_payment_refund_that_fails_on_an_order_that_already_ended()
    {
        await GivenEnded(OrderStatuses.Expired);
        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(Payment(PaymentSources.Poll));

        await DeliverFault(Refund, ProviderRefused, "422");

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Equal(AttentionReasons.RefundRefused, Order.AttentionReason);

        await PendingWorkFires();
        Assert.Equal(2, Published<RefundPayment>().Count);
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_8", Amount = Total, Source = PaymentSources.Webhook });
        Assert.Null(Order.AttentionReason);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
    }

    [Fact]
    public async Task Should_flag_a_qr_withdrawal_the_provider_refuses()
    {
        await GivenAwaitingPayment();
        await Deliver(new CancelOrder { OrderId = OrderId, RequestedBy = CancelRequesters.Storefront });
        await Deliver(new StockReleased { OrderId = OrderId });

        await DeliverFault(new CancelPayment { OrderId = OrderId, ProviderReference = ProviderReference }, ProviderRefused, "422");

        Assert.Equal(AttentionReasons.CancelRefused, Order.AttentionReason);
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);

        await Deliver(new RetryCompensation { OrderId = OrderId, RequestedBy = "support-desk" });
        await Deliver(Withdrawn());

        Assert.Equal(2, Published<CancelPayment>().Count);
        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Null(Order.AttentionReason);
    }

    [Fact]
    public async Task Should_flag_and_retry_a_stock_release_that_faulted()
    {
        await GivenAwaitingPayment();
        await Deliver(new PaymentFailed { OrderId = OrderId, ProviderReference = ProviderReference, Reason = "declined" });

        await DeliverFault(new ReleaseStock { OrderId = OrderId, Reason = OrderFailureReasons.PaymentFailed });
        await PendingWorkFires();

        Assert.Equal(AttentionReasons.CompensationStuck, Order.AttentionReason);
        Assert.Equal(2, Published<ReleaseStock>().Count);
        await Deliver(new StockReleased { OrderId = OrderId });
        Assert.Null(Order.AttentionReason);
    }

    [Fact]
    public async Task Should_flag_and_retry_a_stock_hold_that_faulted()
    {
        await GivenSubmitted();

        await DeliverFault(Published<HoldStock>()[0]);
        await PendingWorkFires();

        Assert.Equal(AttentionReasons.HoldStuck, Order.AttentionReason);
        Assert.Equal(2, Published<HoldStock>().Count);
        await Deliver(new StockHeld { OrderId = OrderId, HeldUntil = Start.AddMinutes(5) });
        Assert.Null(Order.AttentionReason);
        Assert.Null(Order.PendingWorkTokenId);
    }

    [Fact]
    public async Task Should_note_a_retry_when_nothing_is_pending()
    {
        await GivenPlaced();

        await Deliver(new RetryCompensation { OrderId = OrderId, RequestedBy = "support-desk" });

        Assert.Equal("support-desk asked to retry; nothing is pending", Order.Timeline[^1].Detail);
        Assert.Single(Published<PlaceOrder>());
        Assert.Null(Order.PendingWorkTokenId);
    }
}
