using MassTransit;

namespace Sagas.IntegrationTests.Scheduling;

public sealed record StartTimer(Guid CorrelationId, DateTime DueAt);

public sealed record CancelTimer(Guid CorrelationId);

public sealed record TimerElapsed(Guid CorrelationId);

public sealed class TimerState : SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    public Guid? TimerTokenId { get; set; }
    public int ElapsedCount { get; set; }
    public Guid? ElapsedTokenId { get; set; }

    public TimerState Snapshot() => (TimerState)MemberwiseClone();
}

/// <summary>The smallest saga that uses a state machine timer: schedule on start, unschedule on cancel.</summary>
public sealed class TimerStateMachine : MassTransitStateMachine<TimerState>
{
    public TimerStateMachine()
    {
        InstanceState(x => x.CurrentState);

        Event(() => Started, e => e.CorrelateById(c => c.Message.CorrelationId));
        Event(() => CancelRequested, e => e.CorrelateById(c => c.Message.CorrelationId));
        Schedule(() => Timer, x => x.TimerTokenId, s =>
        {
            s.Delay = TimeSpan.FromMinutes(1);
            s.Received = r => r.CorrelateById(c => c.Message.CorrelationId);
        });

        Initially(
            When(Started)
                .Schedule(Timer, c => new TimerElapsed(c.Saga.CorrelationId), c => c.Message.DueAt)
                .TransitionTo(Waiting));

        // Timer.Received is raised only for the current token: MassTransit drops a timer whose
        // MT-Scheduling-TokenId does not match TimerTokenId before it gets here.
        During(Waiting,
            When(Timer.Received)
                .Then(c =>
                {
                    c.Saga.ElapsedCount++;
                    c.Saga.ElapsedTokenId = c.GetSchedulingTokenId();
                })
                .TransitionTo(Elapsed),
            When(CancelRequested)
                .Unschedule(Timer)
                .TransitionTo(Canceled));
    }

    public State Waiting { get; private set; } = null!;
    public State Elapsed { get; private set; } = null!;
    public State Canceled { get; private set; } = null!;

    public Event<StartTimer> Started { get; private set; } = null!;
    public Event<CancelTimer> CancelRequested { get; private set; } = null!;

    public Schedule<TimerState, TimerElapsed> Timer { get; private set; } = null!;
}
