using MassTransit;
using Sagas.Data;
using Sagas.Messaging.Hosting;
using Sagas.Messaging.Migrations;

var builder = WebApplication.CreateBuilder(args);
if (MigrateCommand.IsRequested(args))
    return await MigrateCommand.RunAsync(builder.Configuration);

builder.Services.AddFulfilmentDatabase(builder.Configuration);
// Registered before MassTransit so the schema is current before anything is published.
builder.Services.MigrateOnStartup();
// Every error is problem+json with a human-readable detail (http-contract.md, "Conventions").
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
    context.ProblemDetails.Detail ??= context.ProblemDetails.Title);
builder.Services.AddHealthChecks()
    .AddCheck<PostgresHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag])
    .AddMigrationsCheck();

var rabbit = builder.Configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
builder.Services.AddMassTransit(bus =>
{
    bus.UsingRabbitMq((context, cfg) =>
    {
        rabbit.Apply(cfg);
        cfg.ConfigureEndpoints(context);
    });
});

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealthEndpoints();
await app.RunAsync();
return 0;

public partial class Program;
