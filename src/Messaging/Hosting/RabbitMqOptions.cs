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

    public void Apply(IRabbitMqBusFactoryConfigurator configurator) =>
        configurator.Host(Host, Port, VirtualHost, host =>
        {
            host.Username(Username);
            host.Password(Password);
            host.ConnectionName(AppDomain.CurrentDomain.FriendlyName);
        });
}
