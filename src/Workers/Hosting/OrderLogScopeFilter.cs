using System.Diagnostics;
using System.Linq.Expressions;
using MassTransit;
using Sagas.Observability;

namespace Sagas.Workers.Hosting;

/// <summary>
/// Every log line written while a message about an order is consumed — the saga's, a consumer's, the provider client's,
/// a retry's — carries that order's id (<c>OrderId</c> in the JSON logs' scopes), so one order's story can be read from
/// the logs by its id; a traced message's receive span gets the id as <c>sagas.order_id</c>. Every contract message has a
/// <c>Guid OrderId</c>; a message without one passes unscoped.
/// </summary>
public sealed class OrderLogScopeFilter<T>(ILogger<OrderLogScopeFilter<T>> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    static readonly Func<T, Guid>? OrderIdOf = Reader();

    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next) =>
        OrderIdOf is null ? next.Send(context) : SendScoped(context, next);

    async Task SendScoped(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var orderId = OrderIdOf!(context.Message);
        // The receive span, when traced: an order's spans can be found by its id in the tracing backend too.
        if (Activity.Current is { IsAllDataRequested: true } receive)
            receive.SetTag("sagas.order_id", orderId.ToString("D"));
        using (logger.BeginOrderScope(orderId))
            await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("orderLogScope");

    static Func<T, Guid>? Reader()
    {
        var property = typeof(T).GetProperty("OrderId");
        if (property?.PropertyType != typeof(Guid) || property.GetMethod is null)
            return null;
        var message = Expression.Parameter(typeof(T));
        return Expression.Lambda<Func<T, Guid>>(Expression.Property(message, property), message).Compile();
    }
}
