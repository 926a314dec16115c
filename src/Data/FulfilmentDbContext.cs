using Microsoft.EntityFrameworkCore;
using Sagas.Data.Catalog;
using Sagas.Messaging;

namespace Sagas.Data;

/// <summary>
/// The EF Core model of the shared PostgreSQL database. The schema itself is created by the versioned SQL
/// in <c>Migrations/</c> (why not EF migrations: docs/decisions.md); <c>SchemaMatchesModelTests</c>
/// fails when this model and the migrated schema disagree. Each area maps its tables in an
/// <see cref="IEntityTypeConfiguration{TEntity}"/> next to its entities.
/// </summary>
public sealed class FulfilmentDbContext(DbContextOptions<FulfilmentDbContext> options) : DbContext(options)
{
    public DbSet<Item> Items => Set<Item>();

    // Column and key names come from the C# names in snake_case (the migrations' spelling), so the configurations name
    // only what breaks that rule. Here rather than in AddFulfilmentDatabase: every context built, tests' too, maps alike.
    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) => optionsBuilder.UseSnakeCaseNamingConvention();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FulfilmentDbContext).Assembly);
        // Inbox and outbox rows are saved by the same SaveChanges, in the same transaction, as the domain's.
        modelBuilder.AddMessagingEntities();
    }
}
