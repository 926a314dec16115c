namespace Sagas.Messaging.Migrations;

/// <summary>The schema this library owns (inbox, outboxes, scheduler store), as a migration source.</summary>
public static class MessagingMigrations
{
    public static IMigrationSource Source { get; } = new EmbeddedSqlMigrations(typeof(MessagingMigrations).Assembly, "messaging");
}
