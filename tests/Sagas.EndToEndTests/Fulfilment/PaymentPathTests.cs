using System.Net;
using Sagas.EndToEndTests.Api;
using Sagas.Testing;

namespace Sagas.EndToEndTests.Fulfilment;

/// <summary>Polling alone finds the payment: the provider's webhooks are switched off.</summary>
public sealed class Paid_through_polling_only(StackFixture stack) : IClassFixture<StackFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => stack.Settings(new { webhooks = "off" });
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_order_is_placed_with_one_capture_and_no_refund()
    {
        await stack.StockItem("POLL-1", 5, price: 15m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("POLL-1", 2));

        await stack.Pay(reference);

        await stack.OrderIn(orderId, "Placed");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 1, 30m, 0), (money.Payments, money.Captured, money.CapturedAmount, money.Refunds));
        Assert.Equal((3, 0), await stack.Stock("POLL-1"));
    }

    [Fact]
    public async Task An_unpaid_order_expires_its_stock_comes_back_and_the_payment_is_canceled()
    {
        await stack.StockItem("POLL-2", 5);
        var (orderId, _) = await stack.PlaceOrderAwaitingPayment(("POLL-2", 4));
        Assert.Equal((5, 4), await stack.Stock("POLL-2"));

        var expired = await stack.OrderIn(orderId, "Expired");

        Assert.Equal("payment-expired", expired.GetProperty("failureReason").GetString());
        await Testing.Eventually.Until(async () => await stack.Stock("POLL-2") == (5, 0), because: "stock released");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 0, 0), (money.Payments, money.Captured, money.Refunds));
        // The saga withdrew the QR payment: the provider has it canceled (or, at the same instant, expired by
        // its own clock), and no money was taken.
        await Testing.Eventually.Until(async () => (await stack.Money(orderId)).Status is "canceled" or "expired", because: "payment withdrawn");
        Assert.Equal(0, (await stack.Money(orderId)).Captured);
        var timeline = await stack.Timeline(orderId);
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("to").GetString() == "Expired");
    }
}

/// <summary>
/// The customer pays inside the provider's window, but the saga hears of it only after its own window has
/// closed: no webhook, and the next poll would come long after the window. Expiry cancels the payment, the
/// provider answers "already paid", and the money must go back exactly once.
/// </summary>
public sealed class Paid_after_the_window(Paid_after_the_window.Stack stack) : IClassFixture<Paid_after_the_window.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(15);
        protected override TimeSpan PollInterval => TimeSpan.FromMinutes(5);
    }

    [Fact]
    public async Task The_order_expires_and_the_late_payment_is_refunded_exactly_once()
    {
        await stack.Settings(new { webhooks = "off" });
        await stack.StockItem("LATE-1", 5, price: 12m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("LATE-1", 1));
        await stack.Pay(reference);

        var expired = await stack.OrderIn(orderId, "Expired");

        Assert.Equal("payment-expired", expired.GetProperty("failureReason").GetString());
        await Testing.Eventually.Until(async () => (await stack.Money(orderId)).Refunds == 1, because: "late payment refunded");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 12m, 1, 12m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        await Testing.Eventually.Until(async () => await stack.Stock("LATE-1") == (5, 0), because: "stock released");
        // Nothing more happens to the money once the refund is done.
        await stack.OrderWhen(orderId, o => o.GetProperty("payment").GetProperty("status").GetString() == "Refunded", "payment refunded");
        Assert.Equal(1, (await stack.Money(orderId)).Refunds);
    }
}

/// <summary>The webhook alone brings the news: polling is slowed far beyond the test's duration.</summary>
public sealed class Paid_through_the_webhook_only(Paid_through_the_webhook_only.Stack stack)
    : IClassFixture<Paid_through_the_webhook_only.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromMinutes(2);
        protected override TimeSpan PollInterval => TimeSpan.FromMinutes(5);
    }

    [Fact]
    public async Task The_order_is_placed_from_the_webhook_even_when_it_is_delivered_three_times()
    {
        await stack.Settings(new { webhooks = "on", webhookDuplicates = 2 });
        await stack.StockItem("HOOK-1", 5, price: 9.99m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("HOOK-1", 1));

        await stack.Pay(reference);

        await stack.OrderIn(orderId, "Placed", TimeSpan.FromSeconds(30));
        var money = await stack.Money(orderId);
        Assert.Equal((1, 9.99m, 0), (money.Captured, money.CapturedAmount, money.Refunds));
        Assert.Equal((4, 0), await stack.Stock("HOOK-1"));
    }

    [Fact]
    public async Task A_payment_of_the_wrong_amount_is_never_placed_and_is_refunded_once()
    {
        await stack.Settings(new { webhooks = "on", webhookDuplicates = 1 });
        await stack.StockItem("HOOK-2", 5, price: 50m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("HOOK-2", 1));

        await stack.Pay(reference, amount: 5m);

        var failed = await stack.OrderIn(orderId, "Failed", TimeSpan.FromSeconds(30));
        Assert.Equal("amount-mismatch", failed.GetProperty("failureReason").GetString());
        await Testing.Eventually.Until(async () => (await stack.Money(orderId)).Refunds == 1, because: "mismatch refunded");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 5m, 1, 5m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        await Testing.Eventually.Until(async () => await stack.Stock("HOOK-2") == (5, 0), because: "stock released");
    }
}

