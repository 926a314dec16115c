namespace Sagas.EndToEndTests.Support;

/// <summary>Support's failed-message list as the failed-message tests read it.</summary>
static class FailedMessageReads
{
    /// <summary><c>GET /support/failed-messages?{query}</c>'s items.</summary>
    public static async Task<List<JsonElement>> FailedMessages(this StackFixture stack, string query = "limit=200")
    {
        using var support = stack.Client(TestApiKeys.Support);
        var page = await support.GetFromJsonAsync<JsonElement>($"/support/failed-messages?{query}");
        return page.GetProperty("items").EnumerateArray().Select(i => i.Clone()).ToList();
    }

    /// <summary>The failed message of <paramref name="orderId"/> waiting for support; undefined when there is none.</summary>
    public static async Task<JsonElement> FailedMessageOf(this StackFixture stack, Guid orderId) =>
        (await stack.FailedMessages()).SingleOrDefault(f => f.GetProperty("orderId").ValueKind == JsonValueKind.String
                                                            && f.GetProperty("orderId").GetGuid() == orderId);

    /// <summary>One value read from the stack's database.</summary>
    public static async Task<T> Scalar<T>(this StackFixture stack, string sql)
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(stack.Database.ConnectionString);
        await using var command = db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
