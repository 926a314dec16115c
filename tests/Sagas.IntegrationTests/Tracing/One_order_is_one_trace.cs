using System.Diagnostics;
using System.Text.Json;

namespace Sagas.IntegrationTests.Tracing;

/// <summary>
/// Issue 14's acceptance: one order through the real stack (Api, outbox, RabbitMQ, saga, inventory, payments, the
/// provider over HTTP, its webhook, placement) is one trace, none of its spans orphaned; a timer's firing is a trace of
/// its own, linked to the order's.
/// </summary>
public sealed class One_order_is_one_trace(TracedStack stack) : IClassFixture<TracedStack>
{
    const string Sku = "TRACED-1";

    [Fact]
    public async Task From_the_POST_to_the_placement_with_timers_linked()
    {
        using (var admin = stack.Client(stack.ApiUrl, TestApiKeys.Admin))
            (await admin.PutAsJsonAsync($"/items/{Sku}", new { name = Sku, category = "test", price = 10m, currency = "USD", onHand = 10 }))
                .EnsureSuccessStatusCode();

        // Order A is paid and placed.
        var paid = await stack.SubmitOrder(Sku);
        var awaiting = await stack.OrderWhen(paid, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object
                                                        && o.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 },
            "QR payment ready");
        var reference = awaiting.GetProperty("payment").GetProperty("providerReference").GetString();
        using (var customer = stack.Client(stack.SandboxUrl))
            (await customer.PostAsJsonAsync($"/sandbox/qr-payments/{reference}/pay", new { })).EnsureSuccessStatusCode();
        var placed = await stack.OrderWhen(paid, o => o.GetProperty("status").GetString() == "Placed", "placed");

        var traceId = placed.GetProperty("traceId").GetString();
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Equal(JsonValueKind.Null, (await stack.Order(paid, TestApiKeys.Storefront)).GetProperty("traceId").ValueKind);

        var trace = await Eventually.Until(() => Task.FromResult(TraceOfOrder.Of(stack.Spans.Snapshot(), traceId!)), t => t.IsWhole,
            TimeSpan.FromSeconds(30), "every stage of the order in its trace, none orphaned");
        trace.AssertWhole();

        // Order B is never paid, and the provider fails every call: no QR code reaches the saga, and its deadline timer
        // fires (payment window + grace), which expires the order.
        using (var sandbox = stack.Client(stack.SandboxUrl))
            (await sandbox.PutAsJsonAsync("/sandbox/settings", new { errorRate = 1.0 })).EnsureSuccessStatusCode();
        var unpaid = await stack.SubmitOrder(Sku);
        var expired = await stack.OrderWhen(unpaid, o => o.GetProperty("status").GetString() == "Expired", "expired by its deadline timer");
        var unpaidTraceId = expired.GetProperty("traceId").GetString()!;

        var firing = await Eventually.Until(() => Task.FromResult(TimerFiring.Of(stack.Spans.Snapshot(), unpaidTraceId)), f => f.IsLinked,
            TimeSpan.FromSeconds(30), "the deadline timer's consume in a trace of its own, linked to the order's");
        firing.AssertLinked();
    }
}
