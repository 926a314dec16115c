using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Payment_qr_ready : OrderSagaSpec
{
    PaymentRequested Qr => new()
    {
        OrderId = OrderId,
        ProviderReference = ProviderReference,
        QrPayload = "qr://pay/7f3a",
        ExpiresAt = Start.AddMinutes(60),
    };

    [Fact]
    public async Task Should_keep_the_qr_for_the_storefront()
    {
        await GivenAwaitingPayment(qrReady: false);

        await Deliver(Qr);

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Equal(ProviderReference, Order.ProviderReference);
        Assert.Equal("qr://pay/7f3a", Order.QrPayload);
        Assert.Equal(Start.AddMinutes(60), Order.PaymentExpiresAt);
        var entry = Order.Timeline[^1];
        Assert.Equal(("PaymentRequested", OrderStatuses.AwaitingPayment, OrderStatuses.AwaitingPayment), (entry.Event, entry.FromState, entry.ToState));
        Assert.StartsWith("QR ready: provider reference qr_7f3a", entry.Detail);
    }

    [Fact]
    public async Task Should_record_it_once_when_reported_again()
    {
        await GivenAwaitingPayment(qrReady: false);

        await Deliver(Qr);
        await Deliver(Qr);

        Assert.Single(Order.Timeline, e => e.Event == "PaymentRequested");
    }
}

/// <summary>
/// The payment is polled by the Workers' PaymentStatusPoll (one provider listing per tick for every order), not by a
/// timer per order: awaiting payment costs the saga nothing until something happens.
/// </summary>
public sealed class Polling_the_payment : OrderSagaSpec
{
    [Fact]
    public async Task Should_arm_no_poll_timer_of_its_own()
    {
        await GivenAwaitingPayment();

        Assert.Empty(Scheduled<PaymentPollDue>());
        Assert.Null(Order.PaymentPollTokenId);
        Assert.Empty(Published<CheckPaymentStatus>());
    }

    [Fact]
    public async Task Should_ignore_a_poll_timer_armed_by_an_earlier_version()
    {
        await GivenAwaitingPayment();
        var token = Guid.NewGuid();
        Order.PaymentPollTokenId = token;
        var entries = Order.Timeline.Count;

        await DeliverTimer(new PaymentPollDue { OrderId = OrderId }, token);

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Empty(Published<CheckPaymentStatus>());
        Assert.Empty(Scheduled<PaymentPollDue>());
        Assert.Equal(entries, Order.Timeline.Count);
    }

    [Fact]
    public async Task Should_leave_a_still_pending_answer_off_the_timeline()
    {
        await GivenAwaitingPayment();
        var entries = Order.Timeline.Count;
        var updatedAt = Order.UpdatedAt;
        Clock.Advance(TimeSpan.FromSeconds(5));

        await Deliver(new PaymentStillPending { OrderId = OrderId, ProviderReference = ProviderReference });

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Equal(entries, Order.Timeline.Count);
        Assert.Equal(updatedAt, Order.UpdatedAt);
    }
}
