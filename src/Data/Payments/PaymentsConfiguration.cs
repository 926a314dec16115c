using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Payments;

sealed class PaymentRecordConfiguration : IEntityTypeConfiguration<PaymentRecord>
{
    public void Configure(EntityTypeBuilder<PaymentRecord> payment)
    {
        payment.ToTable("payments", "payments");
        payment.HasKey(p => p.OrderId);
        payment.Property(p => p.OrderId).HasColumnName("order_id");
        payment.Property(p => p.ProviderReference).HasColumnName("provider_reference");
        payment.HasIndex(p => p.ProviderReference).IsUnique();
        payment.Property(p => p.Amount).HasColumnName("amount").HasColumnType("numeric(12,2)");
        payment.Property(p => p.Currency).HasColumnName("currency").HasColumnType("character(3)");
        payment.Property(p => p.Status).HasColumnName("status");
        payment.Property(p => p.QrPayload).HasColumnName("qr_payload");
        payment.Property(p => p.ExpiresAt).HasColumnName("expires_at");
        payment.Property(p => p.PaidAmount).HasColumnName("paid_amount").HasColumnType("numeric(12,2)");
        payment.Property(p => p.PaidAt).HasColumnName("paid_at");
        payment.Property(p => p.RequestedAt).HasColumnName("requested_at");
        payment.Property(p => p.UpdatedAt).HasColumnName("updated_at");
    }
}

sealed class RefundRecordConfiguration : IEntityTypeConfiguration<RefundRecord>
{
    public void Configure(EntityTypeBuilder<RefundRecord> refund)
    {
        refund.ToTable("refunds", "payments");
        refund.HasKey(r => r.OrderId);
        refund.Property(r => r.OrderId).HasColumnName("order_id");
        refund.Property(r => r.ProviderReference).HasColumnName("provider_reference");
        refund.Property(r => r.RefundId).HasColumnName("refund_id");
        refund.Property(r => r.Amount).HasColumnName("amount").HasColumnType("numeric(12,2)");
        refund.Property(r => r.Status).HasColumnName("status");
        refund.Property(r => r.Reason).HasColumnName("reason");
        refund.Property(r => r.RequestedAt).HasColumnName("requested_at");
        refund.Property(r => r.CompletedAt).HasColumnName("completed_at");
    }
}
