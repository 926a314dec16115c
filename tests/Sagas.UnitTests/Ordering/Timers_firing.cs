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
        ["Saga:PollInterval"] = "00:00:00.100",
    };

    [Fact]
    public async Task Should_poll_and_then_expire_an_unpaid_order()
    {
        await GivenAwaitingPayment();

        Assert.True(await Harness.Published.Any<CheckPaymentStatus>());
        Assert.NotNull(await Saga.Exists(OrderId, x => x.Expired));
        Assert.True(await Harness.Published.Any<CancelPayment>());
        Assert.True(await Harness.Published.Any<ReleaseStock>());
    }
}
