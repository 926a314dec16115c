using System.Collections.Concurrent;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sagas.Messaging.Scheduling;

namespace Sagas.IntegrationTests.Messaging;

public record SetTimer(string Reference, DateTime Due, Uri Destination, bool FailFirst = false);

public record ClearTimer(string Reference, Uri Destination);

public record TimerRang(string Reference);

/// <summary>Schedules and cancels timers from behind the inbox, the way a state machine's Schedule/Unschedule does.</summary>
public sealed class TimerSetterConsumer(TimerTokens tokens) : IConsumer<SetTimer>, IConsumer<ClearTimer>
{
    public async Task Consume(ConsumeContext<SetTimer> context)
    {
        var scheduled = await context.ScheduleSend(context.Message.Destination, context.Message.Due, new TimerRang(context.Message.Reference));
        tokens.Tokens[context.Message.Reference] = scheduled.TokenId;
        // The first attempt's timer must vanish with its transaction: the retry schedules the only one.
        // (A concurrency conflict is what the inbox's own retry, in front of the transaction, tries again.)
        if (context.Message.FailFirst && context.GetRetryAttempt() == 0)
            throw new DbUpdateConcurrencyException("failing the first attempt after scheduling");
    }

    public Task Consume(ConsumeContext<ClearTimer> context) =>
        context.GetPayload<MessageSchedulerContext>().CancelScheduledSend(context.Message.Destination, tokens.Tokens[context.Message.Reference]);
}

public sealed class TimerTokens
{
    public ConcurrentDictionary<string, Guid> Tokens { get; } = new();
}

/// <summary>
/// A consumer's timers kept in its own transaction (PostgresOutboxOptions.TimersInOutbox): stored as an outbox due at the
/// timer's time, sent by the delivery service when due, deleted by a cancel — never sent to the scheduler's queue, which
/// in this host has no consumer at all (a timer sent there would never fire).
/// </summary>
public sealed class Timers_in_the_consumers_transaction(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>, IAsyncLifetime
{
    static readonly Uri SetterQueue = new("queue:timer-setter");
    const string SchedulerQueue = "timers-nobody-serves";

    readonly TimerTokens _tokens = new();
    readonly ConcurrentDictionary<string, DateTime> _rangAt = new();
    IHost _host = null!;
    MessageProbe _probe = null!;

    public async Task InitializeAsync()
    {
        _probe = await MessageProbe.Start(infrastructure, (e, probe) => e.Handler<TimerRang>(async c =>
        {
            _rangAt.TryAdd(c.Message.Reference, DateTime.UtcNow);
            await probe.Record(c, c.Message.Reference);
        }));
        _host = await infrastructure.StartHost(x => x.AddConsumer<TimerSetterConsumer>(),
            configureServices: services => services.AddSingleton(_tokens),
            configureRabbitMq: cfg => cfg.UseMessageScheduler(new Uri($"queue:{SchedulerQueue}")));
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _probe.DisposeAsync();
    }

    Task Send(object message) => _host.Services.GetRequiredService<IBus>().GetSendEndpoint(SetterQueue).ContinueWith(t => t.Result.Send(message)).Unwrap();

    [Fact]
    public async Task A_timer_is_an_outbox_due_at_its_time_that_fires_once_with_its_token_and_never_reaches_the_scheduler()
    {
        var reference = $"ring-{NewId.NextGuid()}";
        // Ten seconds out: on a loaded machine the consume may commit seconds late, and the stored outbox must be seen
        // before it is due (it failed on a fresh clone with 3 s at load average 60).
        var due = DateTime.UtcNow.AddSeconds(10);
        await Send(new SetTimer(reference, due, _probe.InputAddress));

        var token = await Eventually.Until(() => Task.FromResult(_tokens.Tokens.GetValueOrDefault(reference)), t => t != Guid.Empty,
            because: "the consumer scheduled the timer");
        // (The token is known before the consume commits.)
        await Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM messaging.outbox_state WHERE outbox_id = $1 AND abs(extract(epoch FROM next_attempt_at - $2)) < 0.001", token, due),
            n => n == 1, because: "the timer is an outbox due at its time");

        var arrival = await Eventually.Until(() => Task.FromResult(_probe.Arrivals.SingleOrDefault(a => a.Message is TimerRang r && r.Reference == reference)),
            a => a is not null, TimeSpan.FromSeconds(30), because: "the timer fired");
        Assert.True(_rangAt[reference] >= due, $"rang at {_rangAt[reference]:O}, due {due:O}");
        Assert.Equal(token.ToString("D"), arrival!.Headers[MessageHeaders.SchedulingTokenId]?.ToString());
        Assert.Equal(ScheduledMessageIds.For(token, due), arrival.MessageId);

        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state WHERE outbox_id = $1", token), n => n == 0,
            because: "the sent timer's outbox is deleted");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(_probe.Received<TimerRang>(), r => r.Reference == reference);
    }

    [Fact]
    public async Task A_canceled_timer_never_fires_while_one_set_beside_it_does()
    {
        // The cancel has to land before the timers are due, or the test proves nothing: on a machine too busy for that
        // within 5 s, it tries again with the timers further out (a slow machine makes the test longer, not red).
        foreach (var lead in new[] { TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30) })
        {
            var canceled = $"cancel-{NewId.NextGuid()}";
            var control = $"control-{NewId.NextGuid()}";
            var due = DateTime.UtcNow + lead;
            await Send(new SetTimer(canceled, due, _probe.InputAddress));
            await Send(new SetTimer(control, due, _probe.InputAddress));
            var token = await Eventually.Until(() => Task.FromResult(_tokens.Tokens.GetValueOrDefault(canceled)), t => t != Guid.Empty,
                because: "the consumer scheduled the timer");

            await Send(new ClearTimer(canceled, _probe.InputAddress));
            await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state WHERE outbox_id = $1", token), n => n == 0,
                because: "the cancel deleted the timer's outbox");
            var landedInTime = DateTime.UtcNow < due;

            await Eventually.Until(() => Task.FromResult(_rangAt.ContainsKey(control)), lead + TimeSpan.FromSeconds(30), because: "the control timer fired");
            await Task.Delay(TimeSpan.FromSeconds(2));
            if (!landedInTime)
                continue;
            Assert.DoesNotContain(_probe.Received<TimerRang>(), r => r.Reference == canceled);
            return;
        }

        Assert.Fail("the cancel never landed before the timer was due, so nothing was proved");
    }

    [Fact]
    public async Task A_timer_set_by_a_consume_that_rolled_back_is_gone_with_it()
    {
        var reference = $"retried-{NewId.NextGuid()}";
        var due = DateTime.UtcNow.AddSeconds(2);
        await Send(new SetTimer(reference, due, _probe.InputAddress, FailFirst: true));

        await Eventually.Until(() => Task.FromResult(_rangAt.ContainsKey(reference)), TimeSpan.FromSeconds(30), because: "the retried consume's timer fired");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Single(_probe.Received<TimerRang>(), r => r.Reference == reference);
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%' || $1 || '%'", reference));
    }
}
