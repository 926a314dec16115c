namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// Settings <c>refunds</c> and <c>cancels</c> set to <c>reject</c>: the provider refuses with 422 and
/// records nothing, so the same request succeeds normally once the setting is back to <c>ok</c>.
/// </summary>
public sealed class Rejecting_refunds_and_cancels(SandboxFixture sandbox) : WithDefaultSandboxSettings(sandbox)
{
    [Fact]
    public async Task A_rejected_refund_records_nothing_and_its_key_refunds_once_when_refunds_are_back()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.PaidPaymentAsync(order, 20m);
        var key = $"order:{order}:refund";

        await Api.SettingsAsync(new { refunds = "reject" });
        var rejected = await SandboxApi.ProblemAsync(await Api.RefundAsync(payment.ProviderReference, key, 20m),
            (HttpStatusCode)422);
        var rejectedAgain = await Api.RefundAsync(payment.ProviderReference, key, 20m);
        var settingsWhileRejecting = await Api.Client.GetFromJsonAsync<Dictionary<string, object>>("/sandbox/settings");
        var ledgerWhileRejecting = Assert.Single(await Api.LedgerAsync(order));
        await Api.SettingsAsync(new { refunds = "ok" });

        Assert.Contains("refunds", rejected.Detail);
        Assert.Equal((HttpStatusCode)422, rejectedAgain.StatusCode);
        Assert.Equal("reject", settingsWhileRejecting!["refunds"].ToString());
        Assert.Empty(ledgerWhileRejecting.Refunds);
        Assert.Equal("succeeded", ledgerWhileRejecting.Status);

        var refunded = await Api.RefundAsync(payment.ProviderReference, key, 20m);
        var replayed = await Api.RefundAsync(payment.ProviderReference, key, 20m);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (refunded.StatusCode, replayed.StatusCode));
        var refund = (await refunded.Content.ReadFromJsonAsync<RefundDto>())!;
        Assert.Equal(refund, await replayed.Content.ReadFromJsonAsync<RefundDto>());
        Assert.Equal(refund, Assert.Single(Assert.Single(await Api.LedgerAsync(order)).Refunds));
    }

    [Fact]
    public async Task A_rejected_cancel_leaves_the_payment_pending_and_payable_and_cancels_when_cancels_are_back()
    {
        var order = Guid.NewGuid().ToString();
        var toCancel = await Api.CreatePaymentAsync(order);
        var toPay = await Api.CreatePaymentAsync(order);

        await Api.SettingsAsync(new { cancels = "reject" });
        await SandboxApi.ProblemAsync(await Api.CancelAsync(toCancel.ProviderReference), (HttpStatusCode)422);
        await SandboxApi.ProblemAsync(await Api.CancelAsync(toPay.ProviderReference), (HttpStatusCode)422);
        var statusWhileRejecting = (await Api.GetPaymentAsync(toCancel.ProviderReference)).Status;
        // Only cancels are refused: the customer can still pay.
        await Api.PaidAsync(toPay.ProviderReference);
        await Api.SettingsAsync(new { cancels = "ok" });

        Assert.Equal("pending", statusWhileRejecting);
        var canceled = await Api.CancelAsync(toCancel.ProviderReference);
        Assert.Equal(HttpStatusCode.OK, canceled.StatusCode);
        Assert.Equal("canceled", (await canceled.Content.ReadFromJsonAsync<PaymentDto>())!.Status);
        var ledger = (await Api.LedgerAsync(order)).ToDictionary(p => p.ProviderReference, p => p.Status);
        Assert.Equal("canceled", ledger[toCancel.ProviderReference]);
        Assert.Equal("succeeded", ledger[toPay.ProviderReference]);
    }

    [Fact]
    public async Task Rejecting_refunds_leaves_cancels_alone_and_the_other_way_round()
    {
        var order = Guid.NewGuid().ToString();
        var (paid, pending) = await Api.PaidAndPendingAsync(order);

        await Api.SettingsAsync(new { refunds = "reject" });
        var cancelWhileRefundsRejected = await Api.CancelAsync(pending.ProviderReference);
        await Api.SettingsAsync(new { refunds = "ok", cancels = "reject" });
        var refundWhileCancelsRejected = await Api.RefundAsync(paid.ProviderReference, "refund-" + order, 1m);

        Assert.Equal(HttpStatusCode.OK, cancelWhileRefundsRejected.StatusCode);
        Assert.Equal(HttpStatusCode.Created, refundWhileCancelsRejected.StatusCode);
    }
}
