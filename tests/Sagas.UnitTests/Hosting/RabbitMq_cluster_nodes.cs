using Sagas.ServiceDefaults.RabbitMq;

namespace Sagas.UnitTests.Hosting;

/// <summary>
/// <c>RabbitMq:Nodes</c>, the cluster's nodes: parsed into host and port (a node without one takes <c>RabbitMq:Port</c>),
/// refused with a message naming the setting when a node is malformed, and handed to the error-queue drain's connection.
/// </summary>
public sealed class RabbitMq_cluster_nodes
{
    [Fact]
    public void Nodes_are_parsed_and_a_node_without_a_port_takes_the_configured_one()
    {
        var options = new RabbitMqOptions { Port = 5701, Nodes = "127.0.0.1:5702, rabbit-3 ,127.0.0.1:5703" };

        Assert.Empty(options.Problems());
        Assert.Equal([("127.0.0.1", (ushort)5702), ("rabbit-3", (ushort)5701), ("127.0.0.1", (ushort)5703)], options.ClusterNodes());
    }

    [Fact]
    public void Without_nodes_there_is_one_broker()
    {
        var options = new RabbitMqOptions { Host = "broker", Port = 5701 };

        Assert.Empty(options.ClusterNodes());
        var factory = options.ConnectionFactory();
        Assert.Equal("broker:5701", string.Join(",", factory.EndpointResolverFactory([new("broker", 5701)]).All().Select(e => $"{e.HostName}:{e.Port}")));
    }

    [Theory]
    [InlineData("127.0.0.1:0", "port is not 1 to 65535")]
    [InlineData("127.0.0.1:70000", "port is not 1 to 65535")]
    [InlineData("127.0.0.1:x", "port is not 1 to 65535")]
    [InlineData(":5701", "without a host name")]
    public void A_malformed_node_is_refused_naming_the_setting(string nodes, string problem)
    {
        var options = new RabbitMqOptions { Nodes = $"127.0.0.1:5701,{nodes}" };

        var message = Assert.Single(options.Problems());
        Assert.StartsWith("RabbitMq:Nodes has a node", message);
        Assert.Contains(problem, message);
        Assert.Contains(nodes, message);
    }

    [Fact]
    public void The_error_queue_drain_connects_through_every_node()
    {
        var options = new RabbitMqOptions { Nodes = "127.0.0.1:5701,127.0.0.1:5702,127.0.0.1:5703" };

        var factory = options.ConnectionFactory();

        // The factory's own host is ignored: every connection and recovery tries the cluster's nodes.
        var endpoints = factory.EndpointResolverFactory([new(factory.HostName, factory.Port)]).All().Select(e => $"{e.HostName}:{e.Port}");
        Assert.Equal(["127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703"], endpoints.Order());
    }
}
