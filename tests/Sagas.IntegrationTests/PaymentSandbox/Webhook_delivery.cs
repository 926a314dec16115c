namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Webhook_delivery(SandboxFixture sandbox) : WithDefaultSandboxSettings(sandbox)
{
    Task<IReadOnlyList<ReceivedWebhook>> ReceivedAsync(string providerReference, int count) =>
        Eventually.Until(() => Task.FromResult(Sandbox.Receiver.For(providerReference)), w => w.Count >= count,
            because: $"{count} webhook(s) for {providerReference}");

    [Fact]
    public async Task A_payment_is_announced_with_a_valid_signature()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order, 30.00m, "EUR");

        await Api.PaidAsync(payment.ProviderReference, 29.99m);

        var webhook = Assert.Single(await ReceivedAsync(payment.ProviderReference, 1));
        var timestamp = webhook.VerifySignature(SandboxFixture.WebhookSecret);
        Assert.InRange(Sandbox.Clock.GetUtcNow().ToUnixTimeSeconds() - timestamp, 0, 300);
        Assert.Equal("application/json", webhook.ContentType?.Split(';')[0]);
        Assert.Equal(("payment.succeeded", order, 29.99m, "EUR"),
            (webhook.Type, webhook.MerchantReference, webhook.Amount, webhook.Currency));
        Assert.True(Guid.TryParse(webhook.EventId, out _));
        Assert.Equal((await Api.GetPaymentAsync(payment.ProviderReference)).PaidAt, webhook.OccurredAt);
        await Eventually.Until(async () => (await Api.WebhookDeliveriesAsync(payment.ProviderReference))
            .All(d => d.Status == "delivered"), because: "the delivery log records the 200");
    }

    [Fact]
    public async Task A_failure_and_a_refund_are_announced_too()
    {
        var failed = await Api.CreatePaymentAsync(Guid.NewGuid().ToString());
        var refunded = await Api.CreatePaymentAsync(Guid.NewGuid().ToString(), 20m);

        Assert.Equal(HttpStatusCode.OK, (await Api.FailAsync(failed.ProviderReference)).StatusCode);
        await Api.PaidAsync(refunded.ProviderReference);
        await Api.RefundAsync(refunded.ProviderReference, Guid.NewGuid().ToString(), 7.25m);

        var failure = Assert.Single(await ReceivedAsync(failed.ProviderReference, 1));
        Assert.Equal(("payment.failed", 12.50m), (failure.Type, failure.Amount));
        var refundEvents = await ReceivedAsync(refunded.ProviderReference, 2);
        var refund = Assert.Single(refundEvents, w => w.Type == "refund.succeeded");
        Assert.Equal(7.25m, refund.Amount);
        refund.VerifySignature(SandboxFixture.WebhookSecret);
    }

    [Fact]
    public async Task Duplicates_repeat_the_same_event()
    {
        await Api.SettingsAsync(new { webhookDuplicates = 2 });
        var payment = await Api.CreatePaymentAsync(Guid.NewGuid().ToString());

        await Api.PaidAsync(payment.ProviderReference);

        var copies = await ReceivedAsync(payment.ProviderReference, 3);
        Assert.Equal(3, copies.Count);
        Assert.Single(copies.Select(w => w.Body).Distinct());
        Assert.All(copies, w => w.VerifySignature(SandboxFixture.WebhookSecret));
    }

    [Fact]
    public async Task Switched_off_sends_nothing()
    {
        await Api.SettingsAsync(new { webhooks = "off" });
        var silent = await Api.PaidPaymentAsync(Guid.NewGuid().ToString());
        await Api.SettingsAsync(new { webhooks = "on" });
        var announced = await Api.PaidPaymentAsync(Guid.NewGuid().ToString());

        await ReceivedAsync(announced.ProviderReference, 1);

        // Queuing happens in the pay transaction, so an empty log right after it is final.
        Assert.Empty(await Api.WebhookDeliveriesAsync(silent.ProviderReference));
        Assert.Empty(Sandbox.Receiver.For(silent.ProviderReference));
        Assert.Equal("succeeded", (await Api.GetPaymentAsync(silent.ProviderReference)).Status);
    }

    [Fact]
    public async Task A_delay_holds_the_webhook_back_at_least_that_long()
    {
        var delay = TimeSpan.FromMilliseconds(700);
        await Api.SettingsAsync(new { webhookDelayMs = (int)delay.TotalMilliseconds });
        var payment = await Api.CreatePaymentAsync(Guid.NewGuid().ToString());

        var paidAt = System.Diagnostics.Stopwatch.StartNew();
        await Api.PaidAsync(payment.ProviderReference);
        await ReceivedAsync(payment.ProviderReference, 1);

        Assert.True(paidAt.Elapsed >= delay - TimeSpan.FromMilliseconds(50),
            $"arrived after {paidAt.Elapsed}, delay is {delay}");
    }
}
