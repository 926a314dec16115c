using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

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

    /// <summary>
    /// The <c>RabbitMq</c> section, for configuring the bus. Checked here, as the host is being built, not when it starts:
    /// MassTransit configures its bus from these values before start-up validation runs and would fail first, with a
    /// message that names none of our settings.
    /// </summary>
    public static RabbitMqOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? options : throw new OptionsValidationException(Section, typeof(RabbitMqOptions), problems);
    }

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Host))
            yield return "RabbitMq:Host is empty";
        if (Port == 0)
            yield return "RabbitMq:Port must be 1 to 65535";
        if (string.IsNullOrEmpty(VirtualHost))
            yield return "RabbitMq:VirtualHost is empty (the default virtual host is '/')";
        if (string.IsNullOrWhiteSpace(Username))
            yield return "RabbitMq:Username is empty";
        if (Heartbeat < TimeSpan.Zero)
            yield return "RabbitMq:Heartbeat must not be negative";
    }

    public void Apply(IRabbitMqBusFactoryConfigurator configurator) =>
        configurator.Host(Host, Port, VirtualHost, host =>
        {
            host.Username(Username);
            host.Password(Password);
            host.Heartbeat(Heartbeat);
            host.ConnectionName(AppDomain.CurrentDomain.FriendlyName);
        });
}
