using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Catalog;

sealed class ItemConfiguration : IEntityTypeConfiguration<Item>
{
    public void Configure(EntityTypeBuilder<Item> item)
    {
        item.ToTable("items", "inventory", t => t.HasCheckConstraint("items_held_within_on_hand", "held >= 0 AND held <= on_hand"));
        item.HasKey(i => i.Sku);
        item.Property(i => i.Price).HasColumnType("numeric(12,2)");
        item.Property(i => i.Currency).HasColumnType("character(3)");
        item.Ignore(i => i.Available);
    }
}
