namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// Base of a test class that scripts the sandbox's behaviour (error rate, latency, webhooks, refunds and cancels
/// refused): the settings belong to the whole sandbox the class shares, so every test starts from, and leaves, the
/// defaults.
/// </summary>
public abstract class WithDefaultSandboxSettings(SandboxFixture sandbox) : SandboxSpec(sandbox), IAsyncLifetime
{
    public Task InitializeAsync() => Api.ResetSettingsAsync();

    public Task DisposeAsync() => Api.ResetSettingsAsync();
}
