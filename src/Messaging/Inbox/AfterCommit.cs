using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Sagas.Messaging.Inbox;

/// <summary>
/// What a consumer (or the saga) wants done only once its consume transaction has committed, such as counting what
/// it did in a metric: a pass that is rolled back and retried must not count twice. Scoped to the message scope; the
/// inbox (<see cref="InboxOutboxContextFactory{TDbContext}"/>) opens it for each transaction it runs, runs what was
/// added after the commit and drops it otherwise.
/// </summary>
public sealed class AfterCommit
{
    readonly List<Action> _actions = [];
    bool _open;

    /// <summary>
    /// Runs <paramref name="action"/> after the commit of the consume transaction that <paramref name="context"/> is
    /// part of; at once where there is none (no inbox on the endpoint, an in-memory test harness).
    /// </summary>
    public static void Run(PipeContext context, Action action)
    {
        if (context.TryGetPayload(out IServiceProvider? provider) && provider.GetService<AfterCommit>() is { } afterCommit
                                                                  && afterCommit.TryAdd(action))
            return;
        action();
    }

    bool TryAdd(Action action)
    {
        lock (_actions)
        {
            if (!_open)
                return false;
            _actions.Add(action);
            return true;
        }
    }

    /// <summary>A transaction begins: what is added from now on waits for its commit.</summary>
    internal void Begin()
    {
        lock (_actions)
        {
            _actions.Clear();
            _open = true;
        }
    }

    /// <summary>The transaction committed: runs what was added (an action that throws is not allowed to undo the commit).</summary>
    internal void Committed()
    {
        Action[] actions;
        lock (_actions)
        {
            actions = [.. _actions];
            _actions.Clear();
            _open = false;
        }

        foreach (var action in actions)
        {
            try
            {
                action();
            }
            catch (Exception)
            {
                // Counting is best effort; the message's work is done and committed.
            }
        }
    }

    /// <summary>The transaction did not commit: nothing that was added happens.</summary>
    internal void Discard()
    {
        lock (_actions)
        {
            _actions.Clear();
            _open = false;
        }
    }
}
