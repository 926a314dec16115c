using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Payments;

/// <summary>An unplaced order whose payment the reconciliation sweep has checked (see 0006_reconciliations.sql).</summary>
public sealed class Reconciliation
{
    public Guid OrderId { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
}

sealed class ReconciliationConfiguration : IEntityTypeConfiguration<Reconciliation>
{
    public void Configure(EntityTypeBuilder<Reconciliation> reconciliation)
    {
        reconciliation.ToTable("reconciliations", "payments");
        reconciliation.HasKey(r => r.OrderId);
        reconciliation.Property(r => r.OrderId).HasColumnName("order_id");
        reconciliation.Property(r => r.CheckedAt).HasColumnName("checked_at");
    }
}
