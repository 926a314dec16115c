namespace Sagas.EndToEndTests.Fulfilment;

public sealed class HappyPathTests(StackFixture stack) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task An_order_paid_through_the_qr_code_is_placed_and_its_stock_sold()
    {
        await stack.StockItem("HAPPY-1", 10, price: 20m);
        var orderId = await stack.PlaceOrder(("HAPPY-1", 3));

        var awaiting = await stack.OrderWhen(orderId, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object
                                                            && o.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 },
            "QR payload ready");
        Assert.Equal("AwaitingPayment", awaiting.GetProperty("status").GetString());
        Assert.Equal((10, 3), await stack.Stock("HAPPY-1"));

        await stack.Pay(awaiting.GetProperty("payment").GetProperty("providerReference").GetString()!);

        var placed = await stack.OrderIn(orderId, "Placed");
        Assert.Equal(JsonValueKind.Null, placed.GetProperty("failureReason").ValueKind);
        Assert.Equal((7, 0), await stack.Stock("HAPPY-1"));
        var ledger = await stack.Ledger(orderId);
        Assert.Equal(1, ledger.GetArrayLength());
        Assert.Equal(60m, ledger[0].GetProperty("capturedAmount").GetDecimal());
        Assert.Equal(0, ledger[0].GetProperty("refunds").GetArrayLength());
        var timeline = await stack.Timeline(orderId);
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("to").GetString() == "Placed");
    }
}
