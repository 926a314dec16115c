namespace Sagas.PaymentSandbox.Webhooks;

/// <summary>Configuration section <c>Sandbox</c>: where webhooks go and how hard the sandbox tries.</summary>
public sealed class WebhookDeliveryOptions
{
    public const string Section = "Sandbox";

    public Uri WebhookUrl { get; set; } = new("http://127.0.0.1:5080/webhooks/payments");

    /// <summary>One attempt's time limit.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay; doubles per failed attempt up to <see cref="WebhookRetryMaxDelay"/>.</summary>
    public TimeSpan WebhookRetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan WebhookRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A webhook not delivered this long after its event is abandoned (and logged as an error).</summary>
    public TimeSpan WebhookGiveUpAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the queue is looked at when nothing wakes the dispatcher (delayed and retried webhooks).</summary>
    public TimeSpan WebhookPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public int WebhookBatchSize { get; set; } = 32;
}
