using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Ordering;

public sealed partial class OrderStateMachine
{
    /// <summary>
    /// A final order is still an order: a payment that can no longer lead to placement is refunded, a QR code created
    /// after we gave up is withdrawn, late confirmations are recorded, and a cancel accepted (202) while the order was
    /// still open is honoured.
    /// </summary>
    void DuringFinalStates()
    {
        During(Rejected, Expired, Canceled, Failed,
            // A payment that can no longer lead to a placed order: refund it, once, whatever reports it again.
            When(PaymentSucceeded, c => c.Saga.RefundRequestedAt is null)
                .Then(RecordLatePayment)
                .RequestRefund(LatePayment, this)
                .TrackPendingWork(this),
            When(PaymentRefunded, c => c.Saga.RefundedAt is null)
                .Then(RecordRefund)
                .Then(c => _timeline.Note(c, $"refund {c.Message.RefundId} of {c.Message.Amount:0.00} confirmed"))
                .TrackPendingWork(this),
            // The QR payment was created after we gave up on it: withdraw it too.
            When(PaymentRequested, c => c.Saga.ProviderReference is null)
                .Then(RecordPaymentRequestedAfterTheEnd)
                .RequestWithdrawal(this)
                .TrackPendingWork(this),
            When(PaymentCanceled)
                .Then(c => RecordWithdrawal(c, c.Saga.PaymentStatus ?? PaymentStatus.Canceled))
                .Then(c => _timeline.Note(c, "QR payment withdrawn at the provider"))
                .TrackPendingWork(this),
            When(StockReleased)
                .Then(c => c.Saga.StockReleasedAt ??= Now)
                .Then(c => _timeline.Note(c, "stock released"))
                .TrackPendingWork(this));

        // A cancel accepted while the order was still open is honoured even if the order ended meanwhile.
        During(Rejected, Expired, Failed,
            When(CancelOrder)
                .Then(MarkCanceled)
                .TransitionTo(Canceled));

        During(Canceled,
            When(CancelOrder)
                .Then(c => _timeline.Note(c, $"ignored ({c.Message.RequestedBy}): the order is already Canceled")),
            // The submission of an order whose cancel came first: keep its facts for support, hold nothing.
            When(SubmitOrder, c => c.Saga.Lines.Count == 0)
                .Then(RecordSubmission)
                .Then(c => _timeline.Note(c, "submission arrived after the cancel; nothing held")),
            // A cancel in Submitted may overtake the hold: its release can run before the hold exists. The hold's
            // late StockHeld then releases again (ReleaseStock is idempotent on hold status).
            When(StockHeld)
                .Then(c => _timeline.Note(c, "stock held after the cancel; releasing it again"))
                .ReleaseStock(this)
                .TrackPendingWork(this));
    }

    /// <summary>In every state: the pending-work timer, support's retry, and steps that failed for good.</summary>
    void DuringAnyState()
    {
        DuringAny(
            When(PendingWork.Received)
                // Fired and done: cleared now rather than after this handler, so it can be armed again below.
                .Then(c =>
                {
                    c.Saga.PendingWorkTokenId = null;
                    c.Saga.PendingWorkAttempts++;
                })
                .ReissuePendingWork(this, escalate: true),
            When(RetryCompensation, HasPendingWork)
                .Then(c => _timeline.Note(c, $"{c.Message.RequestedBy} asked to retry: {DescribePendingWork(c.Saga)}"))
                .ReissuePendingWork(this, escalate: false),
            When(RetryCompensation, c => !HasPendingWork(c))
                .Then(c => _timeline.Note(c, $"{c.Message.RequestedBy} asked to retry; nothing is pending")),
            When(RefundFaulted, c => RefundPending(c.Saga)).NeedsAttention(this, AttentionReasons.RefundRefused, "refund"),
            When(CancelPaymentFaulted, c => CancelPending(c.Saga)).NeedsAttention(this, AttentionReasons.CancelRefused, "QR withdrawal"),
            When(ReleaseFaulted, c => ReleasePending(c.Saga)).NeedsAttention(this, null, "stock release"),
            When(PlacementFaulted, c => c.Saga.CurrentState == Placing.Name).NeedsAttention(this, null, "placement"),
            When(HoldFaulted, c => c.Saga.CurrentState == Submitted.Name).NeedsAttention(this, null, "stock hold"));
    }
}
