using MassTransit;
using MassTransit.Context;
using MassTransit.Middleware;
using MassTransit.Saga;
using Sagas.Messaging.Postgres;
using Microsoft.EntityFrameworkCore;

namespace Sagas.Messaging.Sagas;

/// <summary>The saga repository as one message sees it: load (locked), add, update and delete through the DbContext.</summary>
sealed class PostgresSagaRepositoryContext<TSaga, TMessage, TDbContext> : ConsumeContextScope<TMessage>, SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISaga
    where TMessage : class
    where TDbContext : DbContext
{
    readonly TDbContext _dbContext;
    readonly ConsumeContext<TMessage> _consumeContext;
    readonly ISagaConsumeContextFactory<TDbContext, TSaga> _factory;

    public PostgresSagaRepositoryContext(TDbContext dbContext, ConsumeContext<TMessage> consumeContext,
        ISagaConsumeContextFactory<TDbContext, TSaga> factory)
        : base(consumeContext, dbContext)
    {
        _dbContext = dbContext;
        _consumeContext = consumeContext;
        _factory = factory;
    }

    const string InsertSavepoint = "saga_insert";

    // A query-correlated event may run its instances concurrently; the DbContext must see one call at a time.
    readonly SemaphoreSlim _dbContextInUse = new(1, 1);

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        var entry = _dbContext.Set<TSaga>().Add(instance);
        // A savepoint of our own (the inbox turns EF's automatic ones off), so a duplicate leaves the transaction usable.
        var transaction = _dbContext.Database.CurrentTransaction;
        if (transaction is not null)
            await transaction.CreateSavepointAsync(InsertSavepoint, CancellationToken);
        try
        {
            await _dbContext.SaveChangesAsync(CancellationToken);
        }
        catch (DbUpdateException exception) when (PostgresErrors.IsUniqueViolation(exception))
        {
            if (transaction is not null)
                await transaction.RollbackToSavepointAsync(InsertSavepoint, CancellationToken);
            entry.State = EntityState.Detached;
            return null!; // MassTransit then loads the instance that won the race
        }

        return await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await SagaRowLock<TSaga>.Load(_dbContext, correlationId, CancellationToken);
        if (instance is null)
        {
            await SagaRowLock<TSaga>.LockCreation(_dbContext, correlationId, CancellationToken);
            instance = await SagaRowLock<TSaga>.Load(_dbContext, correlationId, CancellationToken);
        }

        return instance is null
            ? null!
            : await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Load);
    }

    /// <summary>The instances matching a query, each locked; ids are locked in order so two queries cannot deadlock.</summary>
    public async Task<List<TSaga>> LockMatching(ISagaQuery<TSaga> query)
    {
        var ids = await _dbContext.Set<TSaga>()
            .AsNoTracking()
            .Where(query.FilterExpression)
            .Select(x => x.CorrelationId)
            .OrderBy(x => x)
            .ToListAsync(CancellationToken);

        var filter = query.GetFilter();
        var instances = new List<TSaga>(ids.Count);
        foreach (var id in ids)
        {
            // Re-checked under the lock: the row may have changed between the query and the lock.
            if (await SagaRowLock<TSaga>.Load(_dbContext, id, CancellationToken) is { } instance && filter(instance))
                instances.Add(instance);
        }

        return instances;
    }

    public Task Save(SagaConsumeContext<TSaga> context) =>
        Exclusive(() =>
        {
            _dbContext.Set<TSaga>().Add(context.Saga);
            return _dbContext.SaveChangesAsync(CancellationToken);
        });

    public Task Update(SagaConsumeContext<TSaga> context) => Exclusive(() => _dbContext.SaveChangesAsync(CancellationToken));

    public Task Delete(SagaConsumeContext<TSaga> context) =>
        Exclusive(() =>
        {
            _dbContext.Set<TSaga>().Remove(context.Saga);
            return _dbContext.SaveChangesAsync(CancellationToken);
        });

    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    // The transaction is rolled back after a fault; keep the change tracker from writing the faulted state later.
    public Task Undo(SagaConsumeContext<TSaga> context) =>
        Exclusive(() =>
        {
            var entry = _dbContext.Entry(context.Saga);
            entry.State = entry.State == EntityState.Added ? EntityState.Detached : EntityState.Unchanged;
            return Task.FromResult(0);
        });

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_dbContext, consumeContext, instance, mode);

    async Task Exclusive(Func<Task<int>> work)
    {
        await _dbContextInUse.WaitAsync(CancellationToken);
        try
        {
            await work();
        }
        finally
        {
            _dbContextInUse.Release();
        }
    }
}

/// <summary>Read-only access for MassTransit's load/query repositories (and the test harness): no locks, no tracking.</summary>
sealed class PostgresSagaQueryContext<TSaga>(DbContext dbContext, CancellationToken cancellationToken)
    : BasePipeContext(cancellationToken), LoadSagaRepositoryContext<TSaga>, QuerySagaRepositoryContext<TSaga>
    where TSaga : class, ISaga
{
    public Task<TSaga> Load(Guid correlationId) =>
        dbContext.Set<TSaga>().AsNoTracking().SingleOrDefaultAsync(x => x.CorrelationId == correlationId, CancellationToken)!;

    public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken)
    {
        var ids = await dbContext.Set<TSaga>()
            .AsNoTracking()
            .Where(query.FilterExpression)
            .Select(x => x.CorrelationId)
            .ToListAsync(cancellationToken);
        return new DefaultSagaRepositoryQueryContext<TSaga>(this, ids);
    }
}
