namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>Base of a test class on a sandbox of its own (<see cref="SandboxFixture"/>), driven through its HTTP API.</summary>
public abstract class SandboxSpec(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    protected SandboxFixture Sandbox => sandbox;

    protected SandboxApi Api => sandbox.Api;
}
