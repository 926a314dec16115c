using Sagas.Contracts.Inventory;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Submitting_an_order : OrderSagaSpec
{
    [Fact]
    public async Task Should_hold_stock_for_every_line_for_the_window_the_grace_and_a_minute()
    {
        await GivenSubmitted();

        var hold = Assert.Single(Published<HoldStock>());
        Assert.Equal(OrderId, hold.OrderId);
        Assert.Equal([new StockLine { Sku = "MOUSE-1", Quantity = 2 }, new StockLine { Sku = "PAD-1", Quantity = 1 }], hold.Lines);
        // A duration, not an instant: the database's clock starts it when the hold is made, however late that is.
        Assert.Equal(Timings.PaymentWindow + Timings.PaymentGrace + TimeSpan.FromMinutes(1), hold.HoldFor);
    }

    [Fact]
    public async Task Should_record_the_order_as_submitted()
    {
        await GivenSubmitted();

        Assert.NotNull(await Saga.Exists(OrderId, x => x.Submitted));
        var order = Order;
        Assert.Equal(OrderStatuses.Submitted, order.CurrentState);
        Assert.Equal("c-1", order.CustomerId);
        Assert.Equal(Currency, order.Currency);
        Assert.Equal(Total, order.Total);
        Assert.Equal(Submission().Lines, order.Lines);
        Assert.Equal(Start.AddSeconds(-2), order.CreatedAt);
        Assert.Equal(Start, order.UpdatedAt);
        Assert.Null(order.PaymentStatus);
        Assert.Null(order.FailureReason);
    }

    [Fact]
    public async Task Should_start_the_timeline_with_the_submission()
    {
        await GivenSubmitted();

        var entry = Assert.Single(Order.Timeline);
        Assert.Equal("SubmitOrder", entry.Event);
        Assert.Null(entry.FromState);
        Assert.Equal(OrderStatuses.Submitted, entry.ToState);
        Assert.Equal(Start, entry.At);
        Assert.Equal("3 units in 2 lines, 49.99 USD; stock hold requested", entry.Detail);
    }

    [Fact]
    public async Task Should_ignore_the_same_order_submitted_again()
    {
        await GivenSubmitted();

        await Deliver(Submission() with { Total = 1m, CustomerId = "someone-else" });

        Assert.Single(Published<HoldStock>());
        Assert.Equal(OrderStatuses.Submitted, Order.CurrentState);
        Assert.Equal(Total, Order.Total);
        Assert.Equal("c-1", Order.CustomerId);
        Assert.Single(Order.Timeline);
    }
}
