namespace Sagas.Contracts.Ordering;

/// <summary>
/// The order saga's queue: the Workers consume it, and the Api declares it with the bindings of what it publishes
/// to the saga, so an order accepted before any Workers ran waits there instead of being dropped by RabbitMQ.
/// </summary>
public static class OrderSagaQueue
{
    /// <summary>
    /// The saga endpoint's name: the kebab-case name MassTransit gives <c>OrderState</c>'s endpoint in the Workers
    /// (a unit test keeps the two equal; the test harness names endpoints its own way, so the definition does not set it).
    /// </summary>
    public const string Name = "order-state";
}