/// <summary>Webhook and a fast poll race for the same payment; the first wins, the other is a duplicate.</summary>
public sealed class Webhook_and_poll_racing(StackFixture stack) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task Ten_orders_paid_with_both_channels_are_each_placed_once()
    {
        await stack.Settings(new { webhooks = "on", webhookDuplicates = 1 });
        await stack.StockItem("RACE-1", 100, price: 3m);
        var orders = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => stack.PlaceOrderAwaitingPayment(("RACE-1", 2))));

        await Task.WhenAll(orders.Select(o => stack.Pay(o.ProviderReference)));

        foreach (var (orderId, _) in orders)
        {
            await stack.OrderIn(orderId, "Placed");
            var money = await stack.Money(orderId);
            Assert.Equal((1, 6m, 0), (money.Captured, money.CapturedAmount, money.Refunds));
        }

        Assert.Equal((80, 0), await stack.Stock("RACE-1"));
    }
}

public sealed class Stock_and_cancellation(StackFixture stack) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task Insufficient_stock_rejects_the_order_and_holds_nothing()
    {
        await stack.StockItem("FEW-1", 1);
        var orderId = await stack.PlaceOrder(("FEW-1", 2));

        var rejected = await stack.OrderIn(orderId, "Rejected");

        Assert.Equal("insufficient-stock", rejected.GetProperty("failureReason").GetString());
        Assert.Equal((1, 0), await stack.Stock("FEW-1"));
        Assert.Equal(0, (await stack.Money(orderId)).Payments);
    }

    [Fact]
    public async Task Canceling_right_after_submitting_ends_canceled_with_no_money_taken_and_the_stock_back()
    {
        await stack.StockItem("CANCEL-0", 5);
        var orderId = await stack.PlaceOrder(("CANCEL-0", 2));

        Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(orderId, ApiFixture.StorefrontKey)).StatusCode);

        var canceled = await stack.OrderIn(orderId, "Canceled");
        Assert.Equal("canceled", canceled.GetProperty("failureReason").GetString());
        await Testing.Eventually.Until(async () => await stack.Stock("CANCEL-0") == (5, 0), because: "stock released");
        Assert.Equal(0, (await stack.Money(orderId)).Captured);
    }

    [Fact]
    public async Task Canceling_while_awaiting_payment_cancels_the_qr_payment_and_releases_the_stock()
    {
        await stack.StockItem("CANCEL-1", 5);
        var (orderId, _) = await stack.PlaceOrderAwaitingPayment(("CANCEL-1", 3));

        Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(orderId, ApiFixture.StorefrontKey)).StatusCode);

        await stack.OrderIn(orderId, "Canceled");
        await Testing.Eventually.Until(async () => await stack.Stock("CANCEL-1") == (5, 0), because: "stock released");
        await Testing.Eventually.Until(async () => (await stack.Money(orderId)).Status == "canceled", because: "payment canceled");
    }

    [Fact]
    public async Task Support_cancels_a_placed_order_refunding_once_and_returning_the_stock_while_the_storefront_cannot()
    {
        await stack.StockItem("CANCEL-2", 5, price: 30m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("CANCEL-2", 2));
        await stack.Pay(reference);
        await stack.OrderIn(orderId, "Placed");
        Assert.Equal((3, 0), await stack.Stock("CANCEL-2"));

        await (await stack.Cancel(orderId, ApiFixture.StorefrontKey)).AssertProblem(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(orderId, ApiFixture.SupportKey)).StatusCode);

        await stack.OrderIn(orderId, "Canceled");
        await Testing.Eventually.Until(async () => (await stack.Money(orderId)).Refunds == 1, because: "refunded");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 60m, 1, 60m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        await Testing.Eventually.Until(async () => await stack.Stock("CANCEL-2") == (5, 0), because: "stock returned");
        await (await stack.Cancel(orderId, ApiFixture.SupportKey)).AssertProblem(HttpStatusCode.Conflict);
    }
}
