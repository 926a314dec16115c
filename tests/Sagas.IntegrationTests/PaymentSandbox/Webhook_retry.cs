namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Webhook_retry(SandboxWithReceiverDownFixture sandbox) : IClassFixture<SandboxWithReceiverDownFixture>
{
    [Fact]
    public async Task A_webhook_the_receiver_was_down_for_arrives_once_it_is_up()
    {
        var api = sandbox.Api;
        var order = Guid.NewGuid().ToString();
        var payment = await api.PaidPaymentAsync(order);

        var failing = await Eventually.Until(() => api.WebhookDeliveriesAsync(payment.ProviderReference),
            d => d is [{ Attempts: >= 2, LastError: not null }], because: "the sandbox keeps trying while the receiver is down");
        Assert.Equal("pending", failing[0].Status);

        await sandbox.Receiver.StartAsync();

        var received = await Eventually.Until(() => Task.FromResult(sandbox.Receiver.For(payment.ProviderReference)),
            w => w.Count > 0, because: "the next retry reaches the receiver");
        var webhook = Assert.Single(received);
        webhook.VerifySignature(SandboxFixture.WebhookSecret);
        Assert.Equal(("payment.succeeded", order, failing[0].EventId.ToString()),
            (webhook.Type, webhook.MerchantReference, webhook.EventId));
        await Eventually.Until(async () => (await api.WebhookDeliveriesAsync(payment.ProviderReference)) is [{ Status: "delivered" }],
            because: "the delivery is recorded as done");
        Assert.Single(sandbox.Receiver.For(payment.ProviderReference));
    }
}
