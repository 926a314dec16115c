using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;

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
    public static void DeclareOrderSagaQueue(this IRabbitMqBusFactoryConfigurator configurator)
    {
        // Deploys the publish topology configured below before the bus endpoint starts (MassTransit 8.5).
        configurator.DeployPublishTopology = true;
        Bind<SubmitOrder>(configurator);
        Bind<CancelOrder>(configurator);
        Bind<RetryCompensation>(configurator);
        Bind<PaymentSucceeded>(configurator);
        Bind<PaymentFailed>(configurator);
        Bind<PaymentRefunded>(configurator);
    }

    // The queue is bound straight to the message's exchange (MassTransit's BindQueue declares no exchange-to-exchange
    // binding); the Workers add their own route through the queue's exchange when they start. RabbitMQ delivers a
    // message routed to one queue by two paths once. Same queue properties as the Workers' endpoint declares
    // (durable, not auto-delete, no arguments), or the second declaration would fail.
    static void Bind<T>(IRabbitMqBusFactoryConfigurator configurator)
        where T : class
    {
        var messageExchange = configurator.MessageTopology.GetMessageTopology<T>().EntityName;
        configurator.Publish<T>(publish => publish.BindQueue(messageExchange, OrderSagaQueue.Name));
    }
}
