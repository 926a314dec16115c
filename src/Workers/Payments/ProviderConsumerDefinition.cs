using MassTransit;
using Polly.CircuitBreaker;

namespace Sagas.Workers.Payments;

/// <summary>
/// Endpoint settings of the consumers that call the payment provider. The HTTP pipeline already retried
/// quickly (and may have opened its circuit); here the whole message is tried again over about a minute
/// and a half, each attempt in a fresh transaction, so a provider outage of that length loses nothing. The
/// idempotency keys make every attempt safe. A message that still fails goes to the error queue, and the
/// saga's timers (poll, payment window) keep the order moving.
/// </summary>
public sealed class ProviderConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    public ProviderConsumerDefinition() => ConcurrentMessageLimit = 16;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // An open circuit is the provider resting, not this message failing: wait for it (a degraded provider opens
        // it again and again) without using up the retries below, for up to ten minutes. A refund that had given
        // up after a minute of a flapping circuit would leave a customer's money with us.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<BrokenCircuitException>();
            retry.Interval(300, TimeSpan.FromSeconds(2));
        });
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<PaymentProviderRejectedException>();
            retry.Ignore<BrokenCircuitException>();
            retry.Intervals(500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000);
        });
    }
}
