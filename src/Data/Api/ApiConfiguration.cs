using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Api;

sealed class IdempotencyKeyConfiguration : IEntityTypeConfiguration<IdempotencyKey>
{
    public void Configure(EntityTypeBuilder<IdempotencyKey> key)
    {
        key.ToTable("idempotency_keys", "api");
        key.HasKey(k => new { k.ClientId, k.Key });
        // Not the convention's "key": the column says which key it is (and KEY is an SQL keyword).
        key.Property(k => k.Key).HasColumnName("idempotency_key");
        key.HasIndex(k => k.OrderId).IsUnique();
        key.Property(k => k.Currency).HasColumnType("character(3)");
        key.Property(k => k.Total).HasColumnType("numeric(12,2)");
        key.Property(k => k.Lines).HasColumnType("jsonb");
    }
}

sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> webhook)
    {
        webhook.ToTable("webhook_events", "payments");
        webhook.HasKey(w => w.EventId);
        webhook.Property(w => w.Amount).HasColumnType("numeric(12,2)");
        webhook.Property(w => w.Currency).HasColumnType("character(3)");
    }
}
