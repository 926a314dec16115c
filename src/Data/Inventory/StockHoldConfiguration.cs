using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Inventory;

sealed class StockHoldConfiguration : IEntityTypeConfiguration<StockHold>
{
    public void Configure(EntityTypeBuilder<StockHold> hold)
    {
        hold.ToTable("stock_holds", "inventory");
        hold.HasKey(h => new { h.OrderId, h.Sku });
        hold.Property(h => h.Status).HasConversion<string>();
    }
}
