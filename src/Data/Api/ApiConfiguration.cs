using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Api;

sealed class IdempotencyKeyConfiguration : IEntityTypeConfiguration<IdempotencyKey>
{
    public void Configure(EntityTypeBuilder<IdempotencyKey> key)
    {
        key.ToTable("idempotency_keys", "api");
        key.HasKey(k => new { k.ClientId, k.Key });
        key.Property(k => k.ClientId).HasColumnName("client_id");
        key.Property(k => k.Key).HasColumnName("idempotency_key");
        key.Property(k => k.RequestHash).HasColumnName("request_hash");
        key.Property(k => k.OrderId).HasColumnName("order_id");
        key.HasIndex(k => k.OrderId).IsUnique();
        key.Property(k => k.CustomerId).HasColumnName("customer_id");
        key.Property(k => k.Currency).HasColumnName("currency").HasColumnType("character(3)");
        key.Property(k => k.Total).HasColumnName("total").HasColumnType("numeric(12,2)");
        key.Property(k => k.Lines).HasColumnName("lines").HasColumnType("jsonb");
        key.Property(k => k.CreatedAt).HasColumnName("created_at");
        key.Property(k => k.TraceParent).HasColumnName("trace_parent");
    }
}

sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> webhook)
    {
        webhook.ToTable("webhook_events", "payments");
        webhook.HasKey(w => w.EventId);
        webhook.Property(w => w.EventId).HasColumnName("event_id");
        webhook.Property(w => w.Type).HasColumnName("type");
        webhook.Property(w => w.ProviderReference).HasColumnName("provider_reference");
        webhook.Property(w => w.MerchantReference).HasColumnName("merchant_reference");
        webhook.Property(w => w.Amount).HasColumnName("amount").HasColumnType("numeric(12,2)");
        webhook.Property(w => w.Currency).HasColumnName("currency").HasColumnType("character(3)");
        webhook.Property(w => w.OccurredAt).HasColumnName("occurred_at");
        webhook.Property(w => w.ReceivedAt).HasColumnName("received_at");
    }
}
