using Sagas.EndToEndTests.Api;

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

    /// <summary>
    /// One provider listing per tick serves every order awaiting payment: payments made in different ticks, and one
    /// made while another order keeps waiting, are each noticed once; the order nobody paid is left alone.
    /// </summary>
    [Fact]
    public async Task Payments_in_different_ticks_are_each_noticed_once_and_the_unpaid_order_keeps_waiting()
    {
        await stack.StockItem("POLL-2", 10, price: 7m);
        var first = await stack.PlaceOrderAwaitingPayment(("POLL-2", 1));
        var second = await stack.PlaceOrderAwaitingPayment(("POLL-2", 1));
        var unpaid = await stack.PlaceOrderAwaitingPayment(("POLL-2", 1));

        await stack.Pay(first.ProviderReference);
        await stack.OrderIn(first.OrderId, "Placed");
        // Several ticks later (500 ms each here), after the read position moved past the first payment.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stack.Pay(second.ProviderReference);
        await stack.OrderIn(second.OrderId, "Placed");

        foreach (var orderId in new[] { first.OrderId, second.OrderId })
        {
            var money = await stack.Money(orderId);
            Assert.Equal((1, 1, 7m, 0), (money.Payments, money.Captured, money.CapturedAmount, money.Refunds));
            var timeline = await stack.Timeline(orderId);
            Assert.Single(timeline.EnumerateArray(), e => e.GetProperty("event").GetString() == "PaymentSucceeded");
        }

        var waiting = await stack.Order(unpaid.OrderId);
        Assert.Equal("AwaitingPayment", waiting.GetProperty("status").GetString());
        Assert.Equal((8, 1), await stack.Stock("POLL-2"));
    }
}

/// <summary>Nobody pays: the order expires only once the provider confirms its QR code can no longer be paid.</summary>
public sealed class Unpaid_order_expiring(Unpaid_order_expiring.Stack stack) : IClassFixture<Unpaid_order_expiring.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(15);
        // No poll reads the provider's "expired" first: the saga's own withdrawal at the deadline decides.
        protected override TimeSpan PollInterval => TimeSpan.FromMinutes(5);
    }

    [Fact]
    public async Task The_qr_is_withdrawn_the_order_expires_and_its_stock_comes_back()
    {
        await stack.StockItem("EXPIRE-1", 5);
        var (orderId, _) = await stack.PlaceOrderAwaitingPayment(("EXPIRE-1", 4));
        Assert.Equal((5, 4), await stack.Stock("EXPIRE-1"));

        var expired = await stack.OrderIn(orderId, "Expired");

        Assert.Equal("payment-expired", expired.GetProperty("failureReason").GetString());
        await Testing.Eventually.Until(async () => await stack.Stock("EXPIRE-1") == (5, 0), because: "stock released");
        var money = await stack.Money(orderId);
        Assert.Equal((1, 0, 0), (money.Payments, money.Captured, money.Refunds));
        // Expired only once the provider answered the saga's request to withdraw the QR code (canceled, or already
        // expired by the provider's own clock).
        Assert.True(money.Status is "canceled" or "expired", $"payment {money.Status}");
        var timeline = await stack.Timeline(orderId);
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("detail").GetString()?.Contains("asking the provider to withdraw the QR code") == true);
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("to").GetString() == "Expired" && e.GetProperty("event").GetString() == "PaymentCanceled");
    }
}

/// <summary>
/// A payment window short enough to reach its deadline within a test, and the next poll far beyond it: what happens at
/// the deadline (the withdrawal's answer, a late webhook) decides.
/// </summary>
public sealed class DeadlineStack : StackFixture
{
    protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(20);
    protected override TimeSpan PollInterval => TimeSpan.FromMinutes(5);
}

/// <summary>
/// The customer pays in time, but the saga hears nothing of it (no webhook, the next poll long after the deadline)
/// until it asks the provider to withdraw the QR code: the provider refuses (409, paid), the status read shows the
/// capture, and the order is placed — never expired and refunded.
/// </summary>
public sealed class Paid_in_time_heard_of_only_at_the_deadline(DeadlineStack stack) : IClassFixture<DeadlineStack>
{
    [Fact]
    public async Task The_order_is_placed_with_one_capture_and_no_refund()
    {
        await stack.Settings(new { webhooks = "off" });
        await stack.StockItem("LATE-1", 5, price: 12m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment(("LATE-1", 1));
        await stack.Pay(reference);

        var placed = await stack.OrderIn(orderId, "Placed", TimeSpan.FromSeconds(90));

        Assert.Equal(JsonValueKind.Null, placed.GetProperty("failureReason").ValueKind);
        Assert.Equal(JsonValueKind.String, placed.GetProperty("payment").GetProperty("paidAt").ValueKind);
        var money = await stack.Money(orderId);
        Assert.Equal((1, 12m, 0), (money.Captured, money.CapturedAmount, money.Refunds));
        Assert.Equal((4, 0), await stack.Stock("LATE-1"));
        var timeline = await stack.Timeline(orderId);
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("detail").GetString()?.Contains("(cancel)") == true);
    }
}

/// <summary>
/// Customers paying 1.5 s, 0.5 s and 0.1 s before the QR's deadline, while the webhook is slower than the saga's
/// grace and the poll is far away: whichever news comes first (the withdrawal's answer or the webhook), every one
/// is placed and nobody is refunded.
/// </summary>
public sealed class Paying_just_before_the_deadline(DeadlineStack stack) : IClassFixture<DeadlineStack>
{
    [Theory]
    [InlineData(1500)]
    [InlineData(500)]
    [InlineData(100)]
    public async Task The_order_is_placed_and_never_refunded(int millisecondsBeforeTheDeadline)
    {
        await stack.Settings(new { webhooks = "on", webhookDelayMs = 3_000 });
        var sku = $"EDGE-{millisecondsBeforeTheDeadline}";
        await stack.StockItem(sku, 5, price: 7m);
        var (orderId, reference) = await stack.PlaceOrderAwaitingPayment((sku, 1));
        var deadline = (await stack.Order(orderId)).GetProperty("payment").GetProperty("expiresAt").GetDateTimeOffset();

        // The customer pays at deadline − margin: the call is made then and names that instant (a loaded machine may
        // deliver it a little later; the provider books the customer's instant, as a bank's confirmation would).
        var paidAt = deadline.AddMilliseconds(-millisecondsBeforeTheDeadline);
        var wait = paidAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        await stack.Pay(reference, at: paidAt);

        await stack.OrderIn(orderId, "Placed", TimeSpan.FromSeconds(60));
        var money = await stack.Money(orderId);
        Assert.Equal((1, 7m, 0), (money.Captured, money.CapturedAmount, money.Refunds));
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
        var orderId = await stack.PlacedOrder(("CANCEL-2", 2));
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
