using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sagas.ServiceDefaults.Health;

/// <summary>
/// <c>/health/live</c> answers as long as the process serves requests; <c>/health/ready</c> runs every check
/// tagged <c>ready</c> (database, broker, migrations) and says which one is failing: its name and status, nothing more.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Public on purpose: orchestrators and load balancers probe without a key.
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write })
            .AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = Write,
        }).AllowAnonymous();
        return endpoints;
    }

    /// <summary>
    /// Statuses and check names only: this endpoint has no key, and a check's description, data and exception can carry
    /// infrastructure details (MassTransit's bus check: <c>start faulted: &lt;exception message&gt;</c>, endpoint
    /// addresses, and a RabbitMQ connection exception that names user@host:port/vhost). The details are in the log: the
    /// health check service logs a check that is not healthy with its description and exception (Unhealthy as an error).
    /// </summary>
    static Task Write(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString() }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
