using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Sagas.ServiceDefaults.RabbitMq;

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
    /// Declare every durable queue (receive endpoints, their <c>_error</c> and <c>_skipped</c> queues, the saga queue the
    /// Api declares early) as a quorum queue: replicated across a cluster's nodes and always persisted, so a message
    /// survives the loss of a node, which a classic queue only does on the node that holds it. Every process of a
    /// virtual host must agree: RabbitMQ refuses (PRECONDITION_FAILED) to declare an existing queue with another type.
    /// An existing classic queue is not converted; see the README ("Quorum queues") for switching a broker over.
    /// </summary>
    public bool QuorumQueues { get; set; } = true;

    /// <summary>
    /// AMQPS: TLS to the broker (usually port 5671), whose certificate must be valid for <see cref="TlsServerName"/>
    /// (default <see cref="Host"/>) and trusted by the machine's certificate store. Off by default: on one machine or a
    /// private network the broker is plain AMQP.
    /// </summary>
    public bool UseTls { get; set; }

    public string? TlsServerName { get; set; }

    /// <summary>
    /// The nodes of a RabbitMQ cluster, <c>host:port,host:port,...</c> (a node without a port uses <see cref="Port"/>);
    /// empty for one broker at <see cref="Host"/>. When set, the bus connects to one node at a time and, when its
    /// connection is lost, tries the next in the list (MassTransit's <c>UseCluster</c>), so losing a node costs a
    /// reconnect, not the service; <see cref="Host"/> is then only the name in logs. The queues themselves survive
    /// the node only as quorum queues (<see cref="QuorumQueues"/>).
    /// </summary>
    public string? Nodes { get; set; }

    /// <summary><see cref="Nodes"/> as (host, port) pairs; empty when it is not set. Call after <see cref="Problems"/>.</summary>
    public IReadOnlyList<(string Host, ushort Port)> ClusterNodes() =>
        ParseNodes().Select(node => (node.Host, node.Port ?? Port)).ToList();

    IEnumerable<(string Host, ushort? Port, string Text)> ParseNodes()
    {
        foreach (var text in (Nodes ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
                yield return (text, null, text);
            else
                yield return (text[..colon], ushort.TryParse(text[(colon + 1)..], out var port) && port > 0 ? port : (ushort)0, text);
        }
    }

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
        foreach (var node in ParseNodes())
        {
            if (string.IsNullOrWhiteSpace(node.Host))
                yield return $"RabbitMq:Nodes has a node without a host name ('{node.Text}'; expected host:port,host:port,...)";
            else if (node.Port == 0)
                yield return $"RabbitMq:Nodes has a node whose port is not 1 to 65535 ('{node.Text}'; expected host:port,host:port,...)";
        }
    }

    /// <summary>The broker connection and the queue arguments of every durable endpoint; call it before <c>ConfigureEndpoints</c>.</summary>
    public void Apply(IRabbitMqBusFactoryConfigurator configurator)
    {
        configurator.Host(Host, Port, VirtualHost, host =>
        {
            host.Username(Username);
            host.Password(Password);
            host.Heartbeat(Heartbeat);
            host.ConnectionName(AppDomain.CurrentDomain.FriendlyName);
            var nodes = ClusterNodes();
            if (nodes.Count > 0)
                host.UseCluster(cluster =>
                {
                    foreach (var (name, port) in nodes)
                        cluster.Node($"{name}:{port}");
                });
            if (UseTls)
                host.UseSsl(ssl =>
                {
                    if (!string.IsNullOrWhiteSpace(TlsServerName))
                        ssl.ServerName = TlsServerName;
                });
        });
        ConfigureDurableEndpoints(configurator);
    }

    /// <summary>
    /// The same broker (or cluster nodes), user and TLS settings for a plain RabbitMQ.Client connection (the error-queue
    /// drain's), which <see cref="Apply"/> gives MassTransit's.
    /// </summary>
    public RabbitMQ.Client.ConnectionFactory ConnectionFactory()
    {
        var factory = new RabbitMQ.Client.ConnectionFactory
        {
            HostName = Host,
            Port = Port,
            VirtualHost = VirtualHost,
            UserName = Username,
            Password = Password,
            RequestedHeartbeat = Heartbeat,
        };
        if (UseTls)
            factory.Ssl = new RabbitMQ.Client.SslOption(string.IsNullOrWhiteSpace(TlsServerName) ? Host : TlsServerName, enabled: true);
        var nodes = ClusterNodes();
        if (nodes.Count > 0)
        {
            // Every connection (and every automatic recovery) tries the nodes in random order until one accepts.
            var endpoints = nodes.Select(node => new RabbitMQ.Client.AmqpTcpEndpoint(node.Host, node.Port,
                UseTls ? new RabbitMQ.Client.SslOption(string.IsNullOrWhiteSpace(TlsServerName) ? node.Host : TlsServerName, enabled: true)
                    : new RabbitMQ.Client.SslOption())).ToList();
            factory.EndpointResolverFactory = _ => new RabbitMQ.Client.DefaultEndpointResolver(endpoints);
        }
        return factory;
    }

    /// <summary>
    /// Only the queue part of <see cref="Apply"/> (every durable receive endpoint gets <see cref="ConfigureDurableQueue"/>),
    /// for a bus whose host is configured otherwise (tests). Call it before <c>ConfigureEndpoints</c>.
    /// </summary>
    public void ConfigureDurableEndpoints(IRabbitMqBusFactoryConfigurator configurator) =>
        configurator.ConnectEndpointConfigurationObserver(new DurableEndpointQueues(ConfigureDurableQueue));

    /// <summary>
    /// The queue arguments every durable queue of this system is declared with: by the receive endpoints (through
    /// <see cref="ConfigureDurableEndpoints"/>) and by the Api's early declaration of the saga queue, which must match its endpoint.
    /// </summary>
    public void ConfigureDurableQueue(IRabbitMqQueueConfigurator queue)
    {
        if (QuorumQueues)
            queue.SetQuorumQueue();
    }
}
