using System.Text.Json.Nodes;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// <c>GET /v1/qr-payments?updatedFrom=&amp;updatedTo=&amp;cursor=&amp;limit=</c>: a payment is listed in the
/// window holding its last change. Every test first moves the sandbox's clock days ahead, so the windows it
/// asks for hold only its own payments.
/// </summary>
public sealed class Listing_payments(SandboxFixture sandbox) : SandboxSpec(sandbox)
{
    static readonly TimeSpan Phase = TimeSpan.FromMinutes(10);

    DateTime Now => Sandbox.Clock.GetUtcNow().UtcDateTime;

    /// <summary>A time no earlier test's payment has reached, even by its expiry.</summary>
    DateTime MoveToAFreshDay()
    {
        Sandbox.Clock.Advance(TimeSpan.FromDays(2));
        return Now;
    }

    [Fact]
    public async Task Payments_created_paid_refunded_failed_canceled_and_expired_appear_in_the_window_of_their_last_change()
    {
        var order = Guid.NewGuid().ToString();
        MoveToAFreshDay();
        var windowStart = Now - Phase / 2;
        // Phase 0: created. Everything but `expiring` can still be paid half an hour later.
        var pending = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        var expiring = await Api.CreatePaymentAsync(order, expiresInSeconds: 12 * 60);
        var paid = await Api.CreatePaymentAsync(order, 30m, expiresInSeconds: 3600);
        var canceled = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        var refunded = await Api.CreatePaymentAsync(order, 40m, expiresInSeconds: 3600);

        // Phase 1 (+10 min): paid, canceled, another created; `expiring` expires at +12 min.
        Sandbox.Clock.Advance(Phase);
        var firstBoundary = Now - Phase / 2;
        await Api.PaidAsync(paid.ProviderReference);
        Assert.Equal(HttpStatusCode.OK, (await Api.CancelAsync(canceled.ProviderReference)).StatusCode);
        await Api.PaidAsync(refunded.ProviderReference);
        var failed = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);

