using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Sagas.Observability;
using Sagas.PaymentSandbox;
using Sagas.PaymentSandbox.Demo;
using Sagas.PaymentSandbox.Health;
using Sagas.PaymentSandbox.Http;
using Sagas.PaymentSandbox.Payments;
using Sagas.PaymentSandbox.Simulation;
using Sagas.PaymentSandbox.Storage;
using Sagas.PaymentSandbox.Webhooks;

var builder = WebApplication.CreateBuilder(args);

// A stand-in provider that takes any payment must not end up running as if it were a real one by accident:
// outside Development it starts only when asked to explicitly.
if (!builder.Environment.IsDevelopment() && !SandboxGuard.IsEnabled(builder.Configuration))
{
    Console.Error.WriteLine(SandboxGuard.RefusalMessage(builder.Environment.EnvironmentName,
        builder.Configuration[SandboxGuard.EnabledKey]));
    return 1;
}

// A simulation key that is set must be long enough to be one (outside Development it guards /sandbox, see SimulationAccess).
if (SimulationAccess.Problem(builder.Configuration) is { } keyProblem)
{
    Console.Error.WriteLine($"Sagas.PaymentSandbox refuses to start: {keyProblem}.");
    return 1;
}

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 64 * 1024);
builder.AddSagasLogging();
builder.AddSagasMetrics("sagas-payment-sandbox");
builder.AddSagasTracing("sagas-payment-sandbox");
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemResponses.Customize);
builder.Services.ConfigureHttpJsonOptions(options =>
{
    // Web defaults read "12.5" as a number; the contract says wrong types are a 400.
    options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
});

// Binding failures answer 400 in every environment (Development would otherwise throw them).
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);

builder.Services.TryAddSingleton(TimeProvider.System);
builder.Services.AddLedgerStorage(builder.Configuration);
builder.Services.AddSingleton<SimulationSettingsStore>();
builder.Services.AddWebhookDelivery();
builder.Services.AddSingleton<PaymentLedger>();
builder.Services.AddSingleton<SimulationAccess>();
builder.Services.AddDemoCheckout();

var app = builder.Build();
// First: the simulated provider faults and the readiness gate never touch a scrape.
app.UseSagasMetrics();

// Fail at start-up, not at the first payment, when the configuration is incomplete.
app.Services.GetRequiredService<NpgsqlDataSource>();
app.Services.GetRequiredService<WebhookSignature>();

app.UseExceptionHandler(new ExceptionHandlerOptions
{
    // A request Kestrel or the framework rejected (body too large, unreadable) is the client's error.
    StatusCodeSelector = exception => exception is BadHttpRequestException badRequest
        ? badRequest.StatusCode
        : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseSimulationAccess();
app.UseProviderFaults();
app.UseLedgerReadinessGate();

app.MapHealthApi();
app.MapProviderApi();
app.MapSimulationApi();
app.MapQrCodeImage();
app.MapDemoCheckout();

app.Run();
return 0;

/// <summary>Entry point, public so that tests can host the sandbox with WebApplicationFactory.</summary>
public partial class Program;
