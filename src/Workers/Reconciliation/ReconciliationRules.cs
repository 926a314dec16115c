using System.Globalization;
using Sagas.Data.Ordering;
using Sagas.Workers.Payments;

namespace Sagas.Workers.Reconciliation;

/// <summary>The kinds of mismatch, spelled as <c>GET /reconciliation</c> answers them (http-contract.md, "Additions").</summary>
public static class MismatchKinds
{
    public const string CapturedNotPlaced = "captured-not-placed";
    public const string PlacedNotCaptured = "placed-not-captured";
    public const string RefundOfPlaced = "refund-of-placed";
    public const string RefundedMoreThanCaptured = "refunded-more-than-captured";
    public const string AmountDiffers = "amount-differs";
}

public sealed record Mismatch(string OrderId, string Kind, string Detail);

/// <summary>What our books say about an order whose payment is compared: its state, total and the payment it was placed with.</summary>
public sealed record OurOrder(Guid OrderId, string Status, decimal Total, string Currency, string? ProviderReference, DateTimeOffset? PlacedAt);

/// <summary>How long money may be on its way before a difference counts (<see cref="ReconciliationRules.Settling"/>).</summary>
public sealed record SettlingTime(TimeSpan PaymentGrace, TimeSpan ReconciliationGrace);

public sealed record ReconciliationOutcome(int Payments, int Captured, int Refunded, IReadOnlyList<Mismatch> Mismatches);

/// <summary>
/// The comparison itself, free of I/O: every payment the provider listed against the order it names (its merchant
/// reference), and every order we placed in the range against its payment. Money is judged by what the provider holds
/// (captured minus refunded): kept for an order we did not place with that payment, missing for one we did.
/// </summary>
public static class ReconciliationRules
{
    public static ReconciliationOutcome Compare(IReadOnlyList<ProviderPayment> listed, IReadOnlyDictionary<Guid, OurOrder> orders,
        IReadOnlyList<OurOrder> placedInRange, IReadOnlyDictionary<string, ProviderPayment?> fetched, DateTimeOffset now,
        SettlingTime grace)
    {
        var mismatches = new List<Mismatch>();
        var compared = new HashSet<string>();
        foreach (var payment in listed)
        {
            compared.Add(payment.ProviderReference);
            var order = Guid.TryParse(payment.MerchantReference, out var id) ? orders.GetValueOrDefault(id) : null;
            mismatches.AddRange(CompareOne(payment, order, payment.MerchantReference ?? payment.ProviderReference)
                .Where(m => !Settling(m.Kind, payment, now, grace)));
        }

        // An order placed in the range whose payment did not change in it (or is unknown to the provider).
        foreach (var order in placedInRange.Where(o => o.ProviderReference is null || !compared.Contains(o.ProviderReference)))
        {
            var payment = order.ProviderReference is null ? null : fetched.GetValueOrDefault(order.ProviderReference);
            if (payment is null)
            {
                if (now >= (order.PlacedAt ?? now) + grace.ReconciliationGrace)
                    mismatches.Add(new Mismatch(order.OrderId.ToString(), MismatchKinds.PlacedNotCaptured,
                        $"placed with {order.ProviderReference ?? "no payment"}, which the provider does not know"));
            }
            else
                mismatches.AddRange(CompareOne(payment, order, order.OrderId.ToString()).Where(m => !Settling(m.Kind, payment, now, grace)));
        }

        return new ReconciliationOutcome(listed.Count, listed.Count(p => p.Status == "succeeded"), listed.Count(p => Refunded(p) > 0),
            mismatches);
    }

    /// <summary>
    /// Money still on its way, so not (yet) a mismatch of this kind: any payment changed at the provider within
    /// reconciliation's grace (a refund whose answer is still coming back, a capture being placed); and a capture of an
    /// order we did not place until the QR's deadline plus the saga's grace plus reconciliation's grace have passed —
    /// the saga may still hear of it (and place it, or refund it) until then.
    /// </summary>
    public static bool Settling(string kind, ProviderPayment payment, DateTimeOffset now, SettlingTime grace)
    {
        var changed = payment.UpdatedAt ?? payment.PaidAt ?? now;
        if (kind != MismatchKinds.CapturedNotPlaced)
            return now < changed + grace.ReconciliationGrace;
        var deadline = (payment.ExpiresAt ?? changed) + grace.PaymentGrace;
        return now < (deadline > changed ? deadline : changed) + grace.ReconciliationGrace;
    }

    static IEnumerable<Mismatch> CompareOne(ProviderPayment payment, OurOrder? order, string orderId)
    {
        var captured = Captured(payment);
        var refunded = Refunded(payment);
        var currency = payment.Currency ?? order?.Currency ?? "";
        if (refunded > captured)
            yield return new Mismatch(orderId, MismatchKinds.RefundedMoreThanCaptured,
                $"{payment.ProviderReference}: refunded {Money(refunded, currency)} of {Money(captured, currency)} captured");

        var placedWithIt = order is { Status: OrderStatuses.Placed } && order.ProviderReference == payment.ProviderReference;
        if (!placedWithIt)
        {
            if (captured - refunded > 0)
                yield return new Mismatch(orderId, MismatchKinds.CapturedNotPlaced,
                    $"{payment.ProviderReference}: the provider holds {Money(captured - refunded, currency)} (captured {Money(captured, currency)}, refunded {Money(refunded, currency)}); "
                    + (order is null ? "no order of ours" : $"our order is {order.Status}"));
            yield break;
        }

        if (payment.Status != "succeeded")
        {
            yield return new Mismatch(orderId, MismatchKinds.PlacedNotCaptured, $"{payment.ProviderReference} is {payment.Status} at the provider");
            yield break;
        }

        if (refunded > 0)
            yield return new Mismatch(orderId, MismatchKinds.RefundOfPlaced,
                $"{payment.ProviderReference}: {Money(refunded, currency)} refunded of a placed order");
        if (captured != order!.Total || !string.Equals(currency, order.Currency, StringComparison.Ordinal))
            yield return new Mismatch(orderId, MismatchKinds.AmountDiffers,
                $"{payment.ProviderReference}: captured {Money(captured, currency)}, the order is {Money(order.Total, order.Currency)}");
    }

    static decimal Captured(ProviderPayment payment) =>
        payment.Status == "succeeded" ? payment.CapturedAmount ?? payment.Amount ?? 0 : 0;

    static decimal Refunded(ProviderPayment payment) =>
        payment.Refunds?.Where(r => r.Status == "succeeded").Sum(r => r.Amount) ?? 0;

    static string Money(decimal amount, string currency) =>
        amount.ToString("0.00", CultureInfo.InvariantCulture) + (currency.Length > 0 ? " " + currency : "");
}
