using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.ServiceDefaults.RabbitMq;

namespace Sagas.Api.Hosting;

/// <summary>
/// RabbitMQ drops a publish that no queue is bound to, and confirms it all the same: the bus outbox then deletes it.
/// On a virtual host where the Workers never ran, an order the Api accepted would read <c>Submitted</c> for ever.
/// So the Api declares the queue that consumes what it publishes, the order saga's, with a binding from each
/// published message's exchange, when its bus starts: the bus, and with it readiness (<c>masstransit-bus</c>), is not
/// started until that topology is on the broker. Messages published before the Workers first start wait in the queue.
/// </summary>
public static class OrderSagaTopology
{
    /// <summary>Every message the Api publishes; each is consumed by the order saga.</summary>
    public static void DeclareOrderSagaQueue(this IRabbitMqBusFactoryConfigurator configurator, RabbitMqOptions rabbit)
    {
        // Deploys the publish topology configured below before the bus endpoint starts (MassTransit 8.5).
        configurator.DeployPublishTopology = true;
        Bind<SubmitOrder>(configurator, rabbit);
        Bind<CancelOrder>(configurator, rabbit);
        Bind<RetryCompensation>(configurator, rabbit);
        Bind<PaymentSucceeded>(configurator, rabbit);
        Bind<PaymentFailed>(configurator, rabbit);
        Bind<PaymentRefunded>(configurator, rabbit);
    }

    // The queue is bound straight to the message's exchange (MassTransit's BindQueue declares no exchange-to-exchange
    // binding); the Workers add their own route through the queue's exchange when they start. RabbitMQ delivers a
    // message routed to one queue by two paths once. The queue is declared durable, not auto-delete, with the arguments
    // the Workers' endpoint declares (a quorum queue unless RabbitMq:QuorumQueues is off, both from the same
    // RabbitMqOptions.ConfigureDurableQueue): RabbitMQ refuses the second declaration of a queue whose properties differ.
    static void Bind<T>(IRabbitMqBusFactoryConfigurator configurator, RabbitMqOptions rabbit)
        where T : class
    {
        var messageExchange = configurator.MessageTopology.GetMessageTopology<T>().EntityName;
        configurator.Publish<T>(publish => publish.BindQueue(messageExchange, OrderSagaQueue.Name, rabbit.ConfigureDurableQueue));
    }
}
