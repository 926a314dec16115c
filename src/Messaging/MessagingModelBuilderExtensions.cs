using Microsoft.EntityFrameworkCore;
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
    /// transaction as the application's own rows. Call it from <c>OnModelCreating</c>.
    /// </summary>
    public static ModelBuilder AddMessagingEntities(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<InboxState>(inbox =>
        {
            inbox.ToTable("inbox_state", Schema);
            inbox.HasKey(x => x.Id);
            inbox.Property(x => x.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            inbox.Property(x => x.MessageId).HasColumnName("message_id");
            inbox.Property(x => x.ConsumerId).HasColumnName("consumer_id");
            inbox.HasAlternateKey(x => new { x.MessageId, x.ConsumerId }).HasName("inbox_state_message_consumer_key");
            inbox.Property(x => x.Received).HasColumnName("received");
            inbox.Property(x => x.ReceiveCount).HasColumnName("receive_count");
            inbox.Property(x => x.Consumed).HasColumnName("consumed");
            inbox.Property(x => x.Delivered).HasColumnName("delivered");
        });

        modelBuilder.Entity<OutboxState>(outbox =>
        {
            outbox.ToTable("outbox_state", Schema);
            outbox.HasKey(x => x.OutboxId);
            outbox.Property(x => x.OutboxId).HasColumnName("outbox_id").ValueGeneratedNever();
            outbox.Property(x => x.Created).HasColumnName("created").HasDefaultValueSql("now()");
            outbox.Property(x => x.Attempts).HasColumnName("attempts");
            outbox.Property(x => x.NextAttemptAt).HasColumnName("next_attempt_at").HasDefaultValueSql("now()");
            outbox.Property(x => x.LastError).HasColumnName("last_error");
            outbox.Property(x => x.ParkedAt).HasColumnName("parked_at");
        });

        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.ToTable("outbox_message", Schema);
            message.HasKey(x => x.Id);
            message.Property(x => x.Id).HasColumnName("id").UseIdentityByDefaultColumn();
            message.Property(x => x.OutboxId).HasColumnName("outbox_id");
            // Known to EF so that an outbox's state row is inserted before its messages in one SaveChanges.
            message.HasOne<OutboxState>().WithMany().HasForeignKey(x => x.OutboxId).OnDelete(DeleteBehavior.Cascade);
            message.Property(x => x.SequenceNumber).HasColumnName("sequence_number");
            message.Property(x => x.EnqueuedAt).HasColumnName("enqueued_at").HasDefaultValueSql("now()");
            message.Property(x => x.MessageId).HasColumnName("message_id");
            message.Property(x => x.ConversationId).HasColumnName("conversation_id");
            message.Property(x => x.CorrelationId).HasColumnName("correlation_id");
            message.Property(x => x.InitiatorId).HasColumnName("initiator_id");
            message.Property(x => x.RequestId).HasColumnName("request_id");
            message.Property(x => x.SourceAddress).HasColumnName("source_address");
            message.Property(x => x.DestinationAddress).HasColumnName("destination_address");
            message.Property(x => x.ResponseAddress).HasColumnName("response_address");
            message.Property(x => x.FaultAddress).HasColumnName("fault_address");
            message.Property(x => x.SentTime).HasColumnName("sent_time");
            message.Property(x => x.ExpirationTime).HasColumnName("expiration_time");
            message.Property(x => x.ContentType).HasColumnName("content_type");
            message.Property(x => x.MessageType).HasColumnName("message_type");
            message.Property(x => x.Body).HasColumnName("body");
            message.Property(x => x.HeadersJson).HasColumnName("headers");
            message.Property(x => x.PropertiesJson).HasColumnName("properties");
        });

        FailedMessageModel.Map(modelBuilder, Schema);
        return modelBuilder;
    }
}
