using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Payments;

/// <summary>
/// How far the payment poll has read the provider's listing of changed payments (one row; see
/// 0008_payment_status_poll.sql): the last change seen, on the provider's clock, and when the poll last read it.
/// </summary>
public sealed class PaymentStatusPollState
{
    public int Id { get; init; }
    public DateTimeOffset? ListedThrough { get; set; }
    public DateTimeOffset? PolledAt { get; set; }
}

sealed class PaymentStatusPollStateConfiguration : IEntityTypeConfiguration<PaymentStatusPollState>
{
    public void Configure(EntityTypeBuilder<PaymentStatusPollState> poll)
    {
        poll.ToTable("status_poll", "payments");
        poll.HasKey(p => p.Id);
        poll.Property(p => p.Id).ValueGeneratedNever();
    }
}
