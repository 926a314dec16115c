using MassTransit;
using Sagas.Messaging.Scheduling;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>
/// The Quartz-backed scheduler end to end against the real PostgreSQL and RabbitMQ: a state machine's
/// Schedule/Unschedule, Workers restarts, two Workers in one cluster, stale timers, and what a fired message
/// keeps of the scheduled one.
/// </summary>
public sealed class MessageSchedulerTests(ITestOutputHelper output)
{
    static readonly Uri TimerSagaQueue = new("queue:timer-state");

    [Fact]
    public async Task A_timer_scheduled_before_a_Workers_restart_fires_once_after_it()
    {
        await using var environment = await SchedulerTestEnvironment.CreateAsync("restart", output);
        var sagaId = NewId.NextGuid();
        var due = DateTime.UtcNow.AddSeconds(4);

        var first = await environment.StartWorkersAsync("workers-1");
        await first.Bus.Publish(new StartTimer(sagaId, due));
        var token = (await environment.SagaInState(sagaId, "Waiting")).TimerTokenId!.Value;
        await Eventually.Until(() => environment.Quartz.JobExists(token), because: "timer stored in Quartz");

        await first.DisposeAsync();
        Assert.True(DateTime.UtcNow < due, "the first Workers host must be down before the timer is due, or this proves nothing");
        Assert.Empty(environment.Log.TimersOf(sagaId));
        Assert.True(await environment.Quartz.JobExists(token), "the timer outlives the host that scheduled it");

        var second = await environment.StartWorkersAsync("workers-2");
        Assert.NotEqual(first.QuartzInstanceId, second.QuartzInstanceId);

        var saga = await environment.SagaInState(sagaId, "Elapsed");
        Assert.Equal(1, saga.ElapsedCount);
        Assert.Equal(token, saga.ElapsedTokenId);

        var executions = await FiredAndRemoved(environment, token);
        var execution = Assert.Single(executions);
        Assert.Equal(second.QuartzInstanceId, execution.InstanceName);
        Assert.True(execution.Succeeded);

        var delivery = Assert.Single(environment.Log.TimersOf(sagaId));
        Assert.Equal("workers-2", delivery.Host);
        Assert.Equal(token, delivery.TokenId);
        Assert.Equal(ScheduledMessageIds.For(token, due), delivery.MessageId);
        Assert.True(delivery.ReceivedAt >= due.AddMilliseconds(-100), $"fired at {delivery.ReceivedAt:O}, due {due:O}");
    }

    [Fact]
    public async Task An_unscheduled_timer_never_fires_while_one_scheduled_with_it_does()
    {
        await using var environment = await SchedulerTestEnvironment.CreateAsync("unschedule", output);
        var workers = await environment.StartWorkersAsync("workers");
        var canceledId = NewId.NextGuid();
        var controlId = NewId.NextGuid();
        // Far enough out that the cancel lands first even on a loaded machine (2 s was not, at a load average of 25).
        var due = DateTime.UtcNow.AddSeconds(10);

        await workers.Bus.Publish(new StartTimer(canceledId, due));
        await workers.Bus.Publish(new StartTimer(controlId, due));
        var canceledToken = (await environment.SagaInState(canceledId, "Waiting")).TimerTokenId!.Value;
        await Eventually.Until(() => environment.Quartz.JobExists(canceledToken), because: "timer stored in Quartz");

        await workers.Bus.Publish(new CancelTimer(canceledId));
        var canceled = await environment.SagaInState(canceledId, "Canceled");
        Assert.Null(canceled.TimerTokenId);
        await Eventually.Until(async () => !await environment.Quartz.JobExists(canceledToken), because: "timer removed from Quartz");
        Assert.True(DateTime.UtcNow < due, "the cancellation must land before the timer is due, or this proves nothing");

        // The control timer, due at the same moment, does fire: the window below is long enough to see one.
        await environment.SagaInState(controlId, "Elapsed");
        Assert.Single(environment.Log.TimersOf(controlId));

        // The one bounded wait in these tests: nothing may arrive for the canceled timer until well after it was due.
        var windowEnd = due.AddSeconds(3);
        while (DateTime.UtcNow < windowEnd)
        {
            Assert.Empty(environment.Log.TimersOf(canceledId));
            await Task.Delay(100);
        }

        Assert.Empty(environment.Log.TimersOf(canceledId));
        Assert.Empty(await environment.Quartz.Executions(canceledToken));
        Assert.Equal("Canceled", (await environment.SagaAsync(canceledId))!.CurrentState);
    }

    [Fact]
    public async Task With_two_Workers_running_every_timer_fires_exactly_once()
    {
        await using var environment = await SchedulerTestEnvironment.CreateAsync("cluster", output);
        var a = await environment.StartWorkersAsync("workers-a");
        var b = await environment.StartWorkersAsync("workers-b");
        await Eventually.Until(environment.Quartz.ClusterNodes, nodes => nodes.Count == 2, because: "both Quartz nodes checked in");

        var due = DateTime.UtcNow.AddSeconds(3);
        var sagaIds = Enumerable.Range(0, 12).Select(_ => NewId.NextGuid()).ToList();
        for (var i = 0; i < sagaIds.Count; i++)
            await (i % 2 == 0 ? a : b).Bus.Publish(new StartTimer(sagaIds[i], due));

        var firedBy = new List<string>();
        foreach (var sagaId in sagaIds)
        {
            var saga = await environment.SagaInState(sagaId, "Elapsed");
            Assert.Equal(1, saga.ElapsedCount);
            var token = saga.ElapsedTokenId!.Value;

            var execution = Assert.Single(await FiredAndRemoved(environment, token));
            Assert.True(execution.Succeeded);
            Assert.Contains(execution.InstanceName, new[] { a.QuartzInstanceId, b.QuartzInstanceId });
            firedBy.Add(execution.InstanceName);

            var delivery = Assert.Single(environment.Log.TimersOf(sagaId));
            Assert.Equal(token, delivery.TokenId);
        }

        output.WriteLine("timers fired by: " + string.Join(", ", firedBy.GroupBy(n => n).Select(g => $"{g.Key} x{g.Count()}")));
    }

