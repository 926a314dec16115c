using MassTransit;
using MassTransit.RabbitMqTransport.Configuration;

namespace Sagas.ServiceDefaults.RabbitMq;

/// <summary>
/// Applies the system's queue arguments (<see cref="RabbitMqOptions.ConfigureDurableQueue"/>) to every durable receive
/// endpoint of a bus as it is configured: endpoints of <c>ConfigureEndpoints</c>, endpoints configured by hand and
/// endpoints connected after the bus started (MassTransit 8.5 reports all of them to endpoint configuration observers,
/// after their own configuration ran). MassTransit copies an endpoint's queue arguments to its <c>_error</c> and
/// <c>_skipped</c> queues, so those get the same.
/// <para>
/// Left as they are: temporary endpoints (the bus endpoint, <c>IsTemporary</c> definitions), which are auto-delete,
/// non-durable or expiring, none of which a quorum queue can be; and endpoints that chose a queue type of their own.
/// </para>
/// </summary>
sealed class DurableEndpointQueues(Action<IRabbitMqQueueConfigurator> configure) : IEndpointConfigurationObserver
{
    public void EndpointConfigured<T>(T configurator)
        where T : IReceiveEndpointConfigurator
    {
        if (configurator is not (IRabbitMqReceiveEndpointConfiguration { Settings: var settings } and IRabbitMqReceiveEndpointConfigurator queue))
            return;

        if (!settings.Durable || settings.AutoDelete || settings.Exclusive || settings.QueueExpiration is not null
            || settings.QueueArguments.ContainsKey(RabbitMQ.Client.Headers.XQueueType))
            return;

        configure(queue);
    }
}
