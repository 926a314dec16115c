using MassTransit;
using MassTransit.RabbitMqTransport.Configuration;

namespace Sagas.Messaging.Failed;

/// <summary>
/// The durable receive endpoints of the bus, collected as they are configured (an endpoint configuration observer, like
/// <see cref="Hosting.DurableEndpointQueues"/>): each one's <c>_error</c> queue is what <see cref="ErrorQueueDrain"/> drains.
/// Temporary endpoints (the bus endpoint) are left out: nothing of theirs is worth keeping.
/// </summary>
public sealed class ErrorQueues : IEndpointConfigurationObserver
{
    // The endpoints' queue names with their (live) arguments: read at Snapshot, once every observer has set them.
    readonly List<(string Queue, Func<IDictionary<string, object>> Arguments)> _endpoints = [];

    public void EndpointConfigured<T>(T configurator)
        where T : IReceiveEndpointConfigurator
    {
        if (configurator is not IRabbitMqReceiveEndpointConfiguration { Settings: var settings })
            return;
        if (!settings.Durable || settings.AutoDelete || settings.Exclusive || settings.QueueExpiration is not null)
            return;
        Add(settings.QueueName, () => settings.QueueArguments);
    }

    /// <summary>A queue whose <c>_error</c> queue is to be drained (the observer's way in; tests name queues directly).</summary>
    public void Add(string queue, Func<IDictionary<string, object>> arguments)
    {
        lock (_endpoints)
            _endpoints.Add((queue, arguments));
    }

    /// <summary>
    /// Every error queue with the arguments MassTransit declares it with (it copies its endpoint's: a quorum endpoint
    /// has a quorum error queue). Read once the bus is configured, after every observer has set the endpoints' arguments.
    /// </summary>
    public IReadOnlyList<(string Queue, IReadOnlyDictionary<string, object> Arguments)> Snapshot()
    {
        lock (_endpoints)
            return _endpoints
                .GroupBy(e => e.Queue)
                .Select(g => (g.Key, (IReadOnlyDictionary<string, object>)new Dictionary<string, object>(g.First().Arguments())))
                .ToList();
    }

    public static string ErrorQueueOf(string queue) => queue + "_error";
}
