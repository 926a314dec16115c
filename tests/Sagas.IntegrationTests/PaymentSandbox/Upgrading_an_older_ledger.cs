using Npgsql;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// The sandbox migrates its own schema at start-up. A ledger written before <c>payments.updated_at</c>
/// existed gets the column filled in from what it recorded, to the same values the running sandbox keeps.
/// </summary>
public sealed class Upgrading_an_older_ledger(SandboxFixture sandbox) : SandboxSpec(sandbox)
{
    [Fact]
    public async Task A_ledger_without_updated_at_gets_it_filled_in_as_the_sandbox_would_have_kept_it()
    {
        var order = Guid.NewGuid().ToString();
        var pending = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        var expiring = await Api.CreatePaymentAsync(order, expiresInSeconds: 30);
        var paid = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        var refunded = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        var canceled = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        var failed = await Api.CreatePaymentAsync(order, expiresInSeconds: 3600);
        Sandbox.Clock.Advance(TimeSpan.FromMinutes(1));
        await Api.PaidAsync(paid.ProviderReference);
        await Api.PaidAsync(refunded.ProviderReference);
        Assert.Equal(HttpStatusCode.OK, (await Api.CancelAsync(canceled.ProviderReference)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Api.FailAsync(failed.ProviderReference)).StatusCode);
        Sandbox.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Created,
            (await Api.RefundAsync(refunded.ProviderReference, "refund-" + order, 2m)).StatusCode);
        // Paying writes the expiry down (as of expires_at, a minute and a half ago).
        Assert.Equal(HttpStatusCode.Conflict, (await Api.PayAsync(expiring.ProviderReference)).StatusCode);
        Sandbox.Clock.Advance(TimeSpan.FromMinutes(1));
        var kept = await UpdatedAtAsync();

        await ExecuteAsync("""
            DROP INDEX sandbox.payments_updated_at_idx, sandbox.payments_pending_expires_at_idx;
            ALTER TABLE sandbox.payments DROP COLUMN updated_at;
            """);
        await Sandbox.RestartAsync();
        var filledIn = await UpdatedAtAsync();

        Assert.Equal(6, kept.Count);
        Assert.Equal(kept, filledIn);
        Assert.Equal("expired", (await Sandbox.Api.GetPaymentAsync(expiring.ProviderReference)).Status);
        Assert.Equal(kept[expiring.ProviderReference], (await Sandbox.Api.GetPaymentAsync(expiring.ProviderReference)).ExpiresAt);
        Assert.Equal(kept[pending.ProviderReference], (await Sandbox.Api.GetPaymentAsync(pending.ProviderReference)).UpdatedAt);
        Assert.Equal(1, await ScalarAsync("""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = 'sandbox' AND table_name = 'payments' AND column_name = 'updated_at' AND is_nullable = 'NO'
            """));
        Assert.Equal(2, await ScalarAsync("""
            SELECT count(*) FROM pg_indexes
            WHERE schemaname = 'sandbox' AND indexname IN ('payments_updated_at_idx', 'payments_pending_expires_at_idx')
            """));
    }

    async Task<Dictionary<string, DateTime>> UpdatedAtAsync()
    {
        await using var connection = new NpgsqlConnection(Sandbox.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT provider_reference, updated_at FROM sandbox.payments", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new Dictionary<string, DateTime>();
        while (await reader.ReadAsync())
            values[reader.GetString(0)] = reader.GetDateTime(1);
        return values;
    }

    async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Sandbox.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Sandbox.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
