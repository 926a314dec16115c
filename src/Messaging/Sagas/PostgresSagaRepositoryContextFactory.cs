using MassTransit;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace Sagas.Messaging.Sagas;

/// <summary>
/// The saga repository over the message scope's DbContext. MassTransit resolves it per message from the scope the
/// inbox created, so the saga row, the inbox mark and the outgoing messages share one DbContext and one transaction.
/// <para>
/// Concurrency is pessimistic: an existing instance is loaded with <c>SELECT … FOR UPDATE</c>, so events for one
/// instance queue on its row lock and each sees the state the previous one committed (no lost update, no
/// version column). First events racing to create the same instance queue on a transaction-scoped advisory lock
/// taken after the miss, so the later ones find the row instead of failing on its key. Whatever conflict is left
/// (a unique violation from another writer, a serialization failure, a deadlock) is retried with a fresh scope
/// and DbContext by the endpoint's retry filter (<see cref="InboxRetry"/>).
/// </para>
/// </summary>
public sealed class PostgresSagaRepositoryContextFactory<TSaga, TDbContext>(
    TDbContext dbContext,
    ISagaConsumeContextFactory<TDbContext, TSaga> consumeContextFactory)
    : ISagaRepositoryContextFactory<TSaga>, IQuerySagaRepositoryContextFactory<TSaga>, ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISaga
    where TDbContext : DbContext
{
    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class =>
        WithinTransaction(context.CancellationToken, () =>
            next.Send(new PostgresSagaRepositoryContext<TSaga, T, TDbContext>(dbContext, context, consumeContextFactory)));

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        WithinTransaction(context.CancellationToken, async () =>
        {
            var repositoryContext = new PostgresSagaRepositoryContext<TSaga, T, TDbContext>(dbContext, context, consumeContextFactory);
            var instances = await repositoryContext.LockMatching(query);
            await next.Send(new LoadedSagaRepositoryQueryContext<TSaga, T>(repositoryContext, instances));
        });

    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new PostgresSagaQueryContext<TSaga>(dbContext, cancellationToken));

    public Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new PostgresSagaQueryContext<TSaga>(dbContext, cancellationToken));

    // Behind the inbox the scope's DbContext is already in the inbox's transaction: join it, and let the inbox
    // commit or roll back everything. Without the inbox (an endpoint configured without it) use our own.
    async Task WithinTransaction(CancellationToken cancellationToken, Func<Task> work)
    {
        if (dbContext.Database.CurrentTransaction is not null)
        {
            await work();
            return;
        }

        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);
        await work();
        await transaction.CommitAsync(cancellationToken);
    }

    public void Probe(ProbeContext context)
    {
        context.Add("persistence", "postgres");
        context.Add("dbContext", typeof(TDbContext).Name);
        context.Add("concurrency", "pessimistic (SELECT … FOR UPDATE)");
    }
}
