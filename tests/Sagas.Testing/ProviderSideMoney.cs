using System.Net.Http.Json;
using System.Text.Json;

namespace Sagas.Testing;

/// <summary>Money moved at the provider (the sandbox's provider API) that our side never asked for: reconciliation's cases.</summary>
public static class ProviderSideMoney
{
    /// <summary>
    /// A QR payment created straight at the provider for an order id we never placed (open <paramref name="expiresInSeconds"/>),
    /// paid by the customer. No order of ours awaits it, so neither the poll nor a webhook can tell the saga.
    /// </summary>
    public static async Task<(string OrderId, string ProviderReference)> CaptureForAnOrderWeNeverPlaced(this StackFixture stack,
        decimal amount, int expiresInSeconds = 3)
    {
        var orderId = Guid.NewGuid().ToString();
        using var provider = stack.SandboxClient();
        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/qr-payments")
        {
            Content = JsonContent.Create(new { merchantReference = orderId, amount, currency = "USD", expiresInSeconds }),
        };
        create.Headers.Add("Idempotency-Key", $"never-placed:{orderId}");
        using var created = await provider.SendAsync(create);
        created.EnsureSuccessStatusCode();
        var reference = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("providerReference").GetString()!;
        await stack.Pay(reference);
        return (orderId, reference);
    }

    /// <summary>A refund made straight at the provider.</summary>
    public static async Task RefundAtTheProvider(this StackFixture stack, string providerReference, decimal amount)
    {
        using var provider = stack.SandboxClient();
        using var refund = new HttpRequestMessage(HttpMethod.Post, $"/v1/qr-payments/{providerReference}/refunds")
        {
            Content = JsonContent.Create(new { amount }),
        };
        refund.Headers.Add("Idempotency-Key", $"by-hand:{providerReference}:refund");
        using var response = await provider.SendAsync(refund);
        response.EnsureSuccessStatusCode();
    }
}
