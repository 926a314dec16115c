using MassTransit;
using Sagas.Contracts.Payments;
using Sagas.Data;

namespace Sagas.Workers.Payments;

/// <summary>
/// Withdraws an unpaid QR payment. The answer is always the provider's word: withdrawn (or already expired or
/// failed) → <see cref="PaymentCanceled"/>; refused with a 409 → the payment's status is read and reported as it is,
/// a capture as <see cref="PaymentSucceeded"/> (the saga places or refunds it). A refusal whose payment still reads
/// pending is retried rather than guessed at.
/// </summary>
public sealed class CancelPaymentConsumer(PaymentProviderClient provider, FulfilmentDbContext db, TimeProvider clock)
    : IConsumer<CancelPayment>
{
    public async Task Consume(ConsumeContext<CancelPayment> context)
    {
        var command = context.Message;
        var payment = await provider.CancelPaymentAsync(command.ProviderReference, context.CancellationToken)
                      ?? await provider.GetPaymentAsync(command.ProviderReference, context.CancellationToken);
        await PaymentRecords.UpdateAsync(db, command.OrderId, payment, clock.GetUtcNow(), context.CancellationToken);

        var outcome = PaymentRecords.Outcome(command.OrderId, payment, PaymentSources.Cancel, clock)
                      ?? throw new InvalidOperationException(
                          $"the provider refused to withdraw payment {payment.ProviderReference} but reports it {payment.Status}; asking again");
        await context.Publish(outcome);
    }
}
