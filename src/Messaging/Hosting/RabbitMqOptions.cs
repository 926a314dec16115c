using MassTransit;

namespace Sagas.Messaging.Hosting;

/// <summary>The <c>RabbitMq</c> configuration section shared by every process of the system.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "127.0.0.1";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "/";
    public string Username { get; set; } = "guest";
    public string Password { get; set; } = "guest";

    /// <summary>
    /// The AMQP heartbeat requested from the broker. A process that stops answering (frozen, cut off) has its connection
    /// closed by RabbitMQ after about one to two of these, and only then are its unacknowledged deliveries given to
    /// another instance. 60 s is what MassTransit 8.5 asks for when none is set (RabbitMQ.Client's default), written out
    /// so that tests can scale it down.
    /// </summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(60);

    public void Apply(IRabbitMqBusFactoryConfigurator configurator) =>
        configurator.Host(Host, Port, VirtualHost, host =>
        {
            host.Username(Username);
            host.Password(Password);
            host.Heartbeat(Heartbeat);
            host.ConnectionName(AppDomain.CurrentDomain.FriendlyName);
        });
}
