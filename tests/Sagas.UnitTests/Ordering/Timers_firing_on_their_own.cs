using Sagas.Contracts.Inventory;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>The schedules as configured, fired by the transport's delayed delivery rather than by the spec.</summary>
public sealed class Timers_firing_on_their_own : OrderSagaSpec
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        // Long enough for the spec to deliver the QR before the window closes, even on a busy machine.
        ["Saga:PaymentWindow"] = "00:00:01.500",
        ["Saga:PaymentGrace"] = "00:00:00.500",
        ["Saga:PendingWorkRetry"] = "00:30:00",
    };

    [Fact]
    public async Task Should_ask_the_provider_to_withdraw_an_unpaid_qr_code_keeping_the_stock()
    {
        await GivenAwaitingPayment(qrReady: false);
        // The spec's clock stands still while the transport fires the timers in real time: a deadline already past
        // by that clock makes the window timer (window + grace after the hold) withdraw the QR code when it fires.
        await Deliver(new PaymentRequested
        {
            OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://pay/7f3a", ExpiresAt = Clock.GetUtcNow().AddSeconds(-1),
        });

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Published<CancelPayment>().Count == 0 && waited.Elapsed < Harness.TestTimeout)
            await Task.Delay(50);

        // No poll of its own meanwhile: the Workers' PaymentStatusPoll watches every order's payment at once.
        Assert.Empty(Published<CheckPaymentStatus>());
        Assert.Single(Published<CancelPayment>());
        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Empty(Published<ReleaseStock>());
    }
}
