using System.Text;
using Microsoft.Extensions.Options;

namespace Sagas.PaymentSandbox.Webhooks;

public static class WebhookRegistration
{
    public static IServiceCollection AddWebhookDelivery(this IServiceCollection services)
    {
        services.AddOptions<WebhookDeliveryOptions>()
            .BindConfiguration(WebhookDeliveryOptions.Section)
            .Validate(o => o.WebhookUrl.IsAbsoluteUri, "Sandbox:WebhookUrl must be an absolute URL.")
            .Validate(o => o.WebhookBatchSize > 0, "Sandbox:WebhookBatchSize must be positive.")
            .Validate(o => o.WebhookRetryInitialDelay > TimeSpan.Zero && o.WebhookRetryMaxDelay >= o.WebhookRetryInitialDelay,
                "Sandbox:WebhookRetryInitialDelay must be positive and at most Sandbox:WebhookRetryMaxDelay.")
            .ValidateOnStart();
        services.AddSingleton(provider =>
        {
            var secret = provider.GetRequiredService<IConfiguration>()["Webhooks:Secret"];
            if (string.IsNullOrEmpty(secret))
                throw new InvalidOperationException(
                    "Webhooks:Secret is not set (environment variable Webhooks__Secret); the sandbox signs webhooks with it.");
            return new WebhookSignature(Encoding.UTF8.GetBytes(secret));
        });
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookDeliveryQueue>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName, (provider, client) =>
            client.Timeout = provider.GetRequiredService<IOptions<WebhookDeliveryOptions>>().Value.WebhookTimeout);
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}
