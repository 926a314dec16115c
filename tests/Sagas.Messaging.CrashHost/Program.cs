// A process for the crash-recovery spec, started with `dotnet Sagas.Messaging.CrashHost.dll` and killed with SIGKILL,
// by the spec or by itself at a precise point. It runs as Api and Workers do: the bus outbox with its delivery service,
// and a consumer behind the inbox (CrashHostMessageConsumer) whose effect is one row in test.ledger, "<run>/<index>".
//
//   SAGAS_CRASH_MODE=publish  commit SAGAS_CRASH_COUNT messages of run SAGAS_CRASH_RUN through the bus outbox (five per
//                             outbox, all in one transaction), print "COMMITTED <n>", keep running
//   SAGAS_CRASH_MODE=run      print "READY", keep running (delivering what the outbox holds, consuming)
//
//   SAGAS_CRASH_HANDOFF=1     the bus outbox is handed off at its commit (BusOutboxOptions.HandOff), as in the services;
//                             otherwise the delivery loops send it
//
//   SAGAS_CRASH_KILL_AT       optional: the process prints "KILLING <point>" and sends itself SIGKILL
//     before-send:<n>         when the delivery service is about to hand its n-th message to the broker
//     after-send:<n>          when the broker has confirmed the n-th send, before the delivery service deletes its row
//     in-consume:<index>      inside the consume transaction of message <index> of SAGAS_CRASH_RUN, its effect written
//     stop-in-consume:<index> the same place, but the process prints "STOPPING <point>" and sends itself SIGSTOP: it
//                             stays frozen, transaction open, until SIGCONT
//
// Connection settings come from SAGAS_CRASH_POSTGRES and SAGAS_CRASH_RABBIT_{HOST,PORT,VHOST,USER,PASSWORD}; the
// bounds on a frozen process (PostgresSessionLimits, the AMQP heartbeat) are the services' defaults unless
// SAGAS_CRASH_IDLE_IN_TRANSACTION_TIMEOUT and SAGAS_CRASH_HEARTBEAT (TimeSpan, e.g. 00:00:03) scale them down.
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sagas.Messaging;
using Sagas.Messaging.CrashHost;
using Sagas.Messaging.Outbox;
using Sagas.Messaging.Postgres;
using Sagas.ServiceDefaults.RabbitMq;

var mode = Env("SAGAS_CRASH_MODE");
var run = Env("SAGAS_CRASH_RUN");
var killSwitch = new KillSwitch(Environment.GetEnvironmentVariable("SAGAS_CRASH_KILL_AT"), run);

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
var limits = new PostgresSessionLimits();
if (Environment.GetEnvironmentVariable("SAGAS_CRASH_IDLE_IN_TRANSACTION_TIMEOUT") is { Length: > 0 } idle)
    limits.IdleInTransactionTimeout = TimeSpan.Parse(idle);
var heartbeat = Environment.GetEnvironmentVariable("SAGAS_CRASH_HEARTBEAT") is { Length: > 0 } beat
    ? TimeSpan.Parse(beat)
    : new RabbitMqOptions().Heartbeat;
// SAGAS_CRASH_HANDOFF=1: the bus outbox is handed off at its commit (as in the services) instead of left to the loops.
var handOff = Environment.GetEnvironmentVariable("SAGAS_CRASH_HANDOFF") == "1";
builder.Services.AddDbContext<CrashHostDbContext>((provider, o) =>
{
    o.UseNpgsql(limits.Apply(Env("SAGAS_CRASH_POSTGRES")));
    if (handOff)
        o.UseOutboxHandOff(provider);
});
builder.Services.AddSingleton(killSwitch);
builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
builder.Services.AddMassTransit(x =>
{
    x.DisableUsageTelemetry();
    x.AddPostgresOutbox<CrashHostDbContext>();
    x.AddConsumer<CrashHostMessageConsumer>();
    x.UsingRabbitMq((context, cfg) =>
    {
        cfg.Host(Env("SAGAS_CRASH_RABBIT_HOST"), ushort.Parse(Env("SAGAS_CRASH_RABBIT_PORT")), Env("SAGAS_CRASH_RABBIT_VHOST"), h =>
        {
            h.Username(Env("SAGAS_CRASH_RABBIT_USER"));
            h.Password(Env("SAGAS_CRASH_RABBIT_PASSWORD"));
            h.Heartbeat(heartbeat);
        });
        // Only the delivery service sends in this process (the consumer publishes nothing).
        cfg.ConnectSendObserver(killSwitch);
        cfg.ConnectConsumeObserver(killSwitch);
        cfg.ConfigureEndpoints(context);
    });
});

using var host = builder.Build();
await host.StartAsync();