        // Phase 2 (+20 min): refunded, failed, one more created.
        Sandbox.Clock.Advance(Phase);
        var secondBoundary = Now - Phase / 2;
        Assert.Equal(HttpStatusCode.Created,
            (await Api.RefundAsync(refunded.ProviderReference, "refund-" + order, 15m)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Api.FailAsync(failed.ProviderReference)).StatusCode);
        var late = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);

        // Listed at +30 min.
        Sandbox.Clock.Advance(Phase);
        var thirdBoundary = Now - Phase / 2;

        var phase0 = await Api.ListingAsync(windowStart, firstBoundary);
        var phase1 = await Api.ListingAsync(firstBoundary, secondBoundary);
        var phase2 = await Api.ListingAsync(secondBoundary, thirdBoundary);
        var sinceSecond = await Api.ListingAsync(updatedFrom: secondBoundary);
        var untilFirst = await Api.ListingAsync(updatedTo: firstBoundary);

        Assert.Equal([pending.ProviderReference], References(phase0));
        Assert.Equal([paid.ProviderReference, canceled.ProviderReference, expiring.ProviderReference],
            References(phase1));
        Assert.Equal([refunded.ProviderReference, failed.ProviderReference, late.ProviderReference],
            References(phase2));
        Assert.Equal(References(phase2), References(sinceSecond));
        Assert.Equal([pending.ProviderReference],
            untilFirst.Items.Where(p => p.MerchantReference == order).Select(p => p.ProviderReference));
        Assert.All(new[] { phase0, phase1, phase2, sinceSecond }, page => Assert.Null(page.NextCursor));

        var statuses = phase1.Items.Concat(phase2.Items).Concat(phase0.Items)
            .ToDictionary(p => p.ProviderReference, p => p.Status);
        Assert.Equal(
            new Dictionary<string, string>
            {
                [pending.ProviderReference] = "pending", [expiring.ProviderReference] = "expired",
                [paid.ProviderReference] = "succeeded", [canceled.ProviderReference] = "canceled",
                [refunded.ProviderReference] = "succeeded", [failed.ProviderReference] = "failed",
                [late.ProviderReference] = "pending",
            },
            statuses);
        var expired = phase1.Items.Single(p => p.ProviderReference == expiring.ProviderReference);
        Assert.Equal(expiring.ExpiresAt, expired.ExpiresAt);
        Assert.Equal(expired.ExpiresAt, expired.UpdatedAt);
        var refundedItem = phase2.Items[0];
        Assert.Equal(15m, Assert.Single(refundedItem.Refunds).Amount);
        Assert.Equal(40m, refundedItem.CapturedAmount);
        Assert.NotNull(refundedItem.PaidAt);
        Assert.InRange(refundedItem.PaidAt!.Value, firstBoundary, secondBoundary);
    }

    [Fact]
    public async Task Items_are_exactly_what_the_payment_endpoint_shows_with_paid_at_and_expires_at()
    {
        var order = Guid.NewGuid().ToString();
        var from = MoveToAFreshDay();
        var payment = await Api.PaidPaymentAsync(order, 25m, expiresInSeconds: 3600);
        Assert.Equal(HttpStatusCode.Created,
            (await Api.RefundAsync(payment.ProviderReference, "refund-" + order, 5m)).StatusCode);
        var pending = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);

        var listing = await Api.ListAsync(from);
        var items = JsonNode.Parse(await listing.Content.ReadAsStringAsync())!["items"]!.AsArray();

        Assert.Equal(2, items.Count);
        foreach (var item in items)
        {
            var reference = item!["providerReference"]!.GetValue<string>();
            var shown = JsonNode.Parse(await (await Api.GetAsync(reference)).Content.ReadAsStringAsync())!;
            Assert.True(JsonNode.DeepEquals(shown, item), $"listed {item.ToJsonString()}\nshown  {shown.ToJsonString()}");
            Assert.True(shown.AsObject().ContainsKey("paidAt"));
            Assert.True(shown.AsObject().ContainsKey("updatedAt"));
            Assert.Equal(reference == payment.ProviderReference ? payment.ExpiresAt : pending.ExpiresAt,
                shown["expiresAt"]!.GetValue<DateTime>());
        }

        Assert.Null(items.Single(i => i!["providerReference"]!.GetValue<string>() == pending.ProviderReference)!["paidAt"]);
    }

    [Fact]
    public async Task Both_bounds_are_inclusive_from_and_exclusive_to_at_the_microsecond()
    {
        var order = Guid.NewGuid().ToString();
        MoveToAFreshDay();
        var payment = await Api.CreatePaymentAsync(order);
        var updatedAt = (await Api.GetPaymentAsync(payment.ProviderReference)).UpdatedAt;

        var from = await Api.ListingAsync(updatedFrom: updatedAt, updatedTo: updatedAt.AddTicks(10));
        var to = await Api.ListingAsync(updatedFrom: updatedAt.AddTicks(-10), updatedTo: updatedAt);
        var empty = await Api.ListingAsync(updatedFrom: updatedAt, updatedTo: updatedAt);

        Assert.Equal([payment.ProviderReference], References(from));
        Assert.Empty(to.Items);
        Assert.Empty(empty.Items);
    }

    [Fact]
    public async Task Paging_with_the_cursor_returns_every_payment_once_in_order_across_pages()
    {
        var order = Guid.NewGuid().ToString();
        var from = MoveToAFreshDay();
        var created = new List<string>();
        for (var i = 0; i < 230; i++)
        {
            // Every other payment expires a minute after it was created, so the pages interleave payments
            // listed at a recorded change with payments listed at their expiry.
            created.Add((await Api.CreatePaymentAsync(order, expiresInSeconds: i % 2 == 0 ? 60 : 3600)).ProviderReference);
            Sandbox.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        Sandbox.Clock.Advance(TimeSpan.FromMinutes(2));

        var byDefault = await Api.AllPagesAsync(from, null);
        var bySeven = await Api.AllPagesAsync(from, null, limit: 7);

        Assert.Equal([200, 30], byDefault.Select(p => p.Items.Count));
        Assert.Equal(Enumerable.Repeat(7, 32).Append(6), bySeven.Select(p => p.Items.Count));
        foreach (var pages in new[] { byDefault, bySeven })
        {
            var listed = pages.SelectMany(p => p.Items).ToList();
            Assert.Equal(created.Order(), listed.Select(p => p.ProviderReference).Order());
            Assert.Equal(listed.Select(p => p.UpdatedAt).Order(), listed.Select(p => p.UpdatedAt));
            Assert.Equal(115, listed.Count(p => p.Status == "expired"));
        }

        // The expired ones sit at their expiry, between payments created after them.
        Assert.NotEqual(byDefault[0].Items.Select(p => p.Status).Order(), byDefault[0].Items.Select(p => p.Status));
    }

    [Fact]
    public async Task A_payment_that_changes_during_a_walk_is_listed_again_later_and_none_is_missed()
    {
        var order = Guid.NewGuid().ToString();
        var from = MoveToAFreshDay();
        var created = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            created.Add((await Api.CreatePaymentAsync(order, expiresInSeconds: 3600)).ProviderReference);
            Sandbox.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var first = await Api.ListingAsync(from, limit: 5);
        var seen = first.Items.ToList();
        await Api.PaidAsync(seen[0].ProviderReference);
        await Api.PaidAsync(created[^1]);
        for (var cursor = first.NextCursor; cursor is not null;)
        {
            var page = await Api.ListingAsync(from, cursor: cursor, limit: 5);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
        }

        Assert.Equal(created.Order(), seen.Select(p => p.ProviderReference).Distinct().Order());
        Assert.Equal(21, seen.Count);
        Assert.Equal((created[0], "succeeded"), (seen[^2].ProviderReference, seen[^2].Status));
        Assert.Equal((created[^1], "succeeded"), (seen[^1].ProviderReference, seen[^1].Status));
    }

    [Theory]
    [InlineData("updatedFrom", "yesterday")]
    [InlineData("updatedFrom", "2026-11-26T10:00:00")]
    [InlineData("updatedFrom", "2026-11-26 10:00:00Z")]
    [InlineData("updatedTo", "2026-13-01T00:00:00Z")]
    [InlineData("updatedTo", "1764151200")]
    [InlineData("cursor", "not a cursor!")]
    [InlineData("cursor", "bm9uc2Vuc2U")]
    [InlineData("limit", "0")]
    [InlineData("limit", "501")]
    [InlineData("limit", "ten")]
    [InlineData("limit", "-5")]
    public async Task A_bad_parameter_is_a_400_naming_it(string name, string value)
    {
        var problem = await SandboxApi.ProblemAsync(await Api.ListAsync((name, value)), HttpStatusCode.BadRequest);

        Assert.Equal([name], problem.Errors!.Keys);
    }

    [Fact]
    public async Task Bounds_the_wrong_way_round_are_a_400_and_empty_parameters_count_as_absent()
    {
        var problem = await SandboxApi.ProblemAsync(
            await Api.ListAsync(("updatedFrom", "2026-11-26T10:00:00Z"), ("updatedTo", "2026-11-26T09:00:00Z")),
            HttpStatusCode.BadRequest);
        var offsets = await Api.ListAsync(("updatedFrom", "2026-11-26T10:00:00+01:00"), ("updatedTo", "2026-11-26T09:30Z"));
        var empty = await Api.ListAsync(("updatedFrom", ""), ("updatedTo", ""), ("cursor", ""), ("limit", ""));

        Assert.Equal(["updatedTo"], problem.Errors!.Keys);
        Assert.Equal(HttpStatusCode.OK, offsets.StatusCode);
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.NotNull((await empty.Content.ReadFromJsonAsync<PaymentListingDto>())!.Items);
    }

    static List<string> References(PaymentListingDto page) => page.Items.Select(p => p.ProviderReference).ToList();
}
