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
        order.Property(o => o.CorrelationId).HasColumnName("order_id").ValueGeneratedNever();
        order.Property(o => o.CurrentState).HasColumnName("current_state");
        order.Property(o => o.CustomerId).HasColumnName("customer_id");
        order.Property(o => o.Currency).HasColumnName("currency").HasColumnType("character(3)");
        order.Property(o => o.Total).HasColumnName("total").HasColumnType("numeric(12,2)");
        order.Property(o => o.Lines).HasColumnName("lines").HasColumnType("jsonb")
            .HasConversion(l => LinesJson.Write(l), s => LinesJson.Read(s), LinesJson.Comparer);
        order.Property(o => o.CreatedAt).HasColumnName("created_at");
        order.Property(o => o.UpdatedAt).HasColumnName("updated_at");
        order.Property(o => o.HoldUntil).HasColumnName("hold_until");
        order.Property(o => o.StockReleasedAt).HasColumnName("stock_released_at");
        order.Property(o => o.ProviderReference).HasColumnName("provider_reference");
        order.Property(o => o.QrPayload).HasColumnName("qr_payload");
        order.Property(o => o.PaymentExpiresAt).HasColumnName("payment_expires_at");
        order.Property(o => o.PaymentStatus).HasColumnName("payment_status").HasConversion<string>();
        order.Property(o => o.PaidAmount).HasColumnName("paid_amount").HasColumnType("numeric(12,2)");
        order.Property(o => o.PlacedAt).HasColumnName("placed_at");
        order.Property(o => o.RefundRequestedAt).HasColumnName("refund_requested_at");
        order.Property(o => o.RefundId).HasColumnName("refund_id");
        order.Property(o => o.RefundedAt).HasColumnName("refunded_at");
        order.Property(o => o.FailureReason).HasColumnName("failure_reason");
        order.Property(o => o.CanceledBy).HasColumnName("canceled_by");
        order.Property(o => o.PaidAt).HasColumnName("paid_at");
        order.Property(o => o.PaidCurrency).HasColumnName("paid_currency").HasColumnType("character(3)");
        order.Property(o => o.PaymentCancelRequestedAt).HasColumnName("payment_cancel_requested_at");
        order.Property(o => o.PaymentClosedAt).HasColumnName("payment_closed_at");
        order.Property(o => o.ReleaseRequestedAt).HasColumnName("release_requested_at");
        order.Property(o => o.RefundReason).HasColumnName("refund_reason");
        order.Property(o => o.PendingWorkTokenId).HasColumnName("pending_work_token_id");
        order.Property(o => o.PendingWorkAttempts).HasColumnName("pending_work_attempts");
        order.Property(o => o.AttentionReason).HasColumnName("attention_reason");
        order.Property(o => o.AttentionSince).HasColumnName("attention_since");
        order.Property(o => o.AttentionDetail).HasColumnName("attention_detail");
        order.Property(o => o.PaymentWindowTokenId).HasColumnName("payment_window_token_id");
        order.Property(o => o.PaymentPollTokenId).HasColumnName("payment_poll_token_id");

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
