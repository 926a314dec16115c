using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Payments;

sealed class PaymentRecordConfiguration : IEntityTypeConfiguration<PaymentRecord>
{
    public void Configure(EntityTypeBuilder<PaymentRecord> payment)
    {
        payment.ToTable("payments", "payments");
        payment.HasKey(p => p.OrderId);
        payment.HasIndex(p => p.ProviderReference).IsUnique();
        payment.Property(p => p.Amount).HasColumnType("numeric(12,2)");
        payment.Property(p => p.Currency).HasColumnType("character(3)");
        payment.Property(p => p.PaidAmount).HasColumnType("numeric(12,2)");
    }
}

sealed class RefundRecordConfiguration : IEntityTypeConfiguration<RefundRecord>
{
    public void Configure(EntityTypeBuilder<RefundRecord> refund)
    {
        refund.ToTable("refunds", "payments");
        refund.HasKey(r => r.OrderId);
        refund.Property(r => r.Amount).HasColumnType("numeric(12,2)");
    }
}
