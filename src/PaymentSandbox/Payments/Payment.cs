namespace Sagas.PaymentSandbox.Payments;

/// <summary>A row of <c>sandbox.payments</c>.</summary>
public sealed record Payment(
    string ProviderReference,
    string IdempotencyKey,
    string MerchantReference,
    decimal Amount,
    string Currency,
    int ExpiresInSeconds,
    string StoredStatus,
    string QrPayload,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    DateTime? PaidAt,
    decimal? CapturedAmount,
    DateTime UpdatedAt)
{
    /// <summary>
    /// A pending payment whose <c>expiresAt</c> has passed is expired whether or not anything has written
    /// that down yet: time, not a sweep, decides.
    /// </summary>
    public string StatusAt(DateTime now) =>
        StoredStatus == PaymentStatus.Pending && now >= ExpiresAt ? PaymentStatus.Expired : StoredStatus;

    bool ExpiredByTheClockAt(DateTime now) => StoredStatus == PaymentStatus.Pending && now >= ExpiresAt;

    /// <summary>
    /// When the payment last changed: <c>updated_at</c> (created, paid, failed, canceled, refunded, or its
    /// expiry written down, which is recorded as of <c>expiresAt</c>), or for a pending payment past its
    /// <c>expiresAt</c> that instant, since it expired then whether or not anything wrote it down. The
    /// provider listing filters and orders by this; <see cref="PaymentLedger"/>'s SQL says the same.
    /// </summary>
    public DateTime UpdatedAtAt(DateTime now) => ExpiredByTheClockAt(now) ? ExpiresAt : UpdatedAt;

    public bool IsSameRequestAs(NewQrPayment request) =>
        MerchantReference == request.MerchantReference
        && Amount == request.Amount
        && Currency == request.Currency
        && ExpiresInSeconds == request.ExpiresInSeconds;
}

/// <summary>A row of <c>sandbox.refunds</c>.</summary>
public sealed record Refund(
    string RefundId,
    string ProviderReference,
    string IdempotencyKey,
    decimal Amount,
    string Status,
    DateTime CreatedAt);

/// <summary>A validated create request.</summary>
public sealed record NewQrPayment(string MerchantReference, decimal Amount, string Currency, int ExpiresInSeconds);

/// <summary>The create answer; a replay with the same key answers exactly this again.</summary>
public sealed record QrPaymentCreated(string ProviderReference, string QrPayload, string Status, DateTime ExpiresAt)
{
    public static QrPaymentCreated From(Payment payment) =>
        new(payment.ProviderReference, payment.QrPayload, PaymentStatus.Pending, payment.ExpiresAt);
}

public sealed record RefundView(string RefundId, decimal Amount, string Status)
{
    public static RefundView From(Refund refund) => new(refund.RefundId, refund.Amount, refund.Status);
}

/// <summary>
/// A payment as the provider API (<c>GET /v1/qr-payments/{ref}</c> and the listing) and the sandbox ledger
/// show it: the contract's fields plus <c>capturedAmount</c> (what was actually paid, which may differ from
/// <c>amount</c>), <c>qrPayload</c>, <c>expiresAt</c>, <c>createdAt</c> and <c>updatedAt</c> (the last
/// change, as the listing orders by it: see <see cref="Payment.UpdatedAtAt"/>).
/// </summary>
public sealed record PaymentView(
    string ProviderReference,
    string MerchantReference,
    string Status,
    decimal Amount,
    string Currency,
    decimal? CapturedAmount,
    DateTime? PaidAt,
    string QrPayload,
    DateTime ExpiresAt,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    IReadOnlyList<RefundView> Refunds)
{
    public static PaymentView From(Payment payment, IEnumerable<Refund> refunds, DateTime now) => new(
        payment.ProviderReference,
        payment.MerchantReference,
        payment.StatusAt(now),
        payment.Amount,
        payment.Currency,
        payment.CapturedAmount,
        payment.PaidAt,
        payment.QrPayload,
        payment.ExpiresAt,
        payment.CreatedAt,
        payment.UpdatedAtAt(now),
        refunds.Select(RefundView.From).ToList());
}
