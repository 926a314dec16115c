using MassTransit;
using Sagas.Data;
using Sagas.Messaging.Hosting;
using Sagas.Messaging.Migrations;

// Workers is a generic host for the saga and the activity consumers; it serves only health endpoints
// over HTTP so scripts and orchestrators can wait for it to be ready.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddFulfilmentDatabase(builder.Configuration);
// Registered before MassTransit so the schema is current before any endpoint starts consuming.
builder.Services.MigrateOnStartup();
builder.Services.AddHealthChecks()
    .AddCheck<PostgresHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag])
    .AddMigrationsCheck();

var rabbit = builder.Configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
builder.Services.AddMassTransit(bus =>
{
    bus.SetKebabCaseEndpointNameFormatter();
    bus.UsingRabbitMq((context, cfg) =>
    {
        rabbit.Apply(cfg);
        cfg.ConfigureEndpoints(context);
    });
});

var app = builder.Build();
app.MapHealthEndpoints();
await app.RunAsync();

public partial class Program;
