using System.Net;
using System.Net.Sockets;
using MassTransit;
using Sagas.ServiceDefaults.RabbitMq;
using Sagas.Testing;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// <c>RabbitMq:Nodes</c> against a real broker: with <c>RabbitMq:Host</c> and the first node pointing at a port where
/// nothing listens (a node that is down), the bus and the error-queue drain's connection still reach the broker
/// through the next node. Without the node list both would keep knocking on the dead port.
/// </summary>
public sealed class Cluster_nodes : IAsyncLifetime
{
    TemporaryVirtualHost _virtualHost = null!;

    public async Task InitializeAsync() => _virtualHost = await TemporaryVirtualHost.CreateAsync("cluster-nodes");

    public async Task DisposeAsync() => await _virtualHost.DisposeAsync();

    RabbitMqOptions OptionsWithFirstNodeDown()
    {
        var settings = _virtualHost.Settings;
        var down = PortNobodyListensOn();
        return new RabbitMqOptions
        {
            Host = settings.RabbitHost,
            Port = (ushort)down,
            VirtualHost = _virtualHost.Name,
            Username = settings.RabbitUser,
            Password = settings.RabbitPassword,
            Nodes = $"{settings.RabbitHost}:{down},{settings.RabbitHost}:{settings.RabbitPort}",
        };
    }

    [Fact]
    public async Task The_bus_reaches_the_broker_through_the_next_node_when_the_first_is_down()
    {
        var options = OptionsWithFirstNodeDown();
        Assert.Empty(options.Problems());
        var received = new TaskCompletionSource<NodeProbe>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            options.Apply(cfg);
            cfg.ReceiveEndpoint("cluster-nodes-probe", e => e.Handler<NodeProbe>(context =>
            {
                received.TrySetResult(context.Message);
                return Task.CompletedTask;
            }));
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await bus.StartAsync(timeout.Token);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("exchange:cluster-nodes-probe"));
            await endpoint.Send(new NodeProbe("through the second node"), timeout.Token);
            Assert.Equal("through the second node", (await received.Task.WaitAsync(timeout.Token)).Text);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_error_queue_drain_connects_through_the_next_node_when_the_first_is_down()
    {
        var factory = OptionsWithFirstNodeDown().ConnectionFactory();

        // Several connections: the drain's resolver tries the nodes in random order, so some of these try the dead one first.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            await using var connection = await factory.CreateConnectionAsync();
            Assert.Equal(_virtualHost.Settings.RabbitPort, connection.Endpoint.Port);
        }
    }

    static int PortNobodyListensOn()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public sealed record NodeProbe(string Text);
}
