namespace Sagas.PaymentSandbox;

/// <summary>
/// <c>Sandbox:Enabled</c>: outside the Development environment the sandbox refuses to start unless it is
/// <c>true</c>, so that a deployment never runs a fake payment provider without someone having said so.
/// </summary>
public static class SandboxGuard
{
    public const string EnabledKey = "Sandbox:Enabled";

    public static bool IsEnabled(IConfiguration configuration) =>
        bool.TryParse(configuration[EnabledKey], out var enabled) && enabled;

    public static string RefusalMessage(string environment, string? value) =>
        $"Sagas.PaymentSandbox refuses to start: it is a stand-in payment provider that accepts any payment, and " +
        $"the environment is '{environment}', not Development. Set {EnabledKey}=true (environment variable " +
        $"Sandbox__Enabled=true) to run it here on purpose" +
        (value is null ? "." : $" ({EnabledKey} is '{value}').");
}
