using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;
using Npgsql;
using Sagas.Api.Hosting;
using Sagas.Data;
using Sagas.Messaging.Failed;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Support;

/// <summary>
/// Messages that exhausted their retries (http-contract.md, "Additions, 2026-11-26", Support): listed and grouped from
/// <c>messaging.failed_message</c> (filled by the Workers' error-queue drain), sent back to their queue once, or
/// discarded with a reason. Every action is recorded with the caller's client name and, for an order's message, in
/// the order's timeline — in the transaction that changes the message's state.
/// </summary>
public static class FailedMessageEndpoints
{
    public sealed record FailedMessageView(string Id, string Queue, string MessageType, Guid? OrderId, string ExceptionType,
        string Reason, DateTimeOffset FirstFailedAt, DateTimeOffset LastFailedAt, int Attempts, string State, Guid? OutboxId);
    public sealed record FailedMessagePage(IReadOnlyList<FailedMessageView> Items, string? NextCursor);
    public sealed record FailedMessageGroup(string Group, string ExceptionType, string MessageType, long Count, DateTimeOffset Oldest);
    public sealed record DiscardRequest(string? Reason);

    public static IEndpointRouteBuilder MapFailedMessages(this IEndpointRouteBuilder endpoints)
    {
        var failed = endpoints.MapGroup("/support/failed-messages").WithTags("Support").RequireAuthorization(Roles.Support);
        failed.MapGet("/", List).WithName("ListFailedMessages").WithSummary("Messages that exhausted their retries, oldest first")
            .WithQuery(new DocumentedParameter("group", ParameterLocation.Query, "Only this group (from /support/failed-messages/groups).", MaxLength: 64))
            .WithPaging().Produces<FailedMessagePage>().ProducesValidationProblem();
        failed.MapGet("/groups", Groups).WithName("ListFailedMessageGroups").WithSummary("Failed messages by exception and message type")
            .Produces<IReadOnlyList<FailedMessageGroup>>();
        failed.MapPost("/{id:long}/retry", Retry).WithName("RetryFailedMessage").WithSummary("Send a failed message back to its queue, once")
            .Produces<FailedMessageView>(202).ProducesProblem(404).ProducesProblem(409);
        failed.MapPost("/{id:long}/discard", Discard).WithName("DiscardFailedMessage").WithSummary("Discard a failed message, with a reason")
            .Produces<FailedMessageView>().ProducesValidationProblem().ProducesProblem(404).ProducesProblem(409);
        return endpoints;
    }

