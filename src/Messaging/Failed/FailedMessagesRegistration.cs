using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Sagas.Messaging.Failed;

public static class FailedMessagesRegistration
{
    /// <summary>
    /// Drains the error queues of this process's receive endpoints into <c>messaging.failed_message</c>
    /// (<see cref="ErrorQueueDrain"/>) over a connection of its own to <paramref name="broker"/>; needs an
    /// <see cref="Npgsql.NpgsqlDataSource"/> in the container. Call
    /// <see cref="DrainErrorQueues"/> on the bus configurator too, before <c>ConfigureEndpoints</c>.
    /// </summary>
    public static IServiceCollection AddErrorQueueDrain(this IServiceCollection services, ConnectionFactory broker)
    {
        services.AddSingleton<ErrorQueues>();
        services.AddSingleton<FailedMessageStore>();
        services.AddSingleton(broker);
        services.AddHostedService<ErrorQueueDrain>();
        return services;
    }

    /// <summary>Tells <see cref="ErrorQueueDrain"/> which endpoints this bus has (their queues' <c>_error</c> are drained).</summary>
    public static void DrainErrorQueues(this IRabbitMqBusFactoryConfigurator configurator, IBusRegistrationContext context) =>
        configurator.ConnectEndpointConfigurationObserver(context.GetRequiredService<ErrorQueues>());
}
