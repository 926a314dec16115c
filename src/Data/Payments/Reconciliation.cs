using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Payments;

/// <summary>
/// An unplaced order whose payment the reconciliation sweep checks at the provider, again and again with a growing
/// delay until it is settled (see 0006_reconciliations.sql and 0007_paid_means_placed.sql).
/// </summary>
public sealed class Reconciliation
{
    public Guid OrderId { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset NextCheckAt { get; init; }
}

sealed class ReconciliationConfiguration : IEntityTypeConfiguration<Reconciliation>
{
    public void Configure(EntityTypeBuilder<Reconciliation> reconciliation)
    {
        reconciliation.ToTable("reconciliations", "payments");
        reconciliation.HasKey(r => r.OrderId);
        reconciliation.HasIndex(r => r.NextCheckAt).HasDatabaseName("reconciliations_due");
    }
}
