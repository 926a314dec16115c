using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Sagas.BrowserTests.SupportConsole;

/// <summary>At 3 a.m.: what failed for good, grouped; a refused refund retried once refunds work again, a poison message discarded with a reason.</summary>
[Collection(BrowserCollection.Name)]
public sealed class Handling_failed_messages(BrowserStack stack, ITestOutputHelper output)
{
    [Fact]
    public async Task A_refused_refund_is_retried_and_a_poison_message_discarded_each_after_a_confirmation()
    {
        var (orderId, reference) = await stack.Services.PlaceOrderAwaitingPayment(("MOUSE-1", 1));
        await stack.Services.Pay(reference);
        await stack.Services.OrderIn(orderId, "Placed");
        await PublishRaw("release-stock", "poison " + Guid.NewGuid());
        await stack.Services.Settings(new { refunds = "reject" });
        try
        {
            await stack.Services.Cancel(orderId, TestApiKeys.Support);
            await stack.Services.OrderWhen(orderId, o => o.GetProperty("attention").ValueKind == JsonValueKind.Object, "refund refused");
        }
        finally
        {
            await stack.Services.Settings(new { refunds = "ok" });
        }

        // Both drained from their error queues before the page is opened (the list is read when the page opens).
        using var support = stack.Services.Client(TestApiKeys.Support);
        await Eventually.Until(async () =>
        {
            var items = (await support.GetFromJsonAsync<JsonElement>("/support/failed-messages?limit=200")).GetProperty("items").EnumerateArray().ToList();
            return items.Any(i => i.GetProperty("orderId").ValueKind == JsonValueKind.String && i.GetProperty("orderId").GetGuid() == orderId)
                   && items.Any(i => i.GetProperty("queue").GetString() == "release-stock");
        }, because: "the refused refund and the poison message listed");

        await using var browser = await stack.OpenAsync(this, output);
        var page = browser.Page;
        await page.SignInAsync(stack, route: "#/failed");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Failed messages" })).ToBeVisibleAsync();
        // The header counts what waits (other tests of the shared stack may add to it) and links here.
        await Expect(page.Locator("#stats-failed")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]+ waiting$"));
        var refund = page.GetByRole(AriaRole.Row).Filter(new() { HasText = orderId.ToString() });
        var poison = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "release-stock" });
        await Expect(refund).ToContainTextAsync("RefundPayment");
        await Expect(poison).ToContainTextAsync("unknown");
        await Expect(page.Locator("#failed-groups")).ToContainTextAsync("RefundPayment — PaymentProviderRejectedException");
        await browser.PublishScreenshotAsync("support-console-failed-messages");

        var dialog = page.GetByRole(AriaRole.Dialog);
        await poison.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, discard it" }).ClickAsync();
        await Expect(dialog).ToContainTextAsync("A reason is required.");
        await dialog.GetByLabel("Reason").FillAsync("published by hand, not a message");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, discard it" }).ClickAsync();
        await Expect(poison).ToHaveCountAsync(0);

        await refund.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, retry it" }).ClickAsync();
        await Expect(refund).ToHaveCountAsync(0);
        await stack.Services.OrderIn(orderId, "Canceled");
        var money = await stack.Services.Money(orderId);
        Assert.Equal((1, 1), (money.Captured, money.Refunds));
    }

    async Task PublishRaw(string queue, string body)
    {
        using var management = TemporaryVirtualHost.CreateManagementClient(stack.Services.VirtualHost.Settings);
        var publish = JsonSerializer.Serialize(new
        {
            properties = new { content_type = "application/vnd.masstransit+json", delivery_mode = 2 },
            routing_key = queue,
            payload = body,
            payload_encoding = "string",
        });
        (await management.PostAsync($"exchanges/{Uri.EscapeDataString(stack.Services.VirtualHost.Name)}/amq.default/publish",
            new StringContent(publish, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
    }
}
