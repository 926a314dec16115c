using Microsoft.EntityFrameworkCore;
using Sagas.Data.Catalog;

namespace Sagas.Data;

/// <summary>
/// The EF Core model of the shared PostgreSQL database. The schema itself is created by the versioned SQL
/// in <c>Migrations/</c> (EF's design-time tooling cannot be restored here); <c>SchemaMatchesModelTests</c>
/// fails when this model and the migrated schema disagree.
/// </summary>
public sealed class FulfilmentDbContext(DbContextOptions<FulfilmentDbContext> options) : DbContext(options)
{
    public DbSet<Item> Items => Set<Item>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Item>(item =>
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
        });
    }
}
