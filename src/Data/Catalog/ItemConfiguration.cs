using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Sagas.Data.Catalog;

sealed class ItemConfiguration : IEntityTypeConfiguration<Item>
{
    public void Configure(EntityTypeBuilder<Item> item)
    {
        item.ToTable("items", "inventory", t => t.HasCheckConstraint("items_held_within_on_hand", "held >= 0 AND held <= on_hand"));
        item.HasKey(i => i.Sku);
        item.Property(i => i.Sku).HasColumnName("sku");
        item.Property(i => i.Name).HasColumnName("name");
        item.Property(i => i.Category).HasColumnName("category");
        item.Property(i => i.Price).HasColumnName("price").HasColumnType("numeric(12,2)");
        item.Property(i => i.Currency).HasColumnName("currency").HasColumnType("character(3)");
        item.Property(i => i.OnHand).HasColumnName("on_hand");
        item.Property(i => i.Held).HasColumnName("held");
        item.Property(i => i.UpdatedAt).HasColumnName("updated_at");
        item.Ignore(i => i.Available);
    }
}
