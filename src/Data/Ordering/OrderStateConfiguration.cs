using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Sagas.Contracts.Ordering;

namespace Sagas.Data.Ordering;

sealed class OrderStateConfiguration : IEntityTypeConfiguration<OrderState>
{
    public void Configure(EntityTypeBuilder<OrderState> order)
    {
        order.ToTable("order_state", "ordering");
        order.HasKey(o => o.CorrelationId);
        // MassTransit names the saga's key CorrelationId; the table calls it what it is, the order's id.
        order.Property(o => o.CorrelationId).HasColumnName("order_id").ValueGeneratedNever();
        order.Property(o => o.Currency).HasColumnType("character(3)");
        order.Property(o => o.Total).HasColumnType("numeric(12,2)");
        order.Property(o => o.Lines).HasColumnType("jsonb")
            .HasConversion(l => LinesJson.Write(l), s => LinesJson.Read(s), LinesJson.Comparer);
        order.Property(o => o.PaymentStatus).HasConversion<string>();
        order.Property(o => o.PaidAmount).HasColumnType("numeric(12,2)");
        order.Property(o => o.PaidCurrency).HasColumnType("character(3)");

        // Loaded without its history: only entries added while handling a message are tracked, and inserted.
        order.HasMany(o => o.Timeline).WithOne().HasForeignKey(e => e.OrderId);

        order.HasIndex(o => new { o.CurrentState, o.UpdatedAt }).HasDatabaseName("order_state_by_state_updated");
        order.HasIndex(o => new { o.CustomerId, o.CreatedAt, o.CorrelationId })
            .IsDescending(false, true, true).HasDatabaseName("order_state_by_customer_newest");
        order.HasIndex(o => new { o.CreatedAt, o.CorrelationId })
            .IsDescending(true, true).HasDatabaseName("order_state_newest");
        order.HasIndex(o => new { o.AttentionSince, o.CorrelationId }).HasDatabaseName("order_state_attention")
            .HasFilter("attention_reason IS NOT NULL");
    }

    /// <summary>Order lines as a camelCase JSON array, the shape the HTTP contract uses.</summary>
    static class LinesJson
    {
        static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

        public static string Write(List<OrderLine> lines) => JsonSerializer.Serialize(lines, Options);

        public static List<OrderLine> Read(string json) => JsonSerializer.Deserialize<List<OrderLine>>(json, Options) ?? [];

        // Lines are immutable records, so a shallow copy is a snapshot and element equality is value equality.
        public static ValueComparer<List<OrderLine>> Comparer { get; } = new(
            (a, b) => a != null && b != null && a.SequenceEqual(b),
            l => l.Aggregate(0, (hash, line) => HashCode.Combine(hash, line)),
            l => l.ToList());
    }
}
