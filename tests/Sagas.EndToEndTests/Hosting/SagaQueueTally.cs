using System.Text;

namespace Sagas.EndToEndTests.Hosting;

/// <summary>
/// What reached the order saga's queue (<c>order-state</c>, which the Api declares; no Workers consume it here): each
/// read takes every message waiting there (through the management API, acknowledged, so the next read sees only new
/// ones) and counts, per order, the message ids it arrived under and how many copies of each.
/// </summary>
public sealed class SagaQueueTally(InfrastructureSettings broker, string virtualHost = "/") : IDisposable
{
    // Sagas.Contracts.Ordering.OrderSagaQueue.Name; the end-to-end tests reference no project of the system.
    const string Queue = "order-state";

    readonly HttpClient _management = TemporaryVirtualHost.CreateManagementClient(broker);
    readonly Dictionary<Guid, Dictionary<Guid, int>> _copies = [];

    /// <summary>Orders seen at least once.</summary>
    public int Orders => _copies.Count;

    /// <summary>Messages that arrived more than once (the same message id again), over all orders.</summary>
    public int ExtraCopies => _copies.Values.Sum(ids => ids.Values.Sum(n => n - 1));

    public bool Has(Guid orderId) => _copies.ContainsKey(orderId);

    /// <summary>Orders that arrived as more than one message (different message ids): a consumer's inbox would not merge those.</summary>
    public IReadOnlyList<Guid> OrdersSentAsSeveralMessages => _copies.Where(x => x.Value.Count > 1).Select(x => x.Key).ToList();

    /// <summary>Takes what waits in the queue now; false while the broker does not answer.</summary>
    public async Task<bool> ReadAsync()
    {
        try
        {
            while (true)
            {
                using var response = await _management.PostAsync($"queues/{Uri.EscapeDataString(virtualHost)}/{Queue}/get",
                    new StringContent("""{"count":1000,"ackmode":"ack_requeue_false","encoding":"auto","truncate":1000000}""",
                        Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode)
                    return false;
                using var messages = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (messages.RootElement.GetArrayLength() == 0)
                    return true;
                foreach (var message in messages.RootElement.EnumerateArray())
                    Count(message.GetProperty("payload").GetString()!);
            }
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    void Count(string payload)
    {
        // MassTransit's JSON envelope: { "messageId": ..., "message": { "orderId": ... } }.
        using var envelope = JsonDocument.Parse(payload);
        var messageId = envelope.RootElement.GetProperty("messageId").GetGuid();
        var orderId = envelope.RootElement.GetProperty("message").GetProperty("orderId").GetGuid();
        var ids = _copies.TryGetValue(orderId, out var known) ? known : _copies[orderId] = [];
        ids[messageId] = ids.GetValueOrDefault(messageId) + 1;
    }

    public void Dispose() => _management.Dispose();
}
