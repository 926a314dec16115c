using Sagas.Workers.Payments;
using Sagas.Workers.Reconciliation;

namespace Sagas.UnitTests.Reconciliation;

/// <summary>The comparison of the provider's payments with our orders, kind by kind, and what still counts as settling.</summary>
public sealed class ReconciliationRulesTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    static readonly SettlingTime Grace = new(PaymentGrace: TimeSpan.FromSeconds(30), ReconciliationGrace: TimeSpan.FromMinutes(1));
    static readonly Guid OrderId = Guid.NewGuid();

    /// <summary>A payment created, paid and last changed ten minutes ago, its QR deadline eight minutes ago.</summary>
    static ProviderPayment Payment(string status = "succeeded", decimal amount = 30m, decimal? captured = 30m, decimal[]? refunds = null,
        TimeSpan? changedAgo = null, TimeSpan? deadlineAgo = null) =>
        new("qr_1", OrderId.ToString(), status, amount, status == "succeeded" ? captured : null, "USD", null,
            Now - (deadlineAgo ?? TimeSpan.FromMinutes(8)), status == "succeeded" ? Now - TimeSpan.FromMinutes(10) : null,
            (refunds ?? []).Select((r, i) => new ProviderRefund($"rf_{i}", r, "succeeded")).ToList(), Now - (changedAgo ?? TimeSpan.FromMinutes(10)));

    static OurOrder Order(string status = "Placed", decimal total = 30m, string? reference = "qr_1") =>
        new(OrderId, status, total, "USD", reference, status == "Placed" ? Now - TimeSpan.FromMinutes(10) : null);

    static IEnumerable<string> Kinds(ProviderPayment payment, OurOrder? order)
    {
        var orders = order is null ? new Dictionary<Guid, OurOrder>() : new Dictionary<Guid, OurOrder> { [order.OrderId] = order };
        var placed = order is { Status: "Placed" } ? [order] : new List<OurOrder>();
        return ReconciliationRules.Compare([payment], orders, placed, new Dictionary<string, ProviderPayment?>(), Now, Grace)
            .Mismatches.Select(m => m.Kind);
    }

    [Fact]
    public void A_placed_order_paid_in_full_is_no_mismatch() => Assert.Empty(Kinds(Payment(), Order()));

    [Fact]
    public void An_unplaced_order_whose_capture_was_refunded_is_no_mismatch() =>
        Assert.Empty(Kinds(Payment(refunds: [30m]), Order("Expired")));

    [Fact]
    public void A_capture_of_no_order_of_ours_is_captured_not_placed() =>
        Assert.Equal(["captured-not-placed"], Kinds(Payment(), null));

    [Fact]
    public void A_capture_of_an_expired_order_not_refunded_is_captured_not_placed() =>
        Assert.Equal(["captured-not-placed"], Kinds(Payment(), Order("Expired")));

    [Fact]
    public void A_capture_still_within_the_deadline_and_the_graces_is_not_yet_a_mismatch() =>
        Assert.Empty(Kinds(Payment(deadlineAgo: TimeSpan.FromSeconds(80)), null));

    [Fact]
    public void A_placed_order_whose_payment_the_provider_shows_unpaid_is_placed_not_captured() =>
        Assert.Equal(["placed-not-captured"], Kinds(Payment(status: "expired"), Order()));

    [Fact]
    public void A_placed_order_the_provider_knows_nothing_of_is_placed_not_captured()
    {
        var order = Order(reference: "qr_gone");
        var outcome = ReconciliationRules.Compare([], new Dictionary<Guid, OurOrder>(), [order],
            new Dictionary<string, ProviderPayment?> { ["qr_gone"] = null }, Now, Grace);
        Assert.Equal(["placed-not-captured"], outcome.Mismatches.Select(m => m.Kind));
    }

    [Fact]
    public void A_refund_of_a_placed_order_is_refund_of_placed() =>
        Assert.Equal(["refund-of-placed"], Kinds(Payment(refunds: [10m]), Order()));

    [Fact]
    public void A_refund_made_a_moment_ago_is_still_settling() =>
        Assert.Empty(Kinds(Payment(refunds: [10m], changedAgo: TimeSpan.FromSeconds(20)), Order()));

    [Fact]
    public void Refunds_above_the_capture_are_refunded_more_than_captured() =>
        Assert.Contains("refunded-more-than-captured", Kinds(Payment(captured: 20m, refunds: [20m, 5m]), Order("Canceled")));

    [Fact]
    public void A_placed_order_captured_for_another_amount_is_amount_differs() =>
        Assert.Equal(["amount-differs"], Kinds(Payment(captured: 29.99m), Order()));

    [Fact]
    public void The_counts_are_of_the_listed_payments()
    {
        var outcome = ReconciliationRules.Compare([Payment(), Payment(status: "expired") with { ProviderReference = "qr_2", MerchantReference = "x" },
                Payment(refunds: [30m]) with { ProviderReference = "qr_3", MerchantReference = "y" }],
            new Dictionary<Guid, OurOrder> { [OrderId] = Order() }, [Order()], new Dictionary<string, ProviderPayment?>(), Now, Grace);
        Assert.Equal((3, 2, 1), (outcome.Payments, outcome.Captured, outcome.Refunded));
        Assert.Empty(outcome.Mismatches);
    }
}