    static async Task<IResult> List(HttpRequest http, ReadOnlyDatabase readOnly, CancellationToken cancellationToken)
    {
        var db = readOnly.DataSource;
        var query = http.Query;
        var validation = new Validation();
        var group = query["group"].ToString();
        if (group.Length > 0 && (group.Length != 32 || !group.All(char.IsAsciiHexDigitLower)))
            validation.Add("group", "is not a group /support/failed-messages/groups returned");
        var (limit, cursor) = KeysetCursor.PageOf(query, Cursor.Decode, validation);
        if (!validation.IsValid)
            return validation.Problem();

        await using var command = db.CreateCommand($"""
            SELECT {Columns} FROM messaging.failed_message
             WHERE state = 'failed' AND ($1 = '' OR group_key = $1)
               AND ($2::timestamptz IS NULL OR (first_failed_at, id) > ($2, $3))
             ORDER BY first_failed_at, id
             LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = group });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)cursor?.At ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = cursor?.Id ?? 0L });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        var items = new List<FailedMessageView>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                items.Add(Read(reader));

        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = Cursor.Encode(items[^1].FirstFailedAt, long.Parse(items[^1].Id, CultureInfo.InvariantCulture));
        }

        return Results.Ok(new FailedMessagePage(items, next));
    }

    static async Task<IResult> Groups(ReadOnlyDatabase readOnly, CancellationToken cancellationToken)
    {
        await using var command = readOnly.DataSource.CreateCommand("""
            SELECT group_key, exception_type, message_type, count(*), min(first_failed_at)
              FROM messaging.failed_message WHERE state = 'failed'
             GROUP BY group_key, exception_type, message_type
             ORDER BY min(first_failed_at), group_key
            """);
        var groups = new List<FailedMessageGroup>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            groups.Add(new FailedMessageGroup(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4)));
        return Results.Ok(groups);
    }

    /// <summary>
    /// Sends the message back once: the row is locked, and only a message still <c>failed</c> gets an outbox row (or, for
    /// a parked outbox, is released), in the transaction that marks it <c>retried</c>. Asked again (or concurrently,
    /// waiting on the lock) it answers 202 and sends nothing; a discarded message is never sent (409).
    /// </summary>
    static async Task<IResult> Retry(long id, ClaimsPrincipal user, FulfilmentDbContext db, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await Locked(db, id, cancellationToken) is not { } failed)
            return NotFound(id);
        switch (failed.State)
        {
            case FailedMessage.Retried:
                return Results.Accepted($"/support/failed-messages/{id}", View(failed));
            case FailedMessage.Discarded:
                return Conflict($"Failed message {id} was discarded by {failed.StateChangedBy}: it is never sent again.");
        }

        if (failed.OutboxId is { } outboxId)
        {
            if (!await ParkedOutboxes.ReleaseAsync(db, outboxId, cancellationToken))
                return Conflict($"Failed message {id}'s outbox {outboxId} is parked no longer (deleted by hand): discard it.");
        }
        else if (!FailedMessageResend.TryAdd(db, failed))
            return Conflict($"Failed message {id}'s body is not text the outbox can send (a poison message): discard it.");
        var client = user.ClientId();
        await Record(db, clock, failed, FailedMessage.Retried, client, reason: null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Results.Accepted($"/support/failed-messages/{id}", View(failed));
    }

    static async Task<IResult> Discard(long id, DiscardRequest? request, ClaimsPrincipal user, FulfilmentDbContext db,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var reason = request?.Reason?.Trim();
        var validation = new Validation();
        if (string.IsNullOrEmpty(reason))
            validation.Add("reason", "is required: say why this message is never to be sent");
        else
            validation.Text(reason, "reason", 1, 500);
        if (!validation.IsValid)
            return validation.Problem();

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await Locked(db, id, cancellationToken) is not { } failed)
            return NotFound(id);
        switch (failed.State)
        {
            case FailedMessage.Discarded:
                return Results.Ok(View(failed));
            case FailedMessage.Retried:
                return Conflict($"Failed message {id} was sent back to {failed.Queue} by {failed.StateChangedBy}; there is nothing to discard.");
        }

        // A parked outbox's messages are deleted with it (none is left to send); any other message is only marked.
        if (failed.OutboxId is { } outboxId)
            await ParkedOutboxes.DeleteAsync(db, outboxId, cancellationToken);
        await Record(db, clock, failed, FailedMessage.Discarded, user.ClientId(), reason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Results.Ok(View(failed));
    }

    static async Task<FailedMessage?> Locked(FulfilmentDbContext db, long id, CancellationToken cancellationToken) =>
        (await db.Set<FailedMessage>().FromSql($"SELECT * FROM messaging.failed_message WHERE id = {id} FOR UPDATE")
            .ToListAsync(cancellationToken)).SingleOrDefault();

    /// <summary>The new state, who and why, and the order's timeline entry: saved in the caller's transaction.</summary>
    static async Task Record(FulfilmentDbContext db, TimeProvider clock, FailedMessage failed, string action, string client, string? reason,
        CancellationToken cancellationToken)
    {
        failed.State = action;
        failed.StateChangedAt = clock.GetUtcNow().UtcDateTime;
        failed.StateChangedBy = client;
        failed.DiscardReason = reason;
        db.Add(new FailedMessageAction { FailedMessageId = failed.Id, Action = action, Client = client, Reason = reason });
        await db.SaveChangesAsync(cancellationToken);
        if (failed.CorrelationId is not { } orderId)
            return;

        var what = (action, failed.OutboxId) switch
        {
            (FailedMessage.Retried, null) => "sent back to",
            (FailedMessage.Retried, _) => "released for delivery to",
            (_, null) => "discarded from",
            _ => "discarded with its outbox, never sent to",
        };
        var detail = $"failed message {failed.Id} ({Short(failed.MessageType)}, {failed.ExceptionType}: {failed.Reason}) {what} {failed.Queue} by {client}"
                     + (reason is null ? "" : $": {reason}");
        var name = action == FailedMessage.Retried ? "FailedMessageRetried" : "FailedMessageDiscarded";
        // The order's state does not change: the entry sits in it (an order the saga never created has no timeline).
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO ordering.order_timeline (order_id, at, event, from_state, to_state, detail)
            SELECT order_id, now(), {name}, current_state, current_state, {detail}
              FROM ordering.order_state WHERE order_id = {orderId}
            """, cancellationToken);
    }

    static string Short(string messageType) => messageType[(messageType.LastIndexOf(':') + 1)..];

    const string Columns = "id, queue, message_type, correlation_id, exception_type, reason, first_failed_at, last_failed_at, attempts, state, outbox_id";

    static FailedMessageView Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0).ToString(CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.GetString(4), reader.GetString(5),
        reader.GetFieldValue<DateTimeOffset>(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetInt32(8), reader.GetString(9),
        reader.IsDBNull(10) ? null : reader.GetGuid(10));

    static FailedMessageView View(FailedMessage f) => new(f.Id.ToString(CultureInfo.InvariantCulture), f.Queue, f.MessageType,
        f.CorrelationId, f.ExceptionType, f.Reason, new DateTimeOffset(f.FirstFailedAt, TimeSpan.Zero),
        new DateTimeOffset(f.LastFailedAt, TimeSpan.Zero), f.Attempts, f.State, f.OutboxId);

    static IResult NotFound(long id) => Problems.NotFound($"No failed message {id}.");

    static IResult Conflict(string detail) => Problems.Conflict(detail);

    /// <summary>Keyset pagination on (first failed at, id).</summary>
    static class Cursor
    {
        public static string Encode(DateTimeOffset at, long id) => KeysetCursor.Encode(at, id.ToString(CultureInfo.InvariantCulture));

        public static (DateTimeOffset At, long Id)? Decode(string value) =>
            KeysetCursor.Decode(value) is { } cursor && long.TryParse(cursor.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? (cursor.At, id)
                : null;
    }
}
