using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Inventory;

sealed class StockHoldConfiguration : IEntityTypeConfiguration<StockHold>
{
    public void Configure(EntityTypeBuilder<StockHold> hold)
    {
        hold.ToTable("stock_holds", "inventory");
        hold.HasKey(h => new { h.OrderId, h.Sku });
        hold.Property(h => h.OrderId).HasColumnName("order_id");
        hold.Property(h => h.Sku).HasColumnName("sku");
        hold.Property(h => h.Quantity).HasColumnName("quantity");
        hold.Property(h => h.Status).HasColumnName("status").HasConversion<string>();
        hold.Property(h => h.ExpiresAt).HasColumnName("expires_at");
        hold.Property(h => h.CreatedAt).HasColumnName("created_at");
        hold.Property(h => h.UpdatedAt).HasColumnName("updated_at");
        hold.Property(h => h.OverdueReportedAt).HasColumnName("overdue_reported_at");
    }
}
