using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Ordering;

sealed class OrderTimelineEntryConfiguration : IEntityTypeConfiguration<OrderTimelineEntry>
{
    public void Configure(EntityTypeBuilder<OrderTimelineEntry> entry)
    {
        entry.ToTable("order_timeline", "ordering");
        entry.HasKey(e => e.Id);
        entry.Property(e => e.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        entry.Property(e => e.OrderId).HasColumnName("order_id");
        entry.Property(e => e.At).HasColumnName("at");
        entry.Property(e => e.Event).HasColumnName("event");
        entry.Property(e => e.FromState).HasColumnName("from_state");
        entry.Property(e => e.ToState).HasColumnName("to_state");
        entry.Property(e => e.Detail).HasColumnName("detail");
        entry.HasIndex(e => new { e.OrderId, e.Id }).HasDatabaseName("order_timeline_by_order");
    }
}
