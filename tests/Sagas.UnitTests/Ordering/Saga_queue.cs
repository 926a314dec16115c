using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Saga_queue
{
    // The Api declares this queue by name before the Workers ever ran: a different name would leave early orders in
    // a queue nobody consumes.
    [Fact]
    public void Should_be_the_queue_the_workers_consume_the_saga_from() =>
        Assert.Equal(OrderSagaQueue.Name, KebabCaseEndpointNameFormatter.Instance.Saga<OrderState>());
}
