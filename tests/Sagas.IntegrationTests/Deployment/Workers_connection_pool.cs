using System.Text.RegularExpressions;
using Sagas.Workers.Inventory;
using Sagas.Workers.Ordering;
using Sagas.Workers.Payments;

namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// Every message a Workers' inbox endpoint consumes holds a pooled connection for its whole transaction: a pool
/// smaller than the endpoints' concurrency makes consumers queue for connections under load, inside their retries.
/// </summary>
public sealed partial class Workers_connection_pool() : WithOwnDatabaseAndVirtualHost("pool")
{
    [Fact]
    public async Task Holds_every_message_the_endpoints_may_consume_at_once_with_the_delivery_service_beside_them()
    {
        var environment = ServiceEnvironment.For(Database, VirtualHost);
        environment["Logging__LogLevel__Sagas.Data"] = "Information";
        await using var workers = new ServiceProcess("Workers", ServiceProcess.FreePort(), environment);
        workers.Start();
        await workers.WaitUntilReadyAsync();

        // The pool the process built, as it reports it at start-up.
        var reported = PoolReport().Match(workers.FullOutput);
        Assert.True(reported.Success, workers.FullOutput);
        var pool = int.Parse(reported.Groups[1].Value);

        // Read from the endpoint definitions the Workers register, one endpoint each: the saga, three stock
        // consumers, four payment-provider consumers.
        var consuming = new OrderStateMachineDefinition().ConcurrentMessageLimit
                        + new StockConsumerDefinition<HoldStockConsumer>().ConcurrentMessageLimit * 3
                        + new ProviderConsumerDefinition<RequestPaymentConsumer>().ConcurrentMessageLimit * 4;
        Assert.True(pool >= consuming + 2, $"pool of {pool} connections for {consuming} concurrent consumes and two delivery loops");
        await workers.StopAsync();
    }

    [GeneratedRegex(@"PostgreSQL connection pool: at most (\d+) connections")]
    private static partial Regex PoolReport();
}
