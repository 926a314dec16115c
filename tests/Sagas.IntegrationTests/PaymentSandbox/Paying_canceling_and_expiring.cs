namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>The customer's side (pay, fail) against the provider's (cancel, expiry).</summary>
public sealed class Paying_canceling_and_expiring(SandboxFixture sandbox) : SandboxSpec(sandbox)
{
    [Fact]
    public async Task Paying_records_the_capture_in_status_and_ledger()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order, 25.00m);

        await Api.PaidAsync(payment.ProviderReference);

        var status = await Api.GetPaymentAsync(payment.ProviderReference);
        Assert.Equal(("succeeded", 25.00m), (status.Status, status.CapturedAmount));
        Assert.NotNull(status.PaidAt);
        var entry = Assert.Single(await Api.LedgerAsync(order));
        Assert.Equal((payment.ProviderReference, "succeeded", 25.00m, 25.00m),
            (entry.ProviderReference, entry.Status, entry.Amount, entry.CapturedAmount));
    }

    [Fact]
    public async Task Paying_a_different_amount_records_what_was_paid()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order, 25.00m);

        await Api.PaidAsync(payment.ProviderReference, 24.99m);

        var entry = Assert.Single(await Api.LedgerAsync(order));
        Assert.Equal((25.00m, 24.99m), (entry.Amount, entry.CapturedAmount));
    }

    [Fact]
    public async Task Paying_twice_is_refused_and_captures_once()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.PaidPaymentAsync(order);

        await SandboxApi.ProblemAsync(await Api.PayAsync(payment.ProviderReference), HttpStatusCode.Conflict);

        Assert.Equal(12.50m, Assert.Single(await Api.LedgerAsync(order)).CapturedAmount);
    }

    [Fact]
    public async Task Failing_a_payment_makes_it_failed_and_unpayable()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order);

        Assert.Equal(HttpStatusCode.OK, (await Api.FailAsync(payment.ProviderReference)).StatusCode);

        Assert.Equal("failed", (await Api.GetPaymentAsync(payment.ProviderReference)).Status);
        await SandboxApi.ProblemAsync(await Api.PayAsync(payment.ProviderReference), HttpStatusCode.Conflict);
        Assert.Null(Assert.Single(await Api.LedgerAsync(order)).CapturedAmount);
    }

    [Fact]
    public async Task Canceling_a_pending_payment_makes_it_unpayable_and_is_idempotent()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order);

        var canceled = await Api.CancelAsync(payment.ProviderReference);
        var again = await Api.CancelAsync(payment.ProviderReference);

        Assert.Equal(HttpStatusCode.OK, canceled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("canceled", (await again.Content.ReadFromJsonAsync<PaymentDto>())!.Status);
        await SandboxApi.ProblemAsync(await Api.PayAsync(payment.ProviderReference), HttpStatusCode.Conflict);
        Assert.Equal("canceled", Assert.Single(await Api.LedgerAsync(order)).Status);
    }

    [Fact]
    public async Task Canceling_a_paid_payment_is_refused()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.PaidPaymentAsync(order);

        await SandboxApi.ProblemAsync(await Api.CancelAsync(payment.ProviderReference), HttpStatusCode.Conflict);

        Assert.Equal("succeeded", Assert.Single(await Api.LedgerAsync(order)).Status);
    }

    [Fact]
    public async Task Paying_and_canceling_at_once_leaves_exactly_one_outcome()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order);

        var pay = Api.PayAsync(payment.ProviderReference);
        var cancel = Api.CancelAsync(payment.ProviderReference);
        var (paid, canceled) = ((await pay).StatusCode, (await cancel).StatusCode);

        var entry = Assert.Single(await Api.LedgerAsync(order));
        if (paid == HttpStatusCode.OK)
            Assert.Equal((HttpStatusCode.Conflict, "succeeded"), (canceled, entry.Status));
        else
            Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.OK, "canceled"), (paid, canceled, entry.Status));
    }

    [Fact]
    public async Task A_payment_past_its_expiry_reads_expired_and_cannot_be_paid()
    {
        var order = Guid.NewGuid().ToString();
        var payment = await Api.CreatePaymentAsync(order, expiresInSeconds: 30);

        Sandbox.Clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal("expired", (await Api.GetPaymentAsync(payment.ProviderReference)).Status);
        var problem = await SandboxApi.ProblemAsync(await Api.PayAsync(payment.ProviderReference), HttpStatusCode.Conflict);
        Assert.Contains("expired", problem.Detail);
        var entry = Assert.Single(await Api.LedgerAsync(order));
        Assert.Equal(("expired", null), (entry.Status, entry.CapturedAmount));
        // Canceling what has expired is already true: the Workers' cancel after their window succeeds.
        Assert.Equal(HttpStatusCode.OK, (await Api.CancelAsync(payment.ProviderReference)).StatusCode);
    }

    [Fact]
    public async Task A_customer_paying_before_the_deadline_is_booked_at_that_instant_even_when_the_call_arrives_after_it()
    {
        var order = Guid.NewGuid().ToString();
        var created = Sandbox.Clock.GetUtcNow();
        var payment = await Api.CreatePaymentAsync(order, expiresInSeconds: 30);
        Sandbox.Clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(HttpStatusCode.OK, (await Api.PayAsync(payment.ProviderReference, at: created.AddSeconds(29.9))).StatusCode);

        var status = await Api.GetPaymentAsync(payment.ProviderReference);
        Assert.Equal("succeeded", status.Status);
        Assert.Equal(created.AddSeconds(29.9).UtcTicks / 10, status.PaidAt!.Value.Ticks / 10); // kept to the microsecond
    }

    [Fact]
    public async Task A_customer_instant_after_the_deadline_or_on_a_withdrawn_payment_is_refused()
    {
        var created = Sandbox.Clock.GetUtcNow();
        var late = await Api.CreatePaymentAsync(Guid.NewGuid().ToString(), expiresInSeconds: 30);
        var withdrawn = await Api.CreatePaymentAsync(Guid.NewGuid().ToString(), expiresInSeconds: 30);
        await Api.CancelAsync(withdrawn.ProviderReference);
        Sandbox.Clock.Advance(TimeSpan.FromSeconds(31));

        await SandboxApi.ProblemAsync(await Api.PayAsync(late.ProviderReference, at: created.AddSeconds(30.5)), HttpStatusCode.Conflict);
        // Withdrawn before the call arrived: an earlier instant does not bring it back.
        await SandboxApi.ProblemAsync(await Api.PayAsync(withdrawn.ProviderReference, at: created.AddSeconds(1)), HttpStatusCode.Conflict);
        Assert.Equal("canceled", (await Api.GetPaymentAsync(withdrawn.ProviderReference)).Status);
    }

    [Fact]
    public async Task Unknown_payments_are_404_problems()
    {
        var unknown = Guid.NewGuid().ToString();

        await SandboxApi.ProblemAsync(await Api.GetAsync(unknown), HttpStatusCode.NotFound);
        await SandboxApi.ProblemAsync(await Api.CancelAsync(unknown), HttpStatusCode.NotFound);
        await SandboxApi.ProblemAsync(await Api.PayAsync(unknown), HttpStatusCode.NotFound);
        await SandboxApi.ProblemAsync(await Api.FailAsync(unknown), HttpStatusCode.NotFound);
        await SandboxApi.ProblemAsync(await Api.RefundAsync(unknown, "r", 1m), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_ledger_of_an_unknown_reference_is_empty()
    {
        Assert.Empty(await Api.LedgerAsync(Guid.NewGuid().ToString()));
    }
}
