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
            failed.Property(x => x.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            failed.Property(x => x.MessageId).HasColumnName("message_id");
            failed.HasAlternateKey(x => x.MessageId).HasName("failed_message_message_key");
            failed.Property(x => x.Queue).HasColumnName("queue");
            failed.Property(x => x.MessageType).HasColumnName("message_type");
            failed.Property(x => x.CorrelationId).HasColumnName("correlation_id");
            failed.Property(x => x.ExceptionType).HasColumnName("exception_type");
            failed.Property(x => x.Reason).HasColumnName("reason");
            failed.Property(x => x.GroupKey).HasColumnName("group_key")
                .HasComputedColumnSql("md5(exception_type || chr(10) || message_type)", stored: true);
            failed.Property(x => x.FirstFailedAt).HasColumnName("first_failed_at");
            failed.Property(x => x.LastFailedAt).HasColumnName("last_failed_at");
            failed.Property(x => x.Attempts).HasColumnName("attempts");
            failed.Property(x => x.ContentType).HasColumnName("content_type");
            failed.Property(x => x.Body).HasColumnName("body");
            failed.Property(x => x.HeadersJson).HasColumnName("headers").HasColumnType("jsonb");
            failed.Property(x => x.State).HasColumnName("state");
            failed.Property(x => x.StateChangedAt).HasColumnName("state_changed_at");
            failed.Property(x => x.StateChangedBy).HasColumnName("state_changed_by");
            failed.Property(x => x.DiscardReason).HasColumnName("discard_reason");
        });

        modelBuilder.Entity<FailedMessageAction>(action =>
        {
            action.ToTable("failed_message_action", schema);
            action.HasKey(x => x.Id);
            action.Property(x => x.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            action.Property(x => x.FailedMessageId).HasColumnName("failed_message_id");
            action.HasOne<FailedMessage>().WithMany().HasForeignKey(x => x.FailedMessageId).OnDelete(DeleteBehavior.Cascade);
            action.Property(x => x.At).HasColumnName("at").HasDefaultValueSql("now()");
            action.Property(x => x.Action).HasColumnName("action");
            action.Property(x => x.Client).HasColumnName("client");
            action.Property(x => x.Reason).HasColumnName("reason");
        });
    }
}