if (mode == "publish")
{
    var count = int.Parse(Env("SAGAS_CRASH_COUNT"));
    await using (var scope = host.Services.CreateAsyncScope())
    {
        // Several outboxes (as several requests would write them) committed at once: every message is committed before
        // the delivery service can send the first one.
        var dbContext = scope.ServiceProvider.GetRequiredService<CrashHostDbContext>();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        await using var transaction = await dbContext.Database.BeginTransactionAsync();
        for (var first = 0; first < count; first += 5)
        {
            for (var index = first; index < Math.Min(first + 5, count); index++)
                await publish.Publish(new CrashHostMessage(run, index));
            await dbContext.SaveChangesAsync();
        }

        await transaction.CommitAsync();
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
    using System.Diagnostics;

    public record CrashHostMessage(string Run, int Index);

    /// <summary>The effect of consuming a message: one row in the spec database's test.ledger.</summary>
    public sealed class CrashHostEffect
    {
        public long Id { get; set; }
        public string Reference { get; set; } = "";
    }

    public sealed class CrashHostDbContext(DbContextOptions<CrashHostDbContext> options) : DbContext(options)
    {
        protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) => optionsBuilder.UseSnakeCaseNamingConvention();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.AddMessagingEntities();
            modelBuilder.Entity<CrashHostEffect>(e =>
            {
                e.ToTable("ledger", "test");
                e.HasKey(x => x.Id);
            });
        }
    }

    public sealed class CrashHostMessageConsumer(CrashHostDbContext dbContext, KillSwitch killSwitch) : IConsumer<CrashHostMessage>
    {
        public async Task Consume(ConsumeContext<CrashHostMessage> context)
        {
            dbContext.Add(new CrashHostEffect { Reference = $"{context.Message.Run}/{context.Message.Index}" });
            // Written inside the inbox's transaction, which is still open.
            await dbContext.SaveChangesAsync(context.CancellationToken);
            killSwitch.Consuming(context.Message);
        }
    }

    /// <summary>Kills this process (SIGKILL: no shutdown, no flushing, no further send or commit) at the point SAGAS_CRASH_KILL_AT names.</summary>
    public sealed class KillSwitch : ISendObserver, IConsumeObserver
    {
        readonly string? _point;
        readonly int _value;
        readonly string _run;
        int _sending;
        int _stopped;
        int _sent;

        public KillSwitch(string? killAt, string run)
        {
            _run = run;
            if (string.IsNullOrEmpty(killAt))
                return;
            var parts = killAt.Split(':');
            (_point, _value) = (parts[0], int.Parse(parts[1]));
            if (_point is not ("before-send" or "after-send" or "in-consume" or "stop-in-consume"))
                throw new ArgumentException($"Unknown kill point {killAt}");
        }

        public void Consuming(CrashHostMessage message)
        {
            if (message.Run != _run || message.Index != _value)
                return;
            if (_point == "in-consume")
                Kill();
            else if (_point == "stop-in-consume" && Interlocked.Exchange(ref _stopped, 1) == 0)
                Stop();
        }

        public Task PreSend<T>(SendContext<T> context)
            where T : class
        {
            if (_point == "before-send" && Interlocked.Increment(ref _sending) == _value)
                Kill();
            return Task.CompletedTask;
        }

        // Called once the broker has confirmed the message (publisher confirms).
        public Task PostSend<T>(SendContext<T> context)
            where T : class
        {
            if (_point == "after-send" && Interlocked.Increment(ref _sent) == _value)
                Kill();
            return Task.CompletedTask;
        }

        public Task SendFault<T>(SendContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;

        public Task PreConsume<T>(ConsumeContext<T> context)
            where T : class => Task.CompletedTask;

        // How the attempt that was frozen ended once resumed, printed so a spec can wait for it: "ATTEMPT-ENDED ok" (the
        // whole consume pipe, inbox commit included, completed) or "ATTEMPT-ENDED fault <exception> <SQLSTATE>".
        public Task PostConsume<T>(ConsumeContext<T> context)
            where T : class
        {
            if (IsTheFrozenAttempt(context))
                Console.WriteLine("ATTEMPT-ENDED ok");
            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
            where T : class
        {
            if (IsTheFrozenAttempt(context))
            {
                var chain = new List<string>();
                for (var e = exception; e is not null; e = e.InnerException)
                    chain.Add(e is Npgsql.PostgresException postgres ? $"{e.GetType().Name}({postgres.SqlState})" : e.GetType().Name);
                Console.WriteLine($"ATTEMPT-ENDED fault {string.Join(" <- ", chain)}");
            }

            return Task.CompletedTask;
        }

        bool IsTheFrozenAttempt<T>(ConsumeContext<T> context)
            where T : class =>
            _point == "stop-in-consume" && Volatile.Read(ref _stopped) == 1 && context.Message is CrashHostMessage message
            && message.Run == _run && message.Index == _value;

        // Frozen where it stands, as SIGSTOP or a paused VM would leave it: its sockets stay open, its kernel still answers
        // TCP, but nothing of the process runs until SIGCONT.
        void Stop()
        {
            Console.WriteLine($"STOPPING {_point}:{_value}");
            Console.Out.Flush();
            _ = SendSignal(Environment.ProcessId, SignalStop);
        }

        const int SignalStop = 19;

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        static extern int SendSignal(int pid, int signal);

        void Kill()
        {
            Console.WriteLine($"KILLING {_point}:{_value}");
            Console.Out.Flush();
            Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
