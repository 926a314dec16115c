using System.Text.Json.Serialization;
using MassTransit;
using Sagas.Api.Catalog;
using Sagas.Api.Hosting;
using Sagas.Api.Orders;
using Sagas.Api.Orders.Admission;
using Sagas.Api.Orders.Events;
using Sagas.Api.Support;
using Sagas.Api.Webhooks;
using Sagas.Data;
using Sagas.Messaging;
using Sagas.Messaging.Migrations;
using Sagas.Observability;
using Sagas.ServiceDefaults;
using Sagas.ServiceDefaults.Health;
using Sagas.ServiceDefaults.RabbitMq;

var builder = WebApplication.CreateBuilder(args);
if (MigrateCommand.IsRequested(args))
    return await MigrateCommand.RunAsync(builder.Configuration);
builder.AddServiceDefaults("sagas-api");

// http-contract.md: bodies over 64 KiB → 413.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 64 * 1024);

builder.Services.AddFulfilmentDatabase(builder.Configuration);
// ConnectionStrings:PostgresReadOnly: support's reads and status reads on the standby (the primary when unset).
builder.Services.AddReadOnlyDatabase(builder.Configuration);
// Registered before MassTransit so the schema is current before anything is published.
builder.Services.MigrateOnStartup();

builder.Services.ConfigureHttpJsonOptions(json =>
{
    // "5" is not a number: wrong types are a 400, not silently converted.
    json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
    json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
});
// Every error is problem+json with a human-readable detail (http-contract.md, "Conventions").
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
    context.ProblemDetails.Detail ??= context.ProblemDetails.Title);
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.AddApiKeyAuthentication();
builder.Services.AddTrustedProxies(builder.Configuration);
builder.Services.AddPerClientRateLimiting(builder.Configuration);
builder.Services.AddApiDescription();
builder.Services.AddScoped<OrderReader>();
builder.Services.AddScoped<SupportQueries>();
// GET /orders/{id}/events: one LISTEN connection per process tells open streams that their order changed.
builder.Services.AddOptions<OrderEventsOptions>().Bind(builder.Configuration.GetSection(OrderEventsOptions.Section)).ValidateProblems(o => o.Problems());
builder.Services.AddSingleton<OrderChangeFeed>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<OrderChangeFeed>());
builder.Services.AddSingleton<ApiMetrics>();
// After MigrateOnStartup: its first reading finds the schema current.
builder.Services.AddOrderAdmission(builder.Configuration);
builder.Services.AddSupportOptions(builder.Configuration);
builder.Services.AddWebhookOptions(builder.Configuration);

builder.Services.AddReadinessChecks();

var rabbit = RabbitMqOptions.From(builder.Configuration);
builder.Services.AddMassTransit(bus =>
{
    // MassTransit 8.5 reports usage to its authors unless told not to.
    bus.DisableUsageTelemetry();
    // Publishes made while handling a request become outbox rows in the request's transaction; a hosted
    // service delivers them after commit (woken at once, LISTEN/NOTIFY across instances).
    // Messaging:BusOutbox:* (MaxAttempts, RetryDelay, …) tunes delivery and parking; the defaults suit production.
    bus.AddPostgresOutbox<FulfilmentDbContext>(outbox => builder.Configuration.GetSection("Messaging:BusOutbox").Bind(outbox.BusOutbox));
    bus.UsingRabbitMq((context, cfg) =>
    {
        rabbit.Apply(cfg);
        // What the Api publishes must have a queue before the first order is accepted, Workers running or not.
        cfg.DeclareOrderSagaQueue(rabbit);
        cfg.ConfigureEndpoints(context);
    });
});

var app = builder.Build();
// First: no key, rate limit or error page applies to a scrape.
app.UseSagasMetrics();
app.UseTrustedProxies();
app.UseExceptionHandler();
app.UseStatusCodePages();
// Authentication first: the rate limiter counts a valid key's client, and anonymous callers by address.
app.UseAuthentication();
app.UseRateLimiter();
// The support console's page and files are public (its data calls need a key): served before authorization.
app.UseSupportConsoleFiles();
app.UseApiDocsPage();
app.UseAuthorization();

app.WarnAboutApiKeys();

app.MapHealthEndpoints();
app.MapApiDocs();
app.MapCatalog();
app.MapOrders();
app.MapSupport();
app.MapFailedMessages();
app.MapReconciliation();
app.MapSupportConsole();
app.MapWebhooks();

await app.RunAsync();
return 0;

public partial class Program;
