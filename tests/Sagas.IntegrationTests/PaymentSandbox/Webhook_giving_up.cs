namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Webhook_giving_up(SandboxGivingUpQuicklyFixture sandbox) : IClassFixture<SandboxGivingUpQuicklyFixture>
{
    [Fact]
    public async Task An_undeliverable_webhook_is_abandoned_and_the_sandbox_keeps_serving()
    {
        var payment = await sandbox.Api.PaidPaymentAsync(Guid.NewGuid().ToString());

        var deliveries = await Eventually.Until(() => sandbox.Api.WebhookDeliveriesAsync(payment.ProviderReference),
            d => d is [{ Status: "abandoned" }], because: "the give-up time is 300 ms");

        Assert.Contains("refused", deliveries[0].LastError, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Api.Client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal("succeeded", (await sandbox.Api.GetPaymentAsync(payment.ProviderReference)).Status);
        await sandbox.Api.CreatePaymentAsync(Guid.NewGuid().ToString());
    }
}
