using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sagas.Testing;

namespace Sagas.EndToEndTests.Support;

/// <summary>
/// The Api with <c>ConnectionStrings:PostgresReadOnly</c> pointing at a streaming standby (issue 17, "Read routing"): while
/// the standby's replay is paused, support's list shows the standby's older view, an order accepted a moment ago is still
/// found by its status read and its timeline (they fall back to the primary), and the lag gauge says how far behind the
/// standby is.
/// </summary>
public sealed class Read_routing(Read_routing.Fixture fixture) : IClassFixture<Read_routing.Fixture>
{
    const string Customer = "read-routing";

    [Fact]
    public async Task Support_reads_come_from_the_standby_and_an_order_just_accepted_is_never_a_404()
    {
        var stack = fixture.Stack;
        await stack.StockItem("ROUTE-1", 100);
        var replayed = await stack.PlaceOrderFor(Customer, ("ROUTE-1", 1));
        await Eventually.Until(ListedAsync, ids => ids.Contains(replayed), TimeSpan.FromSeconds(60), "the standby replayed the first order");

        await fixture.Standby.PauseReplayAsync();
        try
        {
            var fresh = await stack.PlaceOrderFor(Customer, ("ROUTE-1", 1));

            // Right after its 202: the standby has not replayed it, the primary answers.
            using var storefront = stack.Client(TestApiKeys.Storefront);
            using var status = await storefront.GetAsync($"/orders/{fresh}");
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal(fresh, (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid());
            using var support = stack.Client(TestApiKeys.Support);
            using var timeline = await support.GetAsync($"/orders/{fresh}/timeline");
            Assert.Equal(HttpStatusCode.OK, timeline.StatusCode);

            // The list is the standby's: the first order is there, the one its replay has not reached is not.
            var listed = await ListedAsync();
            Assert.Contains(replayed, listed);
            Assert.DoesNotContain(fresh, listed);

            // The standby holds WAL it has not replayed: the lag shows.
            await Eventually.Until(LagAsync, lag => lag > 0, TimeSpan.FromSeconds(30), "sagas_db_replica_lag_seconds above 0 while replay is paused");

            await fixture.Standby.ResumeReplayAsync();
            await Eventually.Until(ListedAsync, ids => ids.Contains(fresh), TimeSpan.FromSeconds(60), "the standby replayed the fresh order");
        }
        finally
        {
            await fixture.Standby.ResumeReplayAsync();
        }

        await Eventually.Until(LagAsync, lag => lag == 0, TimeSpan.FromSeconds(60), "sagas_db_replica_lag_seconds back to 0 once replayed");
    }

    async Task<List<Guid>> ListedAsync()
    {
        using var support = fixture.Stack.Client(TestApiKeys.Support);
        var page = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={Customer}&limit=50");
        return page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderId").GetGuid()).ToList();
    }

    /// <summary>The Api's <c>sagas_db_replica_lag_seconds</c> as Prometheus scrapes it; null while it has no value.</summary>
    async Task<double?> LagAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.Stack.Api.BaseAddress };
        var line = (await http.GetStringAsync("/metrics")).Split('\n')
            .FirstOrDefault(l => l.StartsWith("sagas_db_replica_lag_seconds", StringComparison.Ordinal));
        // name{labels} value [timestamp]
        return line is null ? null : double.Parse(line[(line.IndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>A standby of the shared PostgreSQL first, then the stack with its Api reading from it.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public PostgresStandby Standby { get; private set; } = null!;
        public StackFixture Stack { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Standby = await PostgresStandby.StartAsync();
            Stack = new StackOnStandby(Standby);
            await Stack.InitializeAsync();
        }

        public async Task DisposeAsync()
        {
            if (Stack is not null)
                await Stack.DisposeAsync();
            await Standby.DisposeAsync();
        }
    }

    sealed class StackOnStandby(PostgresStandby standby) : StackFixture
    {
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["ConnectionStrings__PostgresReadOnly"] = standby.ReadOnlyConnectionString(Database),
            ["Metrics__DatabaseRefresh"] = "00:00:00.200",
        };
    }
}
