using System.Net;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>
/// What the instrumentation costs (issue 14): the same orders on two fresh stacks, one with nothing on
/// (<c>Metrics:Enabled=false</c>, no tracing), one with everything on (metrics, and every span exported over OTLP to a
/// sink in this program that takes and drops them), each warmed up first; CPU per placed order of every part but the
/// load generator, from <c>/proc</c>. The difference is the instrumentation's cost per order.
/// </summary>
public sealed class InstrumentationRun(BenchInfrastructure infrastructure, Profile profile, BenchReport report, Action<string> progress)
{
    const string Scenario = "instrumentation";
    const int Skus = 50;

    public async Task RunAsync()
    {
        using var sink = OtlpSink.Start();
        report.Begin("instrumentation off");
        var off = await MeasureAsync("bare", new Dictionary<string, string> { ["Metrics__Enabled"] = "false", ["Tracing__Enabled"] = "false" });
        report.Begin("instrumentation on");
        var on = await MeasureAsync("traced", new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });

        report.Values["instrumentation.orders"] = profile.InstrumentationOrders;
        report.Values["instrumentation.off"] = off;
        report.Values["instrumentation.on"] = on;
        report.Values["instrumentation.exports"] = sink.Requests;
        progress($"{Scenario}: CPU per placed order {off:0.0} ms with metrics and traces off, {on:0.0} ms with both on " +
                 $"({sink.Requests} OTLP export requests taken)");
    }

    async Task<double> MeasureAsync(string name, Dictionary<string, string> extra)
    {
        await using var stack = await Stack.StartAsync(infrastructure, name, TimeSpan.FromMinutes(2), extra: extra);
        var prefix = name[..1].ToUpperInvariant() + "I";
        await stack.StockAsync(Enumerable.Range(0, Skus).Select(i => ($"{prefix}-{i:000}", 10_000_000)));
        await using (new Payer(stack))
        {
            var warmUp = Math.Max(20, profile.InstrumentationOrders / 4);
            progress($"{Scenario} ({name}): {warmUp} orders to warm the fresh stack up, then {profile.InstrumentationOrders} measured");
            await PlaceAsync(stack, prefix, warmUp, warmUp);
            var before = CpuUsage.Sample(stack, infrastructure);
            await PlaceAsync(stack, prefix, profile.InstrumentationOrders, warmUp + profile.InstrumentationOrders);
            var spent = CpuUsage.Delta(before, CpuUsage.Sample(stack, infrastructure));
            spent.Remove("load generator (this program)");
            return spent.Values.Sum() * 1000 / profile.InstrumentationOrders;
        }
    }

    /// <summary>Submits <paramref name="count"/> orders at once (the Payer pays each QR code) and waits until <paramref name="placedInAll"/> are Placed.</summary>
    async Task PlaceAsync(Stack stack, string prefix, int count, int placedInAll)
    {
        var random = new Random(count);
        var orders = Enumerable.Range(0, count).Select(_ => new SubmittedOrder(Scenario, Guid.NewGuid().ToString("N"),
            [new OrderLine($"{prefix}-{random.Next(Skus):000}", 1)])).ToList();
        await Task.WhenAll(orders.Select(o => stack.Storefront.SubmitUntilAcceptedAsync(o, TimeSpan.FromSeconds(60))));
        for (var deadline = Clock.Now + 300; ; await Task.Delay(500))
        {
            var placed = (await stack.StateCountsAsync()).GetValueOrDefault("Placed");
            if (placed >= placedInAll)
                return;
            if (Clock.Now > deadline)
                throw new TimeoutException($"{Scenario}: {placed} of {placedInAll} orders placed after 5 minutes");
        }
    }

    /// <summary>An OTLP/HTTP receiver that answers every export with 200 and keeps nothing: the exporter's work is measured, not a collector's.</summary>
    sealed class OtlpSink : IDisposable
    {
        readonly HttpListener _listener = new();
        long _requests;

        OtlpSink(int port)
        {
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
        }

        public string Url { get; }
        public long Requests => Interlocked.Read(ref _requests);

        public static OtlpSink Start()
        {
            var sink = new OtlpSink(ServiceProcess.FreePort());
            sink._listener.Start();
            _ = sink.ServeAsync();
            return sink;
        }

        async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                await context.Request.InputStream.CopyToAsync(Stream.Null);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength64 = 0;
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }
}
