using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Ordering;

sealed class OrderTimelineEntryConfiguration : IEntityTypeConfiguration<OrderTimelineEntry>
{
    public void Configure(EntityTypeBuilder<OrderTimelineEntry> entry)
    {
        entry.ToTable("order_timeline", "ordering");
        entry.HasKey(e => e.Id);
        entry.Property(e => e.Id).UseIdentityByDefaultColumn();
        entry.HasIndex(e => new { e.OrderId, e.Id }).HasDatabaseName("order_timeline_by_order");
    }
}
