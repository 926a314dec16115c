using MassTransit;
using Sagas.Workers.Ordering;

namespace Sagas.Workers.Inventory;

/// <summary>
/// Stock consumers lock item rows in sku order, so concurrency is bounded to what the database serves well;
/// transient database failures (lost connection, timeout) are retried like the saga's.
/// </summary>
public sealed class StockConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    public StockConsumerDefinition() => ConcurrentMessageLimit = 16;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(OrderStateMachineDefinition.ConfigureTransientRetry);
}
