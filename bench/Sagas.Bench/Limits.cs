using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Sagas.Testing;

namespace Sagas.Bench;

public sealed record MachineLimits(
    double PgbenchSimpleUpdateTps, double PgbenchSelectOnlyTps, int PgbenchClients, double PgbenchSeconds,
    double RawBrokerMessagesPerSecond, int RawPublishers, double RawSeconds,
    double OutboxLagP50Ms, double OutboxLagP99Ms, double OutboxLagMaxMs, int OutboxLagMessages,
    IReadOnlyList<double[]> RawSeries);

/// <summary>
/// The machine's own limits in this run: pgbench against the benchmark's PostgreSQL, and a raw
/// MassTransit publish→consume loop against its RabbitMQ (durable queue, persistent messages, publisher
/// confirms: the same settings the services use). Also the bus outbox's commit→consumer lag when a single
/// writer commits one message at a time (the delivery service woken by the commit, not by its poll).
/// </summary>
public static class Limits
{
    const string PgBin = "/usr/lib/postgresql/15/bin";

    public static async Task<MachineLimits> MeasureAsync(BenchInfrastructure infrastructure, Profile profile, Action<string> progress)
    {
        var (update, select) = await PgbenchAsync(infrastructure, profile, progress);
        var (raw, publishers, rawSeries) = await RawLoopAsync(infrastructure, profile, progress);
        var lag = await OutboxLagAsync(infrastructure, profile.OutboxLagMessages, progress);
        return new MachineLimits(update, select, profile.PgbenchClients, profile.PgbenchDuration.TotalSeconds,
            raw, publishers, profile.RawLoopDuration.TotalSeconds, lag.P50, lag.P99, lag.Max, profile.OutboxLagMessages, rawSeries);
    }

    static async Task<(double Update, double Select)> PgbenchAsync(BenchInfrastructure infrastructure, Profile profile, Action<string> progress)
    {
        var name = $"pgbench_{Guid.NewGuid():N}"[..24];
        var environment = infrastructure.PgEnvironment();
        await using (var connection = new NpgsqlConnection(infrastructure.ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection).ExecuteNonQueryAsync();
        }

        try
        {
            progress("pgbench: initialising scale 10 (1,000,000 accounts)");
            (await Shell.RunAsync($"{PgBin}/pgbench", ["-i", "-q", "-s", "10", name], environment, TimeSpan.FromMinutes(5)))
                .ThrowIfFailed("pgbench -i");
            var seconds = ((int)profile.PgbenchDuration.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            var clients = profile.PgbenchClients.ToString(CultureInfo.InvariantCulture);
            async Task<double> Run(string mode, string title)
            {
                progress($"pgbench {title} ({mode}): {clients} clients, {seconds} s");
                var result = (await Shell.RunAsync($"{PgBin}/pgbench", [mode, "-c", clients, "-j", "2", "-T", seconds, "-n", name],
                    environment, TimeSpan.FromMinutes(5))).ThrowIfFailed($"pgbench {mode}");
                var match = Regex.Match(result.Output, @"tps = ([0-9.]+) \(without initial connection time\)");
                if (!match.Success)
                    throw new InvalidOperationException("no tps in pgbench's output:\n" + result.Output);
                var tps = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                progress($"pgbench {title}: {tps:0} TPS");
                return tps;
            }

            return (await Run("-N", "simple-update"), await Run("-S", "select-only"));
        }
        finally
        {
            // Not WITH (FORCE): pgbench has exited, and after its updates an autovacuum worker is often busy in the
            // database; FORCE would fail on it for the application role (it may not terminate a process of no role),
            // while a plain DROP stops the worker itself.
            await using var connection = new NpgsqlConnection(infrastructure.ConnectionString("postgres"));
            await connection.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\"", connection).ExecuteNonQueryAsync();
        }
    }

