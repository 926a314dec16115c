using System.Net;
using Sagas.Testing;

namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Webhook_delivery : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    readonly SandboxFixture _sandbox;
    readonly SandboxApi _api;

    public Webhook_delivery(SandboxFixture sandbox)
    {
        _sandbox = sandbox;
        _api = sandbox.Api;
    }

    public Task InitializeAsync() => _api.ResetSettingsAsync();

    public Task DisposeAsync() => _api.ResetSettingsAsync();

    Task<IReadOnlyList<ReceivedWebhook>> ReceivedAsync(string providerReference, int count) =>
        Eventually.Until(() => Task.FromResult(_sandbox.Receiver.For(providerReference)), w => w.Count >= count,
            because: $"{count} webhook(s) for {providerReference}");

    [Fact]
    public async Task A_payment_is_announced_with_a_valid_signature()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await _api.CreatePaymentAsync(order, 30.00m, "EUR");

        await _api.PaidAsync(payment.ProviderReference, 29.99m);

        var webhook = Assert.Single(await ReceivedAsync(payment.ProviderReference, 1));
        var timestamp = webhook.VerifySignature(SandboxFixture.WebhookSecret);
        Assert.InRange(_sandbox.Clock.GetUtcNow().ToUnixTimeSeconds() - timestamp, 0, 300);
        Assert.Equal("application/json", webhook.ContentType?.Split(';')[0]);
        Assert.Equal(("payment.succeeded", order, 29.99m, "EUR"),
            (webhook.Type, webhook.MerchantReference, webhook.Amount, webhook.Currency));
        Assert.True(Guid.TryParse(webhook.EventId, out _));
        Assert.Equal((await _api.GetPaymentAsync(payment.ProviderReference)).PaidAt, webhook.OccurredAt);
        await Eventually.Until(async () => (await _api.WebhookDeliveriesAsync(payment.ProviderReference))
            .All(d => d.Status == "delivered"), because: "the delivery log records the 200");
    }

    [Fact]
    public async Task A_failure_and_a_refund_are_announced_too()
    {
        var failed = await _api.CreatePaymentAsync(Guid.NewGuid().ToString());
        var refunded = await _api.CreatePaymentAsync(Guid.NewGuid().ToString(), 20m);

        Assert.Equal(HttpStatusCode.OK, (await _api.FailAsync(failed.ProviderReference)).StatusCode);
        await _api.PaidAsync(refunded.ProviderReference);
        await _api.RefundAsync(refunded.ProviderReference, Guid.NewGuid().ToString(), 7.25m);

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
        await _api.SettingsAsync(new { webhookDuplicates = 2 });
        var payment = await _api.CreatePaymentAsync(Guid.NewGuid().ToString());

        await _api.PaidAsync(payment.ProviderReference);

        var copies = await ReceivedAsync(payment.ProviderReference, 3);
        Assert.Equal(3, copies.Count);
        Assert.Single(copies.Select(w => w.Body).Distinct());
        Assert.All(copies, w => w.VerifySignature(SandboxFixture.WebhookSecret));
    }

    [Fact]
    public async Task Switched_off_sends_nothing()
    {
        await _api.SettingsAsync(new { webhooks = "off" });
        var silent = await _api.CreatePaymentAsync(Guid.NewGuid().ToString());
        await _api.PaidAsync(silent.ProviderReference);
        await _api.SettingsAsync(new { webhooks = "on" });
        var announced = await _api.CreatePaymentAsync(Guid.NewGuid().ToString());
        await _api.PaidAsync(announced.ProviderReference);

        await ReceivedAsync(announced.ProviderReference, 1);

        // Queuing happens in the pay transaction, so an empty log right after it is final.
        Assert.Empty(await _api.WebhookDeliveriesAsync(silent.ProviderReference));
        Assert.Empty(_sandbox.Receiver.For(silent.ProviderReference));
        Assert.Equal("succeeded", (await _api.GetPaymentAsync(silent.ProviderReference)).Status);
    }

    [Fact]
    public async Task A_delay_holds_the_webhook_back_at_least_that_long()
    {
        var delay = TimeSpan.FromMilliseconds(700);
        await _api.SettingsAsync(new { webhookDelayMs = (int)delay.TotalMilliseconds });
        var payment = await _api.CreatePaymentAsync(Guid.NewGuid().ToString());

        var paidAt = System.Diagnostics.Stopwatch.StartNew();
        await _api.PaidAsync(payment.ProviderReference);
        await ReceivedAsync(payment.ProviderReference, 1);

        Assert.True(paidAt.Elapsed >= delay - TimeSpan.FromMilliseconds(50),
            $"arrived after {paidAt.Elapsed}, delay is {delay}");
    }
}
