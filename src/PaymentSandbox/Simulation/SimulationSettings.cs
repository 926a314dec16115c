using System.Text.Json.Serialization;

namespace Sagas.PaymentSandbox.Simulation;

/// <summary>
/// The scriptable faults and webhook behaviour, as <c>GET/PUT /sandbox/settings</c> show them. Kept in
/// memory: they are a test's or a benchmark's knobs, not ledger data, and a restart returns to defaults.
/// <c>Refunds</c> and <c>Cancels</c> set to <c>reject</c> make the provider refuse every refund (resp.
/// cancel) with a 422, as a provider that has switched the operation off for the merchant would.
/// </summary>
public sealed record SimulationSettings(
    string Webhooks,
    int WebhookDelayMs,
    int WebhookDuplicates,
    double ErrorRate,
    int LatencyMs,
    string Refunds,
    string Cancels)
{
    public const string On = "on";
    public const string Off = "off";
    public const string Ok = "ok";
    public const string Reject = "reject";
    public const int MaxWebhookDelayMs = 600_000;
    public const int MaxWebhookDuplicates = 10;
    public const int MaxLatencyMs = 60_000;

    public static SimulationSettings Default { get; } = new(On, 0, 0, 0, 0, Ok, Ok);

    [JsonIgnore]
    public bool WebhooksOn => Webhooks == On;

    [JsonIgnore]
    public bool RejectsRefunds => Refunds == Reject;

    [JsonIgnore]
    public bool RejectsCancels => Cancels == Reject;
}

/// <summary>
/// A partial update: fields left out keep their current value, so a test can change one knob without
/// restating the others.
/// </summary>
public sealed record SimulationSettingsUpdate(
    string? Webhooks,
    int? WebhookDelayMs,
    int? WebhookDuplicates,
    double? ErrorRate,
    int? LatencyMs,
    string? Refunds,
    string? Cancels)
{
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (Webhooks is not null and not SimulationSettings.On and not SimulationSettings.Off)
            errors["webhooks"] = ["must be \"on\" or \"off\"."];
        if (WebhookDelayMs is < 0 or > SimulationSettings.MaxWebhookDelayMs)
            errors["webhookDelayMs"] = [$"must be between 0 and {SimulationSettings.MaxWebhookDelayMs}."];
        if (WebhookDuplicates is < 0 or > SimulationSettings.MaxWebhookDuplicates)
            errors["webhookDuplicates"] = [$"must be between 0 and {SimulationSettings.MaxWebhookDuplicates}."];
        if (ErrorRate is { } rate && !(rate >= 0 && rate <= 1))
            errors["errorRate"] = ["must be between 0 and 1."];
        if (LatencyMs is < 0 or > SimulationSettings.MaxLatencyMs)
            errors["latencyMs"] = [$"must be between 0 and {SimulationSettings.MaxLatencyMs}."];
        if (Refunds is not null and not SimulationSettings.Ok and not SimulationSettings.Reject)
            errors["refunds"] = ["must be \"ok\" or \"reject\"."];
        if (Cancels is not null and not SimulationSettings.Ok and not SimulationSettings.Reject)
            errors["cancels"] = ["must be \"ok\" or \"reject\"."];
        return errors;
    }

    public SimulationSettings ApplyTo(SimulationSettings current) => new(
        Webhooks ?? current.Webhooks,
        WebhookDelayMs ?? current.WebhookDelayMs,
        WebhookDuplicates ?? current.WebhookDuplicates,
        ErrorRate ?? current.ErrorRate,
        LatencyMs ?? current.LatencyMs,
        Refunds ?? current.Refunds,
        Cancels ?? current.Cancels);
}

public sealed class SimulationSettingsStore
{
    readonly Lock _gate = new();
    volatile SimulationSettings _current = SimulationSettings.Default;

    public SimulationSettings Current => _current;

    public SimulationSettings Update(SimulationSettingsUpdate update)
    {
        // Read-modify-write under a lock so two concurrent partial updates don't drop each other's fields.
        lock (_gate)
            return _current = update.ApplyTo(_current);
    }
}
