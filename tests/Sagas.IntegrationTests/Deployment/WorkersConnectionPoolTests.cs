using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sagas.Testing;
using Sagas.Workers.Inventory;
using Sagas.Workers.Ordering;
using Sagas.Workers.Payments;

namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// Every message a Workers' inbox endpoint consumes holds a pooled connection for its whole transaction: a pool
/// smaller than the endpoints' concurrency makes consumers queue for connections under load, inside their retries.
/// </summary>
public sealed class Workers_connection_pool : IAsyncLifetime
{
    TemporaryDatabase _database = null!;
    TemporaryVirtualHost _virtualHost = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("pool");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("pool");
    }

    public async Task DisposeAsync()
    {
        await _virtualHost.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Holds_every_message_the_endpoints_may_consume_at_once_with_the_delivery_service_beside_them()
    {
        await using var workers = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in ServiceEnvironment.For(_database, _virtualHost))
                host.UseSetting(key.Replace("__", ":"), value);
        });

        var pool = new NpgsqlConnectionStringBuilder(workers.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString).MaxPoolSize;

        // Read from the endpoint definitions the Workers register, one endpoint each.
        var consuming = new OrderStateMachineDefinition().ConcurrentMessageLimit
                        + new StockConsumerDefinition<HoldStockConsumer>().ConcurrentMessageLimit * 3
                        + new ProviderConsumerDefinition<RequestPaymentConsumer>().ConcurrentMessageLimit * 4;
        Assert.True(pool >= consuming + 2, $"pool of {pool} connections for {consuming} concurrent consumes and two delivery loops");
    }
}
