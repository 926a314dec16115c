using Xunit.Abstractions;

namespace Sagas.EndToEndTests.Operations;

/// <summary>The whole stack, and a real Prometheus scraping Api, Workers, sandbox and RabbitMQ every second.</summary>
public sealed class PrometheusStackFixture : StackFixture, IAsyncLifetime
{
    public PrometheusServer Prometheus { get; private set; } = null!;

    protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        // Figures read from the database may be a second old rather than five: the test waits less.
        ["Metrics__DatabaseRefresh"] = "00:00:01",
    };

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var rabbit = VirtualHost.Settings;
        Prometheus = await PrometheusServer.StartAsync(
        [
            new ScrapeTarget("sagas-api", $"127.0.0.1:{Api.Port}"),
            new ScrapeTarget("sagas-workers", $"127.0.0.1:{Workers.Port}"),
            new ScrapeTarget("sagas-payment-sandbox", $"127.0.0.1:{Sandbox.Port}"),
            new ScrapeTarget("rabbitmq", $"{rabbit.RabbitHost}:{rabbit.RabbitPrometheusPort}", "/metrics/per-object"),
        ], TimeSpan.FromSeconds(1));
    }

    public new async Task DisposeAsync()
    {
        await Prometheus.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Metrics as an operator reads them: a real Prometheus scrapes the three services and RabbitMQ during a small run of
/// orders, and what it stored — read back through its query API — is what the run did: orders by state, the time-to-QR
/// histogram's count, outbox deliveries, the Api's 401s, every target up. Waits for each figure instead of timing
/// anything (scrapes, database readings and the saga all lag by seconds on a loaded machine).
/// </summary>
public sealed class PrometheusScrapeTests(PrometheusStackFixture stack, ITestOutputHelper output) : IClassFixture<PrometheusStackFixture>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    PrometheusServer Prometheus => stack.Prometheus;

    [Fact]
    public async Task Prometheus_reads_back_what_a_run_of_orders_did()
    {
        await stack.StockItem("PROM-1", 20, price: 12m);
        var orders = new List<(Guid OrderId, string Reference)>();
        for (var i = 0; i < 5; i++)
            orders.Add(await stack.PlaceOrderAwaitingPayment(("PROM-1", 1)));
        foreach (var (_, reference) in orders.Take(3))
            await stack.Pay(reference);
        Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(orders[3].OrderId, TestApiKeys.Storefront)).StatusCode);
        foreach (var (orderId, _) in orders.Take(3))
            await stack.OrderIn(orderId, "Placed");
        await stack.OrderIn(orders[3].OrderId, "Canceled");
        using (var anonymous = new HttpClient { BaseAddress = stack.Api.BaseAddress })
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/orders/stats")).StatusCode);

        // Every target scraped, RabbitMQ's per-queue figures included.
        var health = await Eventually.Until(Prometheus.TargetHealthAsync, h => h.Count == 4 && h.Values.All(v => v == "up"), Patience,
            "every target up");
        output.WriteLine(string.Join(", ", health.Select(h => $"{h.Key}: {h.Value}")));

        // Orders by state, from the Workers' database reading: exactly this run's (the database is this class's own).
        await Expect("""max(sagas_orders{job="sagas-workers", state="Placed"})""", v => v == 3);
        await Expect("""max(sagas_orders{job="sagas-workers", state="Canceled"})""", v => v == 1);
        await Expect("""max(sagas_orders{job="sagas-workers", state="AwaitingPayment"})""", v => v == 1);
        await Expect("""sum(sagas_orders_accepted_total{job="sagas-api"})""", v => v == 5);
        await Expect("""sum(sagas_order_transitions_total{job="sagas-workers", from="Placing", to="Placed", event="StockCommitted"})""", v => v == 3);
        await Expect("""sum(sagas_order_outcomes_total{job="sagas-workers", state="Canceled", reason="canceled"})""", v => v == 1);

        // Every order got its QR code once: the histogram counted each one once, with a plausible time.
        await Expect("""sum(sagas_order_time_to_qr_seconds_count{job="sagas-workers"})""", v => v == 5);
        await Expect("""sum(sagas_order_time_to_qr_seconds_sum{job="sagas-workers"})""", v => v > 0 && v < 5 * 60);
        await Expect("""sum(sagas_order_time_to_qr_seconds_bucket{job="sagas-workers", le="+Inf"})""", v => v == 5);

        // Outbox delivery (whichever process sent each outbox): at least the Api's five SubmitOrder and one CancelOrder,
        // and per order the saga's HoldStock, RequestPayment and payment deadline and the consumers' StockHeld.
        await Expect("""sum(sagas_outbox_delivery_lag_seconds_count)""", v => v >= 6 + 5 * 4);
        await Expect("""sum(sagas_outbox_delivery_lag_seconds_sum) / sum(sagas_outbox_delivery_lag_seconds_count)""", v => v is > 0 and < 60);
        await Expect("""max(sagas_outbox_pending)""", v => v >= 0);
        // Nothing failed for good in this run: the figure is there, and 0.
        await Expect("""max(sagas_messages_failed)""", v => v == 0);

        // Each hop's lag, measured where the message is consumed: the saga consumed every order's SubmitOrder at least once.
        await Expect("""sum(sagas_consume_lag_seconds_count{job="sagas-workers", message_type="SubmitOrder"})""", v => v >= 5);
        await Expect("""sum(sagas_consume_lag_seconds_sum{job="sagas-workers"}) / sum(sagas_consume_lag_seconds_count{job="sagas-workers"})""", v => v is > 0 and < 60);
        // The Api hands each SubmitOrder off at its commit, stamped with the commit's time: commit → consume is measured too.
        await Expect("""sum(sagas_consume_commit_lag_seconds_count{job="sagas-workers", message_type="SubmitOrder"})""", v => v >= 5);

        // The Api's 401, from ASP.NET Core's request metrics; the sandbox's provider API calls; the saga queue's depth.
        await Expect("""sum(http_server_request_duration_seconds_count{job="sagas-api", http_response_status_code="401"})""", v => v >= 1);
        await Expect("""sum(http_server_request_duration_seconds_count{job="sagas-payment-sandbox", http_route=~"/v1/qr-payments.*"})""", v => v >= 5);
        await Expect($$"""max(rabbitmq_queue_messages{job="rabbitmq", vhost="{{stack.VirtualHost.Name}}", queue="order-state"})""", v => v >= 0);
        await Expect("""max(sagas_provider_circuit_open{job="sagas-workers"})""", v => v == 0);
    }

    async Task Expect(string promql, Func<double, bool> condition)
    {
        var value = await Eventually.Until(() => Prometheus.ValueAsync(promql), v => v is { } x && condition(x), Patience,
            $"{promql}\n--- prometheus ---\n{Prometheus.Log}");
        output.WriteLine($"{promql} = {value}");
    }
}
