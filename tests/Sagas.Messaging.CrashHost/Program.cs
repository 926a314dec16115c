// Publishes through the bus outbox like the Api does, then waits to be killed.
//   SAGAS_CRASH_MODE=hold    delivery service off: commit SAGAS_CRASH_COUNT messages, print "COMMITTED <n>", wait
//   SAGAS_CRASH_MODE=deliver delivery service on: deliver whatever is in the outbox, print "READY", wait
// Connection settings come from SAGAS_CRASH_POSTGRES and SAGAS_CRASH_RABBIT_{HOST,PORT,VHOST,USER,PASSWORD}.
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sagas.Messaging;
using Sagas.Messaging.CrashHost;

var mode = Env("SAGAS_CRASH_MODE");
var hold = mode == "hold";

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
builder.Services.AddDbContext<CrashHostDbContext>(o => o.UseNpgsql(Env("SAGAS_CRASH_POSTGRES")));
builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
builder.Services.AddMassTransit(x =>
{
    x.AddPostgresOutbox<CrashHostDbContext>(o => o.UseBusOutbox(b => b.DeliveryServiceEnabled = !hold));
    x.UsingRabbitMq((_, cfg) => cfg.Host(Env("SAGAS_CRASH_RABBIT_HOST"), ushort.Parse(Env("SAGAS_CRASH_RABBIT_PORT")),
        Env("SAGAS_CRASH_RABBIT_VHOST"), h =>
        {
            h.Username(Env("SAGAS_CRASH_RABBIT_USER"));
            h.Password(Env("SAGAS_CRASH_RABBIT_PASSWORD"));
        }));
});

using var host = builder.Build();
await host.StartAsync();

if (hold)
{
    var count = int.Parse(Env("SAGAS_CRASH_COUNT"));
    // Five messages per request, as several requests would commit them.
    for (var first = 0; first < count; first += 5)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        for (var index = first; index < Math.Min(first + 5, count); index++)
            await publish.Publish(new CrashHostMessage(index));
        await scope.ServiceProvider.GetRequiredService<CrashHostDbContext>().SaveChangesAsync();
    }

    Console.WriteLine($"COMMITTED {count}");
}
else
{
    Console.WriteLine("READY");
}

await host.WaitForShutdownAsync();

static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set");

namespace Sagas.Messaging.CrashHost
{
    public record CrashHostMessage(int Index);

    public sealed class CrashHostDbContext(DbContextOptions<CrashHostDbContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddMessagingEntities();
    }
}
