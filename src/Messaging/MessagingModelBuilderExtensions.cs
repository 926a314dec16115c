using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Sagas.Messaging.Failed;
using Sagas.Messaging.Inbox;
using Sagas.Messaging.Outbox;

namespace Sagas.Messaging;

public static class MessagingModelBuilderExtensions
{
    const string Schema = "messaging";

    /// <summary>
    /// Maps the inbox and outbox tables (created by <see cref="Migrations.MessagingMigrations"/>) into the
    /// application's DbContext, so that outgoing messages are saved by the same <c>SaveChanges</c> and the same
    /// transaction as the application's own rows. Call it from <c>OnModelCreating</c> of a DbContext configured with
    /// <c>UseSnakeCaseNamingConvention()</c>: the columns are named by that convention (checked here).
    /// </summary>
    public static ModelBuilder AddMessagingEntities(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<InboxState>(inbox =>
        {
            inbox.ToTable("inbox_state", Schema);
            inbox.HasKey(x => x.Id);
            inbox.Property(x => x.Id).UseIdentityAlwaysColumn();
            inbox.HasAlternateKey(x => new { x.MessageId, x.ConsumerId }).HasName("inbox_state_message_consumer_key");
            RequireSnakeCaseNames(inbox);
        });

        modelBuilder.Entity<OutboxState>(outbox =>
        {
            outbox.ToTable("outbox_state", Schema);
            outbox.HasKey(x => x.OutboxId);
            outbox.Property(x => x.OutboxId).ValueGeneratedNever();
            outbox.Property(x => x.Created).HasDefaultValueSql("now()");
            outbox.Property(x => x.NextAttemptAt).HasDefaultValueSql("now()");
        });

        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.ToTable("outbox_message", Schema);
            message.HasKey(x => x.Id);
            message.Property(x => x.Id).UseIdentityByDefaultColumn();
            // Known to EF so that an outbox's state row is inserted before its messages in one SaveChanges.
            message.HasOne<OutboxState>().WithMany().HasForeignKey(x => x.OutboxId).OnDelete(DeleteBehavior.Cascade);
            message.Property(x => x.EnqueuedAt).HasDefaultValueSql("now()");
            // Not the convention's headers_json/properties_json: the columns hold the JSON under the plain names.
            message.Property(x => x.HeadersJson).HasColumnName("headers");
            message.Property(x => x.PropertiesJson).HasColumnName("properties");
        });

        FailedMessageModel.Map(modelBuilder, Schema);
        return modelBuilder;
    }

    /// <summary>
    /// The naming convention renames a column as its property is added, so without it <c>MessageId</c> would stay
    /// <c>"MessageId"</c> here and the first consume would fail on a column that does not exist. Say so at model building.
    /// </summary>
    static void RequireSnakeCaseNames(EntityTypeBuilder<InboxState> inbox)
    {
        if (inbox.Metadata.FindProperty(nameof(InboxState.MessageId))?.GetColumnName() != "message_id")
            throw new InvalidOperationException(
                "The DbContext that maps the messaging tables must use the snake_case naming convention: " +
                "call UseSnakeCaseNamingConvention() on its options (EFCore.NamingConventions).");
    }
}
