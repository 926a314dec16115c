using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>
/// A customer who pays the QR code by its deadline gets the order, whatever order the webhook, the poll, the
/// withdrawal's answer, the saga's timers and the hold sweep arrive in.
/// </summary>
public sealed class Paid_in_time : OrderSagaSpec
{
    [Fact]
    public async Task Should_place_a_capture_made_just_before_the_deadline_whose_webhook_comes_after_the_window_timer()
    {
        await GivenAwaitingPayment();

        await PaymentWindowFires();
        await Deliver(Payment(PaymentSources.Webhook, paidAt: Deadline.AddMilliseconds(-100)));

        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Single(Published<PlaceOrder>());
        Assert.Empty(Published<ReleaseStock>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal(Deadline.AddMilliseconds(-100), Order.PaidAt);

        // The withdrawal's answer comes too: the provider refused (paid), the status read reports the capture again.
        await Deliver(Payment(PaymentSources.Cancel, paidAt: Deadline.AddMilliseconds(-100)));
        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Clock.GetUtcNow() });

        Assert.Equal(OrderStatuses.Placed, Order.CurrentState);
        Assert.Empty(Published<RefundPayment>());
        Assert.Null(Order.PendingWorkTokenId);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_place_a_capture_reported_only_by_the_withdrawals_status_read()
    {
        await GivenAwaitingPayment();
        await PaymentWindowFires();

        // 409 on the withdrawal; the status read shows it succeeded.
        await Deliver(Payment(PaymentSources.Cancel, paidAt: Deadline.AddSeconds(-1)));

        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Single(Published<PlaceOrder>());
        // The deadline timer has fired, so the pending-work timer watches the placement instead.
        Assert.NotNull(Order.PendingWorkTokenId);
    }

    [Fact]
    public async Task Should_keep_asking_when_the_provider_does_not_answer_the_withdrawal()
    {
        await GivenAwaitingPayment();
        await PaymentWindowFires();

        // 409 with the payment still reading pending: the consumer retries and finally faults; nothing is decided.
        await DeliverFault(new CancelPayment { OrderId = OrderId, ProviderReference = ProviderReference }, "System.InvalidOperationException",
            "the provider refused to withdraw payment qr_7f3a but reports it pending; asking again");
        await PendingWorkFires();

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Equal(2, Published<CancelPayment>().Count);
        Assert.Empty(Published<ReleaseStock>());
        Assert.Equal(AttentionReasons.CompensationStuck, Order.AttentionReason);

        await Deliver(Withdrawn("expired"));

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Single(Published<ReleaseStock>());
        Assert.NotNull(Order.AttentionReason); // flagged until the compensation it was about is complete

        await Deliver(new StockReleased { OrderId = OrderId });

        Assert.Null(Order.AttentionReason);
        Assert.Null(Order.PendingWorkTokenId);
        Assert.Equal(0, Order.PendingWorkAttempts);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_withdraw_the_qr_first_when_the_sweep_reports_the_hold_overdue_and_place_if_paid_meanwhile()
    {
        await GivenAwaitingPayment();

        await Deliver(new StockHoldOverdue { OrderId = OrderId, ExpiredAt = Clock.GetUtcNow() });

        Assert.Single(Published<CancelPayment>());
        Assert.Empty(Published<ReleaseStock>());
        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Null(Order.PaymentWindowTokenId);

        await Deliver(Payment(PaymentSources.Webhook));

        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Single(Published<PlaceOrder>());
        Assert.Empty(Published<ReleaseStock>());
        Assert.NotNull(Order.PendingWorkTokenId);
    }

    [Fact]
    public async Task Should_expire_when_the_sweep_reports_the_hold_overdue_and_the_provider_confirms_the_withdrawal()
    {
        await GivenAwaitingPayment();
        await Deliver(new StockHoldOverdue { OrderId = OrderId, ExpiredAt = Clock.GetUtcNow() });

        await Deliver(Withdrawn());

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Single(Published<ReleaseStock>());
        Assert.Equal(PaymentStatus.Expired, Order.PaymentStatus);
    }

    [Fact]
    public async Task Should_ignore_an_overdue_hold_report_while_already_withdrawing()
    {
        await GivenAwaitingPayment();
        await PaymentWindowFires();

        await Deliver(new StockHoldOverdue { OrderId = OrderId, ExpiredAt = Clock.GetUtcNow() });

        Assert.Single(Published<CancelPayment>());
        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
    }

    [Theory]
    [InlineData(PaymentSources.Poll)]
    [InlineData(PaymentSources.Webhook)]
    public async Task Should_place_a_payment_the_provider_took_after_its_deadline_while_the_stock_is_still_held(string source)
    {
        await GivenAwaitingPayment();

        await Deliver(Payment(source, paidAt: Deadline.AddSeconds(2)));

        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Contains("after the QR's deadline by the provider's clock", Order.Timeline[^1].Detail);
    }
}
