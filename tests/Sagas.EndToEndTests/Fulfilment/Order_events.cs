using System.Threading.Channels;
using Sagas.EndToEndTests.Api;

namespace Sagas.EndToEndTests.Fulfilment;

/// <summary>
/// <c>GET /orders/{id}/events</c>: the storefront follows its order without polling, on whichever Api instance it
/// reaches. The streams' periodic re-read is set to ten minutes here, so every event these tests receive within their
/// time limits was pushed by a change notification, not found by the safety net.
/// </summary>
public sealed class Order_events(Order_events.Stack stack) : IClassFixture<Order_events.Stack>
{
    const string OtherStorefrontKey = "test-other-storefront-key";
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public sealed class Stack : StackFixture, IAsyncLifetime
    {
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["OrderEvents__RefreshInterval"] = "00:10:00",
            [$"ApiKeys__{OtherStorefrontKey}"] = "storefront",
        };

        /// <summary>A second Api instance on the same database and broker, as a load balancer would spread clients.</summary>
        public ServiceProcess SecondApi { get; private set; } = null!;

        async Task IAsyncLifetime.InitializeAsync()
        {
            await InitializeAsync();
            SecondApi = new ServiceProcess("Api", ServiceProcess.FreePort(), new Dictionary<string, string>(Environment));
            SecondApi.Start();
            await SecondApi.WaitUntilReadyAsync();
        }

        async Task IAsyncLifetime.DisposeAsync()
        {
            await SecondApi.DisposeAsync();
            await DisposeAsync();
        }
    }

    [Fact]
    public async Task A_storefront_on_another_Api_instance_sees_its_QR_then_Placed_and_the_stream_ends()
    {
        await stack.StockItem("SSE-1", 5, price: 12m);
        var orderId = await stack.PlaceOrder(("SSE-1", 2));
        await using var events = await OrderEventStream.Open(stack.SecondApi, TestApiKeys.Storefront, orderId);

        var first = await events.Next(Patience);
        Assert.Equal(orderId, first.GetProperty("orderId").GetGuid());
        var awaiting = first.GetProperty("status").GetString() == "AwaitingPayment" && HasQr(first)
            ? first
            : await events.NextWhere(o => o.GetProperty("status").GetString() == "AwaitingPayment" && HasQr(o), Patience);

        await stack.Pay(awaiting.GetProperty("payment").GetProperty("providerReference").GetString()!);

        var placed = await events.NextWhere(o => o.GetProperty("status").GetString() == "Placed", Patience);
        Assert.Equal(24m, placed.GetProperty("total").GetDecimal());
        Assert.True(await events.Ended(Patience), "the stream ends after a final status");
        // What was pushed is what GET /orders/{id} answers.
        Assert.Equal(placed.GetRawText(), (await stack.Order(orderId)).GetRawText());
        // Statuses only ever move forward on the stream.
        var statuses = events.Received.Select(o => o.GetProperty("status").GetString()).ToList();
        Assert.Equal(statuses.Distinct(), statuses.Where((s, i) => i == 0 || s != statuses[i - 1]));
    }

    [Fact]
    public async Task A_final_order_gets_one_event_and_the_stream_ends_at_once()
    {
        await stack.StockItem("SSE-2", 1);
        var orderId = await stack.PlaceOrder(("SSE-2", 5));
        await stack.OrderIn(orderId, "Rejected");

        await using var events = await OrderEventStream.Open(stack.Api, TestApiKeys.Support, orderId);

        Assert.Equal("Rejected", (await events.Next(Patience)).GetProperty("status").GetString());
        Assert.True(await events.Ended(Patience));
    }

    [Fact]
    public async Task Unknown_orders_and_other_storefronts_orders_are_404_problems_and_no_key_is_401()
    {
        await stack.StockItem("SSE-3", 5);
        var orderId = await stack.PlaceOrder(("SSE-3", 1));

        using var other = stack.Client(OtherStorefrontKey);
        foreach (var path in new[] { $"/orders/{Guid.NewGuid()}/events", $"/orders/{orderId}/events" })
        {
            using var response = await other.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            await ProblemAssertions.AssertProblem(response, HttpStatusCode.NotFound);
        }

        using var anonymous = new HttpClient { BaseAddress = stack.Api.BaseAddress };
        using var unauthenticated = await anonymous.GetAsync($"/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
    }

    static bool HasQr(JsonElement order) =>
        order.GetProperty("payment") is { ValueKind: JsonValueKind.Object } payment &&
        payment.GetProperty("qrPayload").ValueKind == JsonValueKind.String;

    /// <summary>A minimal server-sent-events client: each <c>event: order</c>'s data, in the order received.</summary>
    sealed class OrderEventStream : IAsyncDisposable
    {
        readonly HttpClient _client;
        readonly HttpResponseMessage _response;
        readonly Channel<JsonElement> _events = Channel.CreateUnbounded<JsonElement>();
        readonly CancellationTokenSource _stop = new();
        readonly Task _reading;

        OrderEventStream(HttpClient client, HttpResponseMessage response)
        {
            _client = client;
            _response = response;
            _reading = Task.Run(ReadAsync);
        }

        public List<JsonElement> Received { get; } = [];

        public static async Task<OrderEventStream> Open(ServiceProcess api, string apiKey, Guid orderId)
        {
            var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
            var response = await client.GetAsync($"/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new OrderEventStream(client, response);
        }

        async Task ReadAsync()
        {
            try
            {
                using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
                string? name = null, data = null;
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal))
                        name = line["event: ".Length..];
                    else if (line.StartsWith("data: ", StringComparison.Ordinal))
                        data = line["data: ".Length..];
                    else if (line.Length == 0 && name == "order" && data is not null)
                    {
                        var order = JsonDocument.Parse(data).RootElement.Clone();
                        Received.Add(order);
                        await _events.Writer.WriteAsync(order);
                        (name, data) = (null, null);
                    }
                }

                _events.Writer.TryComplete();
            }
            catch (Exception exception)
            {
                _events.Writer.TryComplete(exception);
            }
        }

        public Task<JsonElement> Next(TimeSpan timeout) => NextWhere(_ => true, timeout);

        public async Task<JsonElement> NextWhere(Func<JsonElement, bool> condition, TimeSpan timeout)
        {
            using var timer = new CancellationTokenSource(timeout);
            try
            {
                while (true)
                {
                    var order = await _events.Reader.ReadAsync(timer.Token);
                    if (condition(order))
                        return order;
                }
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested)
            {
                var statuses = string.Join(" → ", Received.Select(o => o.GetProperty("status").GetString()));
                throw new Xunit.Sdk.XunitException($"No such event pushed within {timeout.TotalSeconds:0} s; received so far: [{statuses}]");
            }
        }

        /// <summary>True when the server closed the stream (after any events still unread) within the timeout.</summary>
        public async Task<bool> Ended(TimeSpan timeout)
        {
            using var timer = new CancellationTokenSource(timeout);
            try
            {
                while (await _events.Reader.WaitToReadAsync(timer.Token))
                    _events.Reader.TryRead(out _);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _response.Dispose();
            _client.Dispose();
            await _reading;
            _stop.Dispose();
        }
    }
}
