using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Payments;

/// <summary>
/// One comparison of our orders with the provider's listing over <see cref="RangeFrom"/>..<see cref="RangeTo"/> (the
/// provider's clock), written by the Workers and never changed (see 0012_reconciliation_reports.sql).
/// </summary>
public sealed class ReconciliationReport
{
    public long Id { get; init; }
    public DateTimeOffset RangeFrom { get; init; }
    public DateTimeOffset RangeTo { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
    public bool Scheduled { get; init; }
    public string? RequestedBy { get; init; }
    public int Payments { get; init; }
    public int Captured { get; init; }
    public int Refunded { get; init; }
    public int MismatchCount { get; init; }

    /// <summary>The mismatches as the JSON array <c>GET /reconciliation</c> answers.</summary>
    public string Mismatches { get; init; } = "[]";
}

sealed class ReconciliationReportConfiguration : IEntityTypeConfiguration<ReconciliationReport>
{
    public void Configure(EntityTypeBuilder<ReconciliationReport> report)
    {
        report.ToTable("reconciliation_reports", "payments");
        report.HasKey(r => r.Id);
        report.Property(r => r.Id).UseIdentityAlwaysColumn();
        report.Property(r => r.Mismatches).HasColumnType("jsonb");
    }
}
