using Sagas.Testing;

namespace Sagas.EndToEndTests.Fulfilment;

/// <summary>Stock is held for less time than the payment window, so a payment near the end finds its hold gone.</summary>
public sealed class Hold_expired_before_placement(Hold_expired_before_placement.Stack stack)
    : IClassFixture<Hold_expired_before_placement.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(20);
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["Saga__HoldTtl"] = "00:00:02",
            ["Sweeps__ExpiredHoldsInterval"] = "00:00:01",
        };
    }

    [Fact]
    public async Task The_order_fails_with_hold_expired_and_the_payment_is_refunded_once()
    {
        await stack.StockItem("SHORT-1", 5, price: 8m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("SHORT-1", 2));
        // The expired-holds sweep gives the stock back: proof the hold is gone before the customer pays.
        await Eventually.Until(async () => await stack.Stock("SHORT-1") == (5, 0), because: "hold expired and released");

        await stack.Pay(reference);

        var failed = await stack.OrderIn(orderId, "Failed");
        Assert.Equal("hold-expired", failed.GetProperty("failureReason").GetString());
        await Eventually.Until(async () => (await stack.Money(orderId)).Refunds == 1, because: "refunded");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 16m, 1, 16m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        Assert.Equal((5, 0), await stack.Stock("SHORT-1"));
    }
}

/// <summary>The quality bar's oversell check: 200 concurrent orders for 50 units.</summary>
public sealed class Two_hundred_orders_for_fifty_units(Two_hundred_orders_for_fifty_units.Stack stack)
    : IClassFixture<Two_hundred_orders_for_fifty_units.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromMinutes(2);
        protected override TimeSpan PollInterval => TimeSpan.FromSeconds(2);
    }

    [Fact]
    public async Task Exactly_fifty_are_placed_and_nothing_stays_held()
    {
        await stack.StockItem("HOT-1", 50, price: 5m);
        var orders = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => stack.PlaceOrder(("HOT-1", 1))));

        var firstOutcome = await Task.WhenAll(orders.Select(id => stack.OrderWhen(id,
            o => o.GetProperty("status").GetString() == "Rejected" || o.GetProperty("payment").ValueKind == System.Text.Json.JsonValueKind.Object
                 && o.GetProperty("payment").GetProperty("providerReference").GetString() is { Length: > 0 },
            "rejected or awaiting payment", TimeSpan.FromSeconds(120))));
        var awaiting = firstOutcome.Where(o => o.GetProperty("status").GetString() != "Rejected").ToList();
        Assert.Equal(50, awaiting.Count);
        Assert.Equal((50, 50), await stack.Stock("HOT-1"));

        await Task.WhenAll(awaiting.Select(o => stack.Pay(o.GetProperty("payment").GetProperty("providerReference").GetString()!)));

        foreach (var order in awaiting)
            await stack.OrderIn(order.GetProperty("orderId").GetGuid(), "Placed", TimeSpan.FromSeconds(120));
        Assert.Equal((0, 0), await stack.Stock("HOT-1"));
        foreach (var order in awaiting)
        {
            var money = await stack.Money(order.GetProperty("orderId").GetGuid());
            Assert.Equal((1, 0), (money.Captured, money.Refunds));
        }
    }
}

/// <summary>The provider fails 30% of calls with 5xx and answers slowly; orders still complete, never charged twice.</summary>
public sealed class Provider_faults(StackFixture stack) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task Orders_complete_through_errors_and_latency_with_one_charge_each()
    {
        await stack.StockItem("FLAKY-1", 100, price: 4m);
        await stack.Settings(new { webhooks = "on", errorRate = 0.3, latencyMs = 500 });
        try
        {
            var orders = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => stack.PlaceOrderAwaitingPayment(("FLAKY-1", 1))));
            await Task.WhenAll(orders.Select(o => stack.Pay(o.ProviderReference)));

            foreach (var (orderId, _) in orders)
            {
                await stack.OrderIn(orderId, "Placed", TimeSpan.FromSeconds(90));
                var money = await stack.Money(orderId);
                Assert.Equal((1, 1, 4m, 0), (money.Payments, money.Captured, money.CapturedAmount, money.Refunds));
            }

            Assert.Equal((90, 0), await stack.Stock("FLAKY-1"));
        }
        finally
        {
            await stack.Settings(new { errorRate = 0.0, latencyMs = 0 });
        }
    }
}
