using Microsoft.EntityFrameworkCore;

namespace Sagas.Messaging.Failed;

static class FailedMessageModel
{
    /// <summary>Maps the failed-message tables of migration 0006 (part of <see cref="MessagingModelBuilderExtensions.AddMessagingEntities"/>).</summary>
    public static void Map(ModelBuilder modelBuilder, string schema)
    {
        modelBuilder.Entity<FailedMessage>(failed =>
        {
            failed.ToTable("failed_message", schema);
            failed.HasKey(x => x.Id);
            failed.Property(x => x.Id).UseIdentityAlwaysColumn();
            failed.HasAlternateKey(x => x.MessageId).HasName("failed_message_message_key");
            failed.Property(x => x.GroupKey)
                .HasComputedColumnSql("md5(exception_type || chr(10) || message_type)", stored: true);
            // Named as the outbox names its headers column (the convention would say headers_json).
            failed.Property(x => x.HeadersJson).HasColumnName("headers").HasColumnType("jsonb");
        });

        modelBuilder.Entity<FailedMessageAction>(action =>
        {
            action.ToTable("failed_message_action", schema);
            action.HasKey(x => x.Id);
            action.Property(x => x.Id).UseIdentityAlwaysColumn();
            action.HasOne<FailedMessage>().WithMany().HasForeignKey(x => x.FailedMessageId).OnDelete(DeleteBehavior.Cascade);
            action.Property(x => x.At).HasDefaultValueSql("now()");
        });
    }
}
