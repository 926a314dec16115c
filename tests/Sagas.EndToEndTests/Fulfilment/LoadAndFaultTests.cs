using Sagas.EndToEndTests.Api;

namespace Sagas.EndToEndTests.Fulfilment;

/// <summary>
/// The cancel storm: every order is canceled by the storefront right after its 202, half of them at once and half just
/// as the customer pays the QR code that is shown. A cancel answered 202 is a promise: every order ends Canceled,
/// every capture is refunded exactly once, and all the stock comes back.
/// </summary>
public sealed class Cancel_storm(StackFixture stack) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task Every_accepted_cancel_ends_canceled_with_every_capture_refunded_once_and_the_stock_back()
    {
        const int orders = 40;
        await stack.StockItem("STORM-1", 100, price: 3m);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, orders).Select(async i =>
        {
            var orderId = await stack.PlaceOrder(("STORM-1", 1));
            if (i % 2 == 0)
                return (orderId, Cancel: await stack.Cancel(orderId, ApiFixture.StorefrontKey));

            // The customer pays the QR code while the storefront cancels.
            var reference = (await stack.OrderWhen(orderId, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object,
                "QR shown", TimeSpan.FromSeconds(90))).GetProperty("payment").GetProperty("providerReference").GetString()!;
            var cancel = stack.Cancel(orderId, ApiFixture.StorefrontKey);
            await stack.TryPay(reference);
            return (orderId, Cancel: await cancel);
        }));

        Assert.All(outcomes, o => Assert.Equal(HttpStatusCode.Accepted, o.Cancel.StatusCode));
        var captured = 0;
        foreach (var (orderId, _) in outcomes)
        {
            var order = await stack.OrderIn(orderId, "Canceled", TimeSpan.FromSeconds(120));
            Assert.Equal("canceled", order.GetProperty("failureReason").GetString());
            var money = await Eventually.Until(() => stack.Money(orderId), m => m.Refunds == m.Captured, TimeSpan.FromSeconds(60),
                $"order {orderId}: every capture refunded");
            Assert.True(money.Captured <= 1, $"order {orderId}: {money.Captured} captures");
            Assert.Equal(money.CapturedAmount, money.Refunded);
            captured += money.Captured;
        }

        Assert.True(captured > 0, "no customer managed to pay before the cancel: the storm tested no refund");
        await Eventually.Until(async () => await stack.Stock("STORM-1") == (100, 0), because: "all the stock back");
    }
}

/// <summary>
/// The provider refuses refunds for a while: the order waits in Compensating, flagged for support, until support
/// retries once refunds work again — then exactly one refund, and the order ends.
/// </summary>
public sealed class Refund_refused_then_retried_by_support(Refund_refused_then_retried_by_support.Stack stack)
    : IClassFixture<Refund_refused_then_retried_by_support.Stack>
{
    public sealed class Stack : StackFixture
    {
        // Only support's retry may bring the refund about within the test.
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["Saga__PendingWorkRetry"] = "00:10:00",
        };
    }

    [Fact]
    public async Task The_order_is_flagged_and_one_support_retry_refunds_it_exactly_once()
    {
        await stack.StockItem("REFUSE-1", 5, price: 25m);
        var orderId = await stack.PlacedOrder(("REFUSE-1", 1));
        await (await stack.RetryCompensation(orderId)).AssertProblem(HttpStatusCode.Conflict); // nothing pending
        await stack.WhileRefundsAreRefused(async () =>
        {
            Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(orderId, ApiFixture.SupportKey)).StatusCode);

            var flagged = await stack.OrderWhen(orderId, o => o.GetProperty("attention").ValueKind == JsonValueKind.Object, "flagged for support");
            Assert.Equal("Compensating", flagged.GetProperty("status").GetString());
            Assert.Equal("refund-refused", flagged.GetProperty("attention").GetProperty("reason").GetString());
            Assert.Contains((await stack.Attention()).GetProperty("items").EnumerateArray(), o => o.GetProperty("orderId").GetGuid() == orderId);
            Assert.Equal(0, (await stack.Money(orderId)).Refunds);
        });

        Assert.Equal(HttpStatusCode.Accepted, (await stack.RetryCompensation(orderId)).StatusCode);

        var canceled = await stack.OrderIn(orderId, "Canceled");
        Assert.Equal(JsonValueKind.Null, canceled.GetProperty("attention").ValueKind);
        var money = await stack.Money(orderId);
        Assert.Equal((1, 25m, 1, 25m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        Assert.DoesNotContain((await stack.Attention()).GetProperty("items").EnumerateArray(), o => o.GetProperty("orderId").GetGuid() == orderId);
        await Eventually.Until(async () => await stack.Stock("REFUSE-1") == (5, 0), because: "stock returned");
        var timeline = await stack.Timeline(orderId);
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("detail").GetString()?.Contains("asked to retry: refund") == true);
        await (await stack.RetryCompensation(orderId)).AssertProblem(HttpStatusCode.Conflict);
    }
}

/// <summary>The quality bar's oversell check: 200 concurrent orders for 50 units.</summary>
public sealed class Two_hundred_orders_for_fifty_units(Two_hundred_orders_for_fifty_units.Stack stack)
    : IClassFixture<Two_hundred_orders_for_fifty_units.Stack>
{
    public sealed class Stack : StackFixture
    {
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
