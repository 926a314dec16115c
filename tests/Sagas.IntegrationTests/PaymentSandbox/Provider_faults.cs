using System.Diagnostics;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>Faults are scripted per sandbox, so every test starts from the default settings.</summary>
public sealed class Provider_faults(SandboxFixture sandbox) : WithDefaultSandboxSettings(sandbox)
{
    [Fact]
    public async Task An_error_rate_of_one_fails_every_provider_call_and_changes_nothing()
    {
        var order = Guid.NewGuid().ToString();
        var (paid, pending) = await Api.PaidAndPendingAsync(order);

        await Api.SettingsAsync(new { errorRate = 1.0 });
        var responses = new[]
        {
            await Api.CreateAsync("faulted-" + order, order),
            await Api.GetAsync(pending.ProviderReference),
            await Api.CancelAsync(pending.ProviderReference),
            await Api.RefundAsync(paid.ProviderReference, "faulted-refund-" + order, 1m),
        };
        // The simulation side stays usable while the provider API misbehaves.
        var ledgerDuringFaults = await Api.LedgerAsync(order);
        await Api.SettingsAsync(new { errorRate = 0.0 });

        foreach (var response in responses)
        {
            Assert.Contains(response.StatusCode, new[] { HttpStatusCode.InternalServerError, HttpStatusCode.ServiceUnavailable });
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(2, ledgerDuringFaults.Count);
        var ledger = await Api.LedgerAsync(order);
        Assert.Equal(["succeeded", "pending"], ledger.Select(p => p.Status));
        Assert.Empty(ledger[0].Refunds);
        // The failed create did not take the key: using it now creates the payment.
        Assert.Equal(HttpStatusCode.Created, (await Api.CreateAsync("faulted-" + order, order)).StatusCode);
        Assert.Equal(3, (await Api.LedgerAsync(order)).Count);
    }

    [Fact]
    public async Task Latency_delays_provider_calls_by_at_least_the_setting()
    {
        var payment = await Api.CreatePaymentAsync(Guid.NewGuid().ToString());
        var latency = TimeSpan.FromMilliseconds(300);

        await Api.SettingsAsync(new { latencyMs = (int)latency.TotalMilliseconds });
        var stopwatch = Stopwatch.StartNew();
        var response = await Api.GetAsync(payment.ProviderReference);
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Timers may fire a few milliseconds early against the stopwatch; 300 ms of added latency is far
        // beyond that and beyond what a loopback call without it takes.
        Assert.True(stopwatch.Elapsed >= latency - TimeSpan.FromMilliseconds(20), $"took {stopwatch.Elapsed}, latency is {latency}");
    }

    [Fact]
    public async Task Settings_read_back_as_set_and_partial_updates_keep_the_rest()
    {
        await Api.SettingsAsync(new { webhooks = "off", webhookDelayMs = 250, webhookDuplicates = 2, errorRate = 0.3, latencyMs = 0 });
        await Api.SettingsAsync(new { webhookDuplicates = 1 });

        var settings = await Api.Client.GetStringAsync("/sandbox/settings");

        Assert.Equal("""
            {"webhooks":"off","webhookDelayMs":250,"webhookDuplicates":1,"errorRate":0.3,"latencyMs":0,"refunds":"ok","cancels":"ok"}
            """, settings);
    }

    [Fact]
    public async Task Invalid_settings_are_refused_and_change_nothing()
    {
        var before = await Api.Client.GetStringAsync("/sandbox/settings");

        var problem = await SandboxApi.ProblemAsync(
            await Api.PutSettingsAsync(new
            {
                webhooks = "sometimes", errorRate = 1.5, latencyMs = -1, webhookDuplicates = 99, refunds = "never",
                cancels = "OK",
            }),
            HttpStatusCode.BadRequest);

        Assert.Equal(["cancels", "errorRate", "latencyMs", "refunds", "webhookDuplicates", "webhooks"],
            problem.Errors!.Keys.Order());
        Assert.Equal(before, await Api.Client.GetStringAsync("/sandbox/settings"));
    }
}
