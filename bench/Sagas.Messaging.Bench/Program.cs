// dotnet run -c Release --project bench/Sagas.Messaging.Bench [-- <messages>] [--classic]
//
// Against the local PostgreSQL and RabbitMQ (own database and vhost, removed afterwards), one process:
//   raw publish        IBus.Publish awaited in a loop (publisher confirms): the broker's own cost
//   outbox, 1 writer   one message per request scope + SaveChanges, sequentially: commit → consumer lag
//   outbox, 8 writers  the same from 8 concurrent "requests": bus-outbox throughput
// Lag is measured from the call to Publish (raw) or SaveChanges committed (outbox) to the moment a plain
// consumer on another bus (no inbox) received the message. Its queue is a quorum queue, as the services declare theirs
// by default (RabbitMq:QuorumQueues); --classic measures a classic one.
using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sagas.Bench;
using Sagas.Messaging;
using Sagas.ServiceDefaults.RabbitMq;
using Sagas.Testing;

var messages = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) is { } count ? int.Parse(count) : 2000;
var queues = new RabbitMqOptions { QuorumQueues = !args.Contains("--classic") };

await using var database = await OutboxBench.MigratedDatabaseAsync("bench");
await using var vhost = await TemporaryVirtualHost.CreateAsync("bench");

var started = new ConcurrentDictionary<long, long>();
var received = new ConcurrentDictionary<long, long>();

var consumer = Bus.Factory.CreateUsingRabbitMq(cfg =>
{
    OutboxBench.Rabbit(cfg, database.Settings, vhost.Name);
    cfg.ReceiveEndpoint("bench", e =>
    {
        queues.ConfigureDurableQueue(e);
        e.PrefetchCount = 64;
        e.Handler<BenchMessage>(c =>
        {
            received.TryAdd(c.Message.Id, Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        });
    });
});
await consumer.StartAsync();

Task<IHost> StartHost(bool deliver) => OutboxBench.StartOutboxHostAsync(database, vhost.Name, deliver);

using var host = await StartHost(deliver: true);
var bus = host.Services.GetRequiredService<IBus>();

var nextId = 0;

async Task<string> Run(string name, int count, int writers, Func<int, Task> send)
{
    started.Clear();
    received.Clear();
    var ids = Enumerable.Range(0, count).Select(_ => Interlocked.Increment(ref nextId)).ToArray();
    var queue = new ConcurrentQueue<int>(ids);
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, writers).Select(async _ =>
    {
        while (queue.TryDequeue(out var id))
            await send(id);
    }));
    var written = clock.Elapsed;
    while (ids.Any(id => !received.ContainsKey(id)))
        await Task.Delay(1);
    var elapsed = clock.Elapsed;

    var lags = ids.Select(id => Stopwatch.GetElapsedTime(started[id], received[id]).TotalMilliseconds).Order().ToArray();
    double Percentile(double p) => lags[(int)Math.Min(lags.Length - 1, Math.Ceiling(p * lags.Length) - 1)];
    return $"| {name,-18} | {count,6} | {writers,7} | {count / written.TotalSeconds,10:0} | {count / elapsed.TotalSeconds,11:0} | {Percentile(0.50),8:0.0} | {Percentile(0.99),8:0.0} |";
}

async Task RawPublish(int id)
{
    started[id] = Stopwatch.GetTimestamp();
    await bus.Publish(new BenchMessage(id));
}

Task OutboxPublish(int id) => OutboxPublishOn(host, id);

async Task OutboxPublishOn(IHost writer, int id)
{
    await using var scope = writer.Services.CreateAsyncScope();
    await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new BenchMessage(id));
    await scope.ServiceProvider.GetRequiredService<OutboxBenchDbContext>().SaveChangesAsync();
    started[id] = Stopwatch.GetTimestamp();
}

// Warm-up: connections, topology, JIT.
await Run("warm-up", 200, 1, RawPublish);
await Run("warm-up", 200, 4, OutboxPublish);

var rows = new List<string>
{
    await Run("raw publish", messages, 1, RawPublish),
    await Run("raw publish", messages, 8, RawPublish),
    await Run("outbox, 1 writer", messages, 1, OutboxPublish),
    await Run("outbox, 8 writers", messages, 8, OutboxPublish),
};

// written/s: how fast the writers got their Publish (raw) or commit (outbox) done; delivered/s: until the last
// message reached the consumer.
// Drain: a backlog written while no delivery service ran (as after an outage), then one process delivering it.
await host.StopAsync();
using (var writer = await StartHost(deliver: false))
{
    var backlog = Enumerable.Range(0, messages).Select(_ => Interlocked.Increment(ref nextId)).ToArray();
    var pending = new ConcurrentQueue<int>(backlog);
    await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
    {
        while (pending.TryDequeue(out var id))
            await OutboxPublishOn(writer, id);
    }));
    await writer.StopAsync();

    var clock = Stopwatch.StartNew();
    using var deliverer = await StartHost(deliver: true);
    while (backlog.Any(id => !received.ContainsKey(id)))
        await Task.Delay(1);
    rows.Add($"| {"outbox drain",-18} | {messages,6} | {"-",7} | {"-",10} | {messages / clock.Elapsed.TotalSeconds,11:0} | {"-",8} | {"-",8} |");
    await deliverer.StopAsync();
}

Console.WriteLine($"consumer queue: {(queues.QuorumQueues ? "quorum" : "classic")}");
Console.WriteLine("| scenario           | msgs   | writers | written/s  | delivered/s | p50 ms   | p99 ms   |");
Console.WriteLine("|--------------------|--------|---------|------------|-------------|----------|----------|");
rows.ForEach(Console.WriteLine);

await consumer.StopAsync();