    static async Task<(double PerSecond, int Publishers, IReadOnlyList<double[]> Series)> RawLoopAsync(
        BenchInfrastructure infrastructure, Profile profile, Action<string> progress)
    {
        const int publishers = 16;
        var settings = infrastructure.Settings;
        await using var vhost = await TemporaryVirtualHost.CreateAsync("bench-raw", settings);
        long received = 0;
        var consumer = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            OutboxBench.Rabbit(cfg, settings, vhost.Name);
            cfg.ReceiveEndpoint("bench-raw", e =>
            {
                e.PrefetchCount = 128;
                e.Handler<BenchMessage>(_ =>
                {
                    Interlocked.Increment(ref received);
                    return Task.CompletedTask;
                });
            });
        });
        var publisher = Bus.Factory.CreateUsingRabbitMq(cfg => OutboxBench.Rabbit(cfg, settings, vhost.Name));
        await consumer.StartAsync();
        await publisher.StartAsync();
        try
        {
            async Task<long> PublishFor(TimeSpan duration)
            {
                var end = Clock.Now + duration.TotalSeconds;
                long sent = 0;
                await Task.WhenAll(Enumerable.Range(0, publishers).Select(async _ =>
                {
                    while (Clock.Now < end)
                        await publisher.Publish(new BenchMessage(Interlocked.Increment(ref sent)));
                }));
                return sent;
            }

            progress($"raw MassTransit publish→consume: warm-up");
            var warm = await PublishFor(TimeSpan.FromSeconds(2));
            while (Interlocked.Read(ref received) < warm)
                await Task.Delay(10);

            progress($"raw MassTransit publish→consume: {publishers} publishers, {profile.RawLoopDuration.TotalSeconds:0} s");
            var start = Clock.Now;
            var before = Interlocked.Read(ref received);
            var series = new List<double[]>();
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                var last = before;
                var second = 0;
                while (!sampling.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(start + ++second - Clock.Now), sampling.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }

                    var now = Interlocked.Read(ref received);
                    lock (series)
                        series.Add([second, now - last]);
                    last = now;
                }
            });
            var sent = await PublishFor(profile.RawLoopDuration);
            while (Interlocked.Read(ref received) - before < sent)
                await Task.Delay(5);
            var elapsed = Clock.Now - start;
            await sampling.CancelAsync();
            await sampler;
            var perSecond = sent / elapsed;
            progress($"raw MassTransit publish→consume: {perSecond:0} msg/s");
            return (perSecond, publishers, series);
        }
        finally
        {
            await publisher.StopAsync();
            await consumer.StopAsync();
        }
    }

    static async Task<(double P50, double P99, double Max)> OutboxLagAsync(BenchInfrastructure infrastructure, int messages,
        Action<string> progress)
    {
        progress($"bus outbox lag: 1 writer, {messages} messages committed one at a time");
        var settings = infrastructure.Settings;
        await using var database = await OutboxBench.MigratedDatabaseAsync("benchlag", settings);
        await using var vhost = await TemporaryVirtualHost.CreateAsync("bench-lag", settings);

        var committed = new ConcurrentDictionary<long, long>();
        var arrived = new ConcurrentDictionary<long, long>();
        var consumer = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            OutboxBench.Rabbit(cfg, settings, vhost.Name);
            cfg.ReceiveEndpoint("bench-lag", e => e.Handler<BenchMessage>(c =>
            {
                arrived.TryAdd(c.Message.Id, Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            }));
        });
        await consumer.StartAsync();

        using var host = await OutboxBench.StartOutboxHostAsync(database, vhost.Name);
        try
        {
            async Task Send(long id)
            {
                await using var scope = host.Services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new BenchMessage(id));
                await scope.ServiceProvider.GetRequiredService<OutboxBenchDbContext>().SaveChangesAsync();
                committed[id] = Stopwatch.GetTimestamp();
                // Idle-woken: the next commit comes only after this message arrived (or a second passed).
                var deadline = Clock.Now + 1;
                while (!arrived.ContainsKey(id) && Clock.Now < deadline)
                    await Task.Delay(1);
            }

            for (var id = -50; id < 0; id++)
                await Send(id); // warm-up
            for (long id = 1; id <= messages; id++)
                await Send(id);
            var deadline = Clock.Now + 10;
            while (arrived.Count(a => a.Key > 0) < messages && Clock.Now < deadline)
                await Task.Delay(10);
            var lags = Enumerable.Range(1, messages)
                .Select(i => arrived.TryGetValue(i, out var at) ? Stopwatch.GetElapsedTime(committed[i], at).TotalMilliseconds : double.PositiveInfinity)
                .Order().ToArray();
            var result = (Stats.Percentile(lags, 0.5), Stats.Percentile(lags, 0.99), lags[^1]);
            progress($"bus outbox lag: p50 {result.Item1:0.0} ms, p99 {result.Item2:0.0} ms");
            return result;
        }
        finally
        {
            await host.StopAsync();
            await consumer.StopAsync();
        }
    }
}
