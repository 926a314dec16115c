using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace Sagas.Messaging.Sagas;

public static class PostgresSagaRepositoryRegistrationExtensions
{
    /// <summary>
    /// Stores the saga in the application's DbContext (which must map <typeparamref name="TSaga"/>), locking an
    /// instance with <c>SELECT … FOR UPDATE</c> while an event is applied to it:
    /// <code>x.AddSagaStateMachine&lt;OrderStateMachine, OrderState&gt;().PostgresRepository(r => r.ExistingDbContext&lt;AppDbContext&gt;());</code>
    /// </summary>
    public static ISagaRegistrationConfigurator<TSaga> PostgresRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator,
        Action<IPostgresSagaRepositoryConfigurator<TSaga>> configure)
        where TSaga : class, ISaga
    {
        var repository = new PostgresSagaRepositoryConfigurator<TSaga>();
        configure(repository);
        configurator.Repository(repository.Register);
        return configurator;
    }
}

public interface IPostgresSagaRepositoryConfigurator<TSaga>
    where TSaga : class, ISaga
{
    /// <summary>The scoped DbContext the application registered (AddDbContext), the same one its consumers and the inbox use.</summary>
    void ExistingDbContext<TDbContext>()
        where TDbContext : DbContext;
}

sealed class PostgresSagaRepositoryConfigurator<TSaga> : IPostgresSagaRepositoryConfigurator<TSaga>
    where TSaga : class, ISaga
{
    Action<ISagaRepositoryRegistrationConfigurator<TSaga>>? _register;

    public void ExistingDbContext<TDbContext>()
        where TDbContext : DbContext =>
        _register = services =>
        {
            services.RegisterLoadSagaRepository<TSaga, PostgresSagaRepositoryContextFactory<TSaga, TDbContext>>();
            services.RegisterQuerySagaRepository<TSaga, PostgresSagaRepositoryContextFactory<TSaga, TDbContext>>();
            services.RegisterSagaRepository<TSaga, TDbContext, SagaConsumeContextFactory<TDbContext, TSaga>,
                PostgresSagaRepositoryContextFactory<TSaga, TDbContext>>();
        };

    public void Register(ISagaRepositoryRegistrationConfigurator<TSaga> services) =>
        (_register ?? throw new ConfigurationException($"PostgresRepository for {typeof(TSaga).Name}: call ExistingDbContext<TDbContext>()"))
        .Invoke(services);
}