    [Fact]
    public async Task A_stale_timer_is_delivered_with_its_own_token_and_dropped_by_the_state_machine()
    {
        await using var environment = await SchedulerTestEnvironment.CreateAsync("stale", output);
        var workers = await environment.StartWorkersAsync("workers");
        var sagaId = NewId.NextGuid();

        await workers.Bus.Publish(new StartTimer(sagaId, DateTime.UtcNow.AddSeconds(3)));
        var currentToken = (await environment.SagaInState(sagaId, "Waiting")).TimerTokenId!.Value;

        // A timer for the same saga under another token, as one whose cancellation was lost would be: due first.
        var stale = await workers.MessageScheduler.ScheduleSend(TimerSagaQueue, DateTime.UtcNow.AddSeconds(1), new TimerElapsed(sagaId));
        Assert.NotEqual(currentToken, stale.TokenId);

        var saga = await environment.SagaInState(sagaId, "Elapsed");
        await Eventually.Until(() => Task.FromResult(environment.Log.TimersOf(sagaId)), d => d.Count == 2, because: "both timers delivered");

        var deliveries = environment.Log.TimersOf(sagaId);
        Assert.Equal([stale.TokenId, currentToken], deliveries.Select(d => d.TokenId!.Value));
        Assert.Equal(1, saga.ElapsedCount);
        Assert.Equal(currentToken, saga.ElapsedTokenId);
    }

    [Fact]
    public async Task A_fired_message_keeps_its_message_types_headers_and_correlation()
    {
        await using var environment = await SchedulerTestEnvironment.CreateAsync("payload", output);
        var workers = await environment.StartWorkersAsync("workers");
        var probeId = NewId.NextGuid();
        var payloadCorrelationId = NewId.NextGuid();
        var conversationId = NewId.NextGuid();
        var schedulingCorrelationId = NewId.NextGuid();
        var due = DateTime.UtcNow.AddSeconds(1);

        var endpoint = await workers.Bus.GetSendEndpoint(new Uri("queue:schedule-probe"));
        await endpoint.Send(new ScheduleProbe(probeId, payloadCorrelationId, due, "héllo, timer", 42), context =>
        {
            context.CorrelationId = schedulingCorrelationId;
            context.ConversationId = conversationId;
        });

        var delivery = (await Eventually.Until(() => Task.FromResult(environment.Log.ProbesOf(probeId)), d => d.Count > 0)).Single();
        var token = environment.Log.ScheduledToken(probeId)!.Value;

        var message = Assert.IsAssignableFrom<IProbeElapsed>(delivery.Message);
        Assert.Equal((probeId, payloadCorrelationId, "héllo, timer"), (message.ProbeId, message.CorrelationId, message.Text));
        Assert.Contains(MessageUrn.ForTypeString<ProbeElapsed>(), delivery.SupportedMessageTypes);
        Assert.Contains(MessageUrn.ForTypeString<IProbeElapsed>(), delivery.SupportedMessageTypes);
        Assert.Equal("héllo, timer", delivery.ProbeText);
        Assert.Equal(42, delivery.ProbeNumber);
        Assert.Equal(token, delivery.TokenId);
        Assert.Equal(payloadCorrelationId, delivery.CorrelationId);
        Assert.Equal(conversationId, delivery.ConversationId);
        Assert.Equal(schedulingCorrelationId, delivery.InitiatorId); // MassTransit's initiator: the scheduling message's correlation
        Assert.Equal(ScheduledMessageIds.For(token, due), delivery.MessageId);

        await FiredAndRemoved(environment, token);
        Assert.Single(environment.Log.ProbesOf(probeId));
    }

    [Fact]
    public async Task A_timer_already_due_when_it_reaches_the_scheduler_fires_at_once()
    {
        await using var environment = await SchedulerTestEnvironment.CreateAsync("overdue", output);
        var workers = await environment.StartWorkersAsync("workers");
        var probeId = NewId.NextGuid();

        var scheduled = await workers.MessageScheduler.ScheduleSend(ScheduleProbeConsumer.Destination, DateTime.UtcNow.AddMinutes(-5),
            new ProbeElapsed(probeId, NewId.NextGuid(), "late"));

        var delivery = (await Eventually.Until(() => Task.FromResult(environment.Log.ProbesOf(probeId)), d => d.Count > 0,
            TimeSpan.FromSeconds(10))).Single();
        Assert.Equal(scheduled.TokenId, delivery.TokenId);
        Assert.Single(await FiredAndRemoved(environment, scheduled.TokenId));
    }

    /// <summary>
    /// Quartz's own record that the timer ran, once the job is gone from the store: nothing is left that could fire
    /// it again, so the executions returned are all there will ever be.
    /// </summary>
    static async Task<IReadOnlyList<QuartzTables.Execution>> FiredAndRemoved(SchedulerTestEnvironment environment, Guid token)
    {
        await Eventually.Until(async () => !await environment.Quartz.JobExists(token), because: $"job {token} removed after firing");
        return await Eventually.Until(() => environment.Quartz.Executions(token), e => e.Count > 0, because: $"execution of {token} recorded");
    }
}
