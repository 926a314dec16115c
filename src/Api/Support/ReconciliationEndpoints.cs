using System.Globalization;
using System.Text.Json;
using MassTransit;
using Microsoft.OpenApi;
using Npgsql;
using Sagas.Api.Hosting;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Support;

/// <summary>
/// Reconciliation with the payment provider (http-contract.md, "Additions, 2026-11-26"). The Api never talks to the
/// provider: <c>GET /reconciliation</c> asks the Workers for a fresh report over the range (request/response on the bus),
/// which they compute, store and answer with its id; the Api then reads the stored report. <c>GET /reconciliation/latest</c>
/// is the last report of the schedule, what the console shows and <c>GET /support/stats</c> counts.
/// </summary>
public static class ReconciliationEndpoints
{
    /// <summary>How long the Api waits for the Workers' report (a week's listing is many provider pages).</summary>
    static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(60);

    public sealed record ReconciliationMismatch(string OrderId, string Kind, string Detail);

    public sealed record Report(long Id, DateTimeOffset From, DateTimeOffset To, DateTimeOffset CheckedAt, bool Scheduled, string? RequestedBy,
        int Payments, int Captured, int Refunded, IReadOnlyList<ReconciliationMismatch> Mismatches);

    public static IEndpointRouteBuilder MapReconciliation(this IEndpointRouteBuilder endpoints)
    {
        var reconciliation = endpoints.MapGroup("/reconciliation").WithTags("Support").RequireAuthorization(Roles.Support);
        reconciliation.MapGet("/", Run).WithName("Reconcile")
            .WithSummary("Compare our orders with the provider's listing of payments changed in [from, to), and list every mismatch")
            .WithQuery(new DocumentedParameter("from", ParameterLocation.Query, "Start of the range (ISO 8601, UTC), inclusive.", Required: true, Format: "date-time"))
            .WithQuery(new DocumentedParameter("to", ParameterLocation.Query,
                $"End of the range (ISO 8601, UTC), exclusive; at most {RunReconciliation.MaxRange.TotalDays} days after from.", Required: true, Format: "date-time"))
            .Produces<Report>().ProducesValidationProblem().ProducesProblem(503);
        reconciliation.MapGet("/latest", Latest).WithName("GetLatestReconciliation")
            .WithSummary("The latest scheduled reconciliation report").Produces<Report>().ProducesProblem(404);
        return endpoints;
    }

    static async Task<IResult> Run(HttpRequest http, System.Security.Claims.ClaimsPrincipal user, IBus bus, NpgsqlDataSource db,
        CancellationToken cancellationToken)
    {
        var validation = new Validation();
        var from = Instant(http.Query["from"], "from", validation);
        var to = Instant(http.Query["to"], "to", validation);
        if (from is { } f && to is { } t)
        {
            if (t <= f)
                validation.Add("to", "must be after from");
            else if (t - f > RunReconciliation.MaxRange)
                validation.Add("to", $"must be at most {RunReconciliation.MaxRange.TotalDays} days after from");
        }

        if (!validation.IsValid)
            return validation.Problem();

        var client = bus.CreateRequestClient<RunReconciliation>(RequestTimeout.After(s: (int)ReportTimeout.TotalSeconds));
        try
        {
            var answer = await client.GetResponse<ReconciliationReported>(
                new RunReconciliation { From = from!.Value, To = to!.Value, RequestedBy = user.ClientId() }, cancellationToken);
            return await ReadAsync(db, "id = $1", answer.Message.ReportId, cancellationToken) is { } report
                ? Results.Ok(report)
                : Problems.Unavailable("The report was answered but cannot be read.");
        }
        catch (RequestTimeoutException)
        {
            return Problems.Unavailable(
                $"The Workers did not answer with a report within {ReportTimeout.TotalSeconds} s; try again or a shorter range.");
        }
        catch (RequestFaultException e)
        {
            return Problems.Unavailable(
                "The Workers could not make the report: " + string.Join("; ", e.Fault?.Exceptions.Select(x => x.Message) ?? []));
        }
    }

    // The scheduled report may be a moment old on the standby; the one Run just asked for is read on the primary.
    static async Task<IResult> Latest(ReadOnlyDatabase readOnly, CancellationToken cancellationToken) =>
        await ReadAsync(readOnly.DataSource, "scheduled ORDER BY checked_at DESC LIMIT 1", null, cancellationToken) is { } report
            ? Results.Ok(report)
            : Problems.NotFound("No scheduled reconciliation report yet.");

    static async Task<Report?> ReadAsync(NpgsqlDataSource db, string where, long? id, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT id, range_from, range_to, checked_at, scheduled, requested_by, payments, captured, refunded, mismatches::text
              FROM payments.reconciliation_reports WHERE {where}
            """);
        if (id is not null)
            command.Parameters.Add(new NpgsqlParameter { Value = id.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        var mismatches = JsonSerializer.Deserialize<List<ReconciliationMismatch>>(reader.GetString(9), JsonSerializerOptions.Web) ?? [];
        return new Report(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2),
            reader.GetFieldValue<DateTimeOffset>(3), reader.GetBoolean(4), reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8), mismatches);
    }

    static DateTimeOffset? Instant(string? value, string field, Validation validation)
    {
        if (string.IsNullOrEmpty(value))
        {
            validation.Add(field, "is required: an ISO-8601 timestamp, e.g. 2026-11-27T00:00:00Z");
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
            return instant;
        validation.Add(field, "must be an ISO-8601 timestamp, e.g. 2026-11-27T00:00:00Z");
        return null;
    }
}
