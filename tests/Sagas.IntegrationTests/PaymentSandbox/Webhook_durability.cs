namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Webhook_durability(SandboxWithReceiverDownFixture sandbox) : IClassFixture<SandboxWithReceiverDownFixture>
{
    [Fact]
    public async Task A_queued_webhook_survives_a_restart_of_the_sandbox()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await sandbox.Api.PaidPaymentAsync(order);
        await Eventually.Until(() => sandbox.Api.WebhookDeliveriesAsync(payment.ProviderReference),
            d => d is [{ Attempts: >= 1, Status: "pending" }], because: "the receiver is down");

        await sandbox.RestartAsync();
        await sandbox.Receiver.StartAsync();

        var received = await Eventually.Until(() => Task.FromResult(sandbox.Receiver.For(payment.ProviderReference)),
            w => w.Count > 0, because: "the restarted sandbox finds the webhook in its queue");
        Assert.Equal(("payment.succeeded", order), (Assert.Single(received).Type, received[0].MerchantReference));
    }
}
