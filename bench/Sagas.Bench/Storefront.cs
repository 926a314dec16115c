using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Sagas.Bench;

public sealed record OrderLine(string Sku, int Quantity);

/// <summary>An order the benchmark submitted: its request and, once accepted, its id.</summary>
public sealed record SubmittedOrder(string Scenario, string IdempotencyKey, IReadOnlyList<OrderLine> Lines)
{
    public Guid OrderId { get; set; }
    public double AcceptedAt { get; set; }
    /// <summary>When its first attempt was sent (<see cref="Clock"/>), and how many attempts were answered 503 before it was accepted.</summary>
    public double FirstSentAt { get; set; }
    public int Answered503 { get; set; }
}

/// <summary>
/// The storefront's side of the HTTP contract, as a load generator needs it: requests built from
/// pre-rendered JSON, one pooled <see cref="SocketsHttpHandler"/> with enough connections for open-loop
/// load, and a "retry with the same Idempotency-Key until accepted" mode for crash scenarios.
/// </summary>
public sealed class Storefront : IDisposable
{
    public const string StorefrontKey = "bench-storefront-key";
    public const string SupportKey = "bench-support-key";
    public const string AdminKey = "bench-admin-key";
    static readonly MediaTypeHeaderValue Json = new("application/json");

    readonly HttpClient _http;
    readonly Func<IReadOnlyList<Uri>> _apis;
    int _roundRobin;

    public Storefront(Func<IReadOnlyList<Uri>> apis, TimeSpan? timeout = null)
    {
        _apis = apis;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 2048,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        })
        { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    public ConcurrentDictionary<Guid, SubmittedOrder> Orders { get; } = new();

    Uri NextApi()
    {
        var apis = _apis();
        return apis[(int)((uint)Interlocked.Increment(ref _roundRobin) % apis.Count)];
    }

    public static string Body(string customerId, IReadOnlyList<OrderLine> lines)
    {
        var json = new StringBuilder("{\"customerId\":\"").Append(customerId).Append("\",\"currency\":\"USD\",\"lines\":[");
        for (var i = 0; i < lines.Count; i++)
            json.Append(i == 0 ? "" : ",").Append("{\"sku\":\"").Append(lines[i].Sku).Append("\",\"quantity\":").Append(lines[i].Quantity).Append('}');
        return json.Append("]}").ToString();
    }

    /// <summary>One POST /orders; returns the status (and records the order when it was accepted).</summary>
    public async Task<int> SubmitOnceAsync(SubmittedOrder order, CancellationToken cancellationToken = default) =>
        (await SubmitAsync(order, cancellationToken)).Status;

    /// <summary>One POST /orders; returns the status and the Retry-After seconds of a refusal (admission control's 503).</summary>
    public async Task<(int Status, int? RetryAfter)> SubmitAsync(SubmittedOrder order, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(NextApi(), "orders"));
        request.Headers.Add("X-Api-Key", StorefrontKey);
        request.Headers.Add("Idempotency-Key", order.IdempotencyKey);
        request.Content = new StringContent(Body("bench-" + (order.IdempotencyKey.GetHashCode() & 1023), order.Lines), Encoding.UTF8);
        request.Content.Headers.ContentType = Json;
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            order.OrderId = document.RootElement.GetProperty("orderId").GetGuid();
            order.AcceptedAt = Clock.Now;
            Orders[order.OrderId] = order;
        }

        return ((int)response.StatusCode, response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : null);
    }

    /// <summary>
    /// What a storefront does when the Api is down or answers 5xx: the same request with the same key again
    /// (to any instance) until it is accepted. Returns the attempts it took; throws past the deadline.
    /// </summary>
    public async Task<(int Attempts, int LastStatus)> SubmitUntilAcceptedAsync(SubmittedOrder order, TimeSpan patience)
    {
        var deadline = Clock.Now + patience.TotalSeconds;
        order.FirstSentAt = Clock.Now;
        for (var attempt = 1; ; attempt++)
        {
            int status;
            try
            {
                status = await SubmitOnceAsync(order);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                status = 0;
            }

            if (status == 202)
                return (attempt, status);
            if (status == 503)
                order.Answered503++;
            if (status is >= 400 and < 500 and not 408 and not 429)
                throw new InvalidOperationException($"order {order.IdempotencyKey} was refused with {status}");
            if (Clock.Now > deadline)
                throw new TimeoutException($"order {order.IdempotencyKey} not accepted within {patience} (last status {status})");
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)));
        }
    }

    public async Task<(int Status, string? OrderStatus, bool QrReady)> GetOrderAsync(Guid orderId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(NextApi(), $"orders/{orderId}"));
        request.Headers.Add("X-Api-Key", StorefrontKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            return ((int)response.StatusCode, null, false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        var root = document.RootElement;
        var qrReady = root.TryGetProperty("payment", out var payment) && payment.ValueKind == JsonValueKind.Object
                      && payment.TryGetProperty("qrPayload", out var qr) && qr.ValueKind == JsonValueKind.String
                      && qr.GetString() is { Length: > 0 };
        return (200, root.GetProperty("status").GetString(), qrReady);
    }

    /// <summary>POST /orders/{id}/cancel as the storefront; the status (202 is the promise that it ends Canceled).</summary>
    public async Task<int> CancelAsync(Guid orderId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(NextApi(), $"orders/{orderId}/cancel"));
        request.Headers.Add("X-Api-Key", StorefrontKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    public async Task PutItemAsync(string sku, int onHand, decimal price)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_apis()[0], $"items/{sku}"));
        request.Headers.Add("X-Api-Key", AdminKey);
        request.Content = new StringContent(
            $"{{\"name\":\"{sku}\",\"category\":\"bench\",\"price\":{price.ToString(System.Globalization.CultureInfo.InvariantCulture)},\"currency\":\"USD\",\"onHand\":{onHand}}}",
            Encoding.UTF8);
        request.Content.Headers.ContentType = Json;
        using var response = await _http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT /items/{sku}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose() => _http.Dispose();
}
