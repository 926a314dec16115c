using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Sagas.EndToEndTests.Api;
using Sagas.EndToEndTests.Reconciliation;
using Sagas.Testing;

namespace Sagas.EndToEndTests.Retention;

/// <summary>
/// Retention on the real stack (issue 17): the Workers archive final orders 3 s after their last change (the sweep every
/// second), with a payment window of 40 s so a capture's settling time is over within the test and reconciliation judges it.
/// </summary>
public sealed class RetentionStack : StackFixture
{
    protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(40);

    protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        ["Retention__ArchiveAfter"] = "00:00:03",
        ["Retention__Interval"] = "00:00:01",
        ["Sweeps__ReconciliationGrace"] = "00:00:01",
    };

    public async Task<long> Count(string sql, Guid[] orders)
    {
        await using var db = NpgsqlDataSource.Create(Database.ConnectionString);
        await using var command = db.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = orders });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

public sealed class Archiving_orders(RetentionStack stack) : IClassFixture<RetentionStack>
{
    [Fact]
    public async Task Placed_and_canceled_orders_are_archived_and_their_page_timeline_search_and_reconciliation_still_answer()
    {
        await stack.StockItem("ARCHIVE-1", 10, price: 7m);
        var customer = $"archive-{Guid.NewGuid():N}";
        var paid = await PlaceAwaitingPayment(customer);
        var canceled = await PlaceAwaitingPayment(customer);
        var live = await PlaceAwaitingPayment(customer);
        await stack.Pay(paid.ProviderReference);
        Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(canceled.OrderId, TestApiKeys.Storefront)).StatusCode);
        await stack.OrderIn(paid.OrderId, "Placed");
        await stack.OrderIn(canceled.OrderId, "Canceled");
        var ended = new[] { paid.OrderId, canceled.OrderId };

        // Moved: gone from the hot tables, in the archive.
        await Eventually.Until(async () => await stack.Count("SELECT count(*) FROM archive.order_state WHERE order_id = ANY($1)", ended) == 2,
            TimeSpan.FromSeconds(45), $"both ended orders archived\n--- workers ---\n{stack.Workers.Output}");
        Assert.Equal(0L, await stack.Count("""
            SELECT (SELECT count(*) FROM ordering.order_state WHERE order_id = ANY($1))
                 + (SELECT count(*) FROM ordering.order_timeline WHERE order_id = ANY($1))
                 + (SELECT count(*) FROM api.idempotency_keys WHERE order_id = ANY($1))
                 + (SELECT count(*) FROM payments.payments WHERE order_id = ANY($1))
            """, ended));
        Assert.True(await stack.Count("SELECT count(*) FROM archive.order_timeline WHERE order_id = ANY($1)", ended) >= 6);
        // The order still waiting for its payment stays where it is.
        Assert.Equal(1L, await stack.Count("SELECT count(*) FROM ordering.order_state WHERE order_id = ANY($1)", [live.OrderId]));
        Assert.Equal("AwaitingPayment", (await stack.Order(live.OrderId)).GetProperty("status").GetString());

        // The order's page, for support and for the storefront that placed it.
        var page = await stack.Order(paid.OrderId);
        Assert.Equal(("Placed", paid.ProviderReference), (page.GetProperty("status").GetString(), page.GetProperty("payment").GetProperty("providerReference").GetString()));
        using (var storefront = stack.Client(TestApiKeys.Storefront))
            Assert.Equal("Canceled", (await storefront.GetFromJsonAsync<JsonElement>($"/orders/{canceled.OrderId}")).GetProperty("status").GetString());

        // Its timeline, from acceptance to the end.
        var timeline = (await stack.Timeline(paid.OrderId)).EnumerateArray().Select(e => e.GetProperty("to").GetString()).ToList();
        Assert.Equal("Submitted", timeline[0]);
        Assert.Equal("Placed", timeline[^1]);
        Assert.Equal("Canceled", (await stack.Timeline(canceled.OrderId)).EnumerateArray().Last().GetProperty("to").GetString());

        // Support's search: the live order and the archived ones, newest first.
        using (var support = stack.Client(TestApiKeys.Support))
        {
            var found = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}");
            Assert.Equal(new[] { live.OrderId, canceled.OrderId, paid.OrderId },
                found.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderId").GetGuid()));
            var placedOnly = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}&status=Placed");
            Assert.Equal(paid.OrderId, placedOnly.GetProperty("items").EnumerateArray().Single().GetProperty("orderId").GetGuid());

            // Archived means done with: a placed order can no longer be canceled (refunded) from here.
            using var cancel = await support.PostAsync($"/orders/{paid.OrderId}/cancel", null);
            await ProblemAssertions.AssertProblem(cancel, HttpStatusCode.Conflict);
        }

        // Reconciliation: the capture of the archived placed order is matched with it, not reported as a capture we never
        // placed — judged once its QR deadline and both graces have passed (before that a capture only counts as settling).
        var deadline = page.GetProperty("payment").GetProperty("expiresAt").GetDateTimeOffset();
        var report = await Eventually.Until(() => ReconcileFor(stack), r => r.GetProperty("checkedAt").GetDateTimeOffset() > deadline.AddSeconds(4),
            TimeSpan.FromSeconds(90), "a report after the paid order's deadline and graces");
        Assert.DoesNotContain(ReconciliationStack.Mismatches(report), m => m.OrderId == paid.OrderId.ToString() || m.OrderId == canceled.OrderId.ToString());
        Assert.True(report.GetProperty("captured").GetInt32() >= 1);
    }

    async Task<(Guid OrderId, string ProviderReference)> PlaceAwaitingPayment(string customer)
    {
        var orderId = await stack.PlaceOrderFor(customer, ("ARCHIVE-1", 1));
        var order = await stack.OrderWhen(orderId, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object
                                                        && o.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 },
            "QR payment ready");
        return (orderId, order.GetProperty("payment").GetProperty("providerReference").GetString()!);
    }

    static async Task<JsonElement> ReconcileFor(StackFixture stack)
    {
        using var support = stack.Client(TestApiKeys.Support);
        var now = DateTimeOffset.UtcNow;
        using var response = await support.GetAsync(
            $"/reconciliation?from={ReconciliationStack.Stamp(now.AddMinutes(-10))}&to={ReconciliationStack.Stamp(now.AddMinutes(1))}");
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
