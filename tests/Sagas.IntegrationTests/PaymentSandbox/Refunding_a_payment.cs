namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Refunding_a_payment(SandboxFixture sandbox) : SandboxSpec(sandbox)
{
    async Task<(string Order, string Reference)> PaidPaymentAsync(decimal amount = 12.50m)
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.PaidPaymentAsync(order, amount);
        return (order, payment.ProviderReference);
    }

    [Fact]
    public async Task Should_answer_the_same_refund_again_for_the_same_key()
    {
        var (order, reference) = await PaidPaymentAsync();

        var first = await Api.RefundAsync(reference, $"order:{order}:refund", 12.50m);
        var again = await Api.RefundAsync(reference, $"order:{order}:refund", 12.50m);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (first.StatusCode, again.StatusCode));
        var refund = (await first.Content.ReadFromJsonAsync<RefundDto>())!;
        Assert.Equal("succeeded", refund.Status);
        Assert.Equal(refund.RefundId, (await again.Content.ReadFromJsonAsync<RefundDto>())!.RefundId);
        Assert.Equal(refund, Assert.Single(Assert.Single(await Api.LedgerAsync(order)).Refunds));
    }

    [Fact]
    public async Task Should_refund_once_for_parallel_requests_with_one_key()
    {
        var (order, reference) = await PaidPaymentAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(_ => Api.RefundAsync(reference, $"order:{order}:refund", 5m)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Single(Assert.Single(await Api.LedgerAsync(order)).Refunds);
    }

    [Fact]
    public async Task Should_refuse_refunds_beyond_the_captured_amount()
    {
        var (order, reference) = await PaidPaymentAsync(12.50m);
        Assert.Equal(HttpStatusCode.Created, (await Api.RefundAsync(reference, "part-1-" + order, 10m)).StatusCode);

        await SandboxApi.ProblemAsync(await Api.RefundAsync(reference, "part-2-" + order, 2.51m), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Created, (await Api.RefundAsync(reference, "part-3-" + order, 2.50m)).StatusCode);

        Assert.Equal([10m, 2.50m], Assert.Single(await Api.LedgerAsync(order)).Refunds.Select(r => r.Amount));
    }

    [Fact]
    public async Task Should_never_refund_more_than_captured_under_concurrent_refunds()
    {
        var (order, reference) = await PaidPaymentAsync(12.50m);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => Api.RefundAsync(reference, $"{order}:refund:{i}", 3m)));

        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(6, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(12m, Assert.Single(await Api.LedgerAsync(order)).Refunds.Sum(r => r.Amount));
    }

    [Fact]
    public async Task Should_refuse_a_refund_of_an_unpaid_payment()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order);

        await SandboxApi.ProblemAsync(await Api.RefundAsync(payment.ProviderReference, "refund-" + order, 1m),
            HttpStatusCode.Conflict);

        Assert.Empty(Assert.Single(await Api.LedgerAsync(order)).Refunds);
    }

    [Fact]
    public async Task Should_refuse_the_same_key_for_another_amount_or_payment()
    {
        var (order, reference) = await PaidPaymentAsync();
        var (otherOrder, otherReference) = await PaidPaymentAsync();
        await Api.RefundAsync(reference, "refund-" + order, 5m);

        await SandboxApi.ProblemAsync(await Api.RefundAsync(reference, "refund-" + order, 6m), HttpStatusCode.Conflict);
        await SandboxApi.ProblemAsync(await Api.RefundAsync(otherReference, "refund-" + order, 5m), HttpStatusCode.Conflict);

        Assert.Single(Assert.Single(await Api.LedgerAsync(order)).Refunds);
        Assert.Empty(Assert.Single(await Api.LedgerAsync(otherOrder)).Refunds);
    }

    [Fact]
    public async Task Should_require_an_idempotency_key_and_a_valid_amount()
    {
        var (order, reference) = await PaidPaymentAsync();

        var noKey = await SandboxApi.ProblemAsync(await Api.RefundAsync(reference, null, 1m), HttpStatusCode.BadRequest);
        var badAmount = await SandboxApi.ProblemAsync(await Api.RefundAsync(reference, "r-" + order, -1m),
            HttpStatusCode.BadRequest);

        Assert.Contains("Idempotency-Key", noKey.Errors!.Keys);
        Assert.Contains("amount", badAmount.Errors!.Keys);
        Assert.Empty(Assert.Single(await Api.LedgerAsync(order)).Refunds);
    }
}
