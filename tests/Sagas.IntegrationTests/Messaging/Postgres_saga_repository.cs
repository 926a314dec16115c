using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sagas.Messaging;
using Sagas.Messaging.Sagas;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>A state machine saga stored by the PostgreSQL saga repository.</summary>
public sealed class Postgres_saga_repository(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task Fifty_concurrent_events_for_one_instance_lose_no_update()
    {
        using var host = await infrastructure.StartHost(x => x.AddSagaStateMachine<CounterStateMachine, CounterState>()
            .Endpoint(e => e.ConcurrentMessageLimit = 16)
            .PostgresRepository(r => r.ExistingDbContext<TestDbContext>()));
        var bus = host.Services.GetRequiredService<IBus>();
        var counterId = NewId.NextGuid();

        // The first events race to create the instance; all 50 then queue on its row lock.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => bus.Publish(new Increment(counterId))));

        // A lost update would leave the counter short of 50 for good.
        await Eventually.Until(() => infrastructure.Count(
                "SELECT coalesce(max(count), 0) FROM test.counter_state WHERE correlation_id = $1", counterId),
            n => n == 50, TimeSpan.FromSeconds(60), because: "all 50 increments applied");
        Assert.Equal("Counting", await Scalar<string>("SELECT current_state FROM test.counter_state WHERE correlation_id = $1", counterId));
        await host.StopAsync();
    }

    [Fact]
    public async Task The_test_harness_observes_the_repository()
    {
        await using var provider = new ServiceCollection()
            .AddDbContext<TestDbContext>(o => o.UseNpgsql(infrastructure.Database.ConnectionString))
            .AddMassTransitTestHarness(x =>
            {
                x.AddPostgresOutbox<TestDbContext>();
                x.AddSagaStateMachine<CounterStateMachine, CounterState>().PostgresRepository(r => r.ExistingDbContext<TestDbContext>());
            })
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        try
        {
            var counterId = NewId.NextGuid();
            var messageId = NewId.NextGuid();
            await harness.Bus.Publish(new Increment(counterId), c => c.MessageId = messageId);

            var saga = harness.GetSagaStateMachineHarness<CounterStateMachine, CounterState>();
            Assert.True(await saga.Consumed.Any<Increment>(x => x.Context.Message.CounterId == counterId));
            Assert.True(await saga.Created.Any(x => x.CorrelationId == counterId));
            Assert.NotNull(await saga.Exists(counterId, machine => machine.Counting));

            // Stored in PostgreSQL, behind the inbox, also under the harness's endpoint names.
            Assert.Equal(1, await infrastructure.Count("SELECT count FROM test.counter_state WHERE correlation_id = $1", counterId));
            await Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM messaging.inbox_state WHERE message_id = $1 AND consumed IS NOT NULL", messageId), n => n == 1);
        }
        finally
        {
            await harness.Stop();
        }
    }

    async Task<T> Scalar<T>(string sql, params object[] parameters)
    {
        await using var connection = new Npgsql.NpgsqlConnection(infrastructure.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = parameter });
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
