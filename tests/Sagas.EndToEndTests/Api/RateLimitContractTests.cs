using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Sagas.EndToEndTests.Api;

/// <summary>
/// Issue 16: rate limits count the client a valid key names; callers without a valid key share a small bucket per
/// address (<c>RateLimiting:AnonymousPerIp*</c>, 10/s, bursts of 100 by default); webhooks have buckets of their own.
/// An Api of its own, so the buckets these tests empty are nobody else's.
/// </summary>
public sealed class RateLimitContractTests(RateLimitContractTests.Fixture fixture) : IClassFixture<RateLimitContractTests.Fixture>
{
    public sealed class Fixture : ApiFixture;

    const int AnonymousBurst = 100;
    const int AnonymousPerSecond = 10;

    [Fact]
    public async Task A_thousand_requests_with_random_keys_share_one_anonymous_bucket_and_a_valid_key_is_unaffected()
    {
        using var client = fixture.Client();
        var anonymous = new ConcurrentBag<HttpResponseMessage>();
        var storefront = new ConcurrentBag<HttpStatusCode>();
        var webhooks = new ConcurrentBag<HttpStatusCode>();
        var probes = new ConcurrentBag<HttpStatusCode>();
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, 1_300), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/items/RATE-1");
            switch (i % 13)
            {
                case 0:
                    // A storefront with a valid key, in the middle of it all.
                    request.Headers.Add("X-Api-Key", ApiFixture.StorefrontKey);
                    using (var response = await client.SendAsync(request, cancellationToken))
                        storefront.Add(response.StatusCode);
                    return;
                case 3:
                    // A load balancer's health probe from the same address: a bucket of its own, never 429.
                    using (var response = await client.GetAsync("/health/live", cancellationToken))
                        probes.Add(response.StatusCode);
                    return;
                case 6:
                    // The provider's webhook (unsigned here: 401, but counted in a bucket of its own).
                    using (var webhook = new HttpRequestMessage(HttpMethod.Post, "/webhooks/payments") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
                    using (var response = await client.SendAsync(webhook, cancellationToken))
                        webhooks.Add(response.StatusCode);
                    return;
                default:
                    // A key nobody configured, different every time, and a forwarded address no configured proxy vouches for.
                    request.Headers.Add("X-Api-Key", Guid.NewGuid().ToString("N"));
                    request.Headers.Add("X-Forwarded-For", $"203.0.113.{i % 250}");
                    anonymous.Add(await client.SendAsync(request, cancellationToken));
                    return;
            }
        });
        var elapsed = clock.Elapsed;

        Assert.Equal(1_000, anonymous.Count);
        var statuses = anonymous.GroupBy(r => r.StatusCode).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses.Keys.Order());
        // One bucket: at most its burst plus what it refilled while the requests ran got through.
        var allowed = AnonymousBurst + AnonymousPerSecond * (int)Math.Ceiling(elapsed.TotalSeconds) + AnonymousPerSecond;
        Assert.True(statuses[HttpStatusCode.Unauthorized] <= allowed,
            $"{statuses[HttpStatusCode.Unauthorized]} of 1,000 random keys were let through to authentication in {elapsed.TotalSeconds:0.0} s (one bucket allows {allowed})");
        foreach (var refused in anonymous.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).Take(20))
        {
            var problem = await refused.AssertProblem(HttpStatusCode.TooManyRequests);
            Assert.Contains("without a valid API key", problem.GetProperty("detail").GetString());
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After in whole seconds");
        }

        Assert.Equal(100, storefront.Count);
        Assert.All(storefront, status => Assert.Equal(HttpStatusCode.NotFound, status));
        Assert.Equal(100, webhooks.Count);
        Assert.All(webhooks, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Equal(100, probes.Count);
        Assert.All(probes, status => Assert.Equal(HttpStatusCode.OK, status));
        foreach (var response in anonymous)
            response.Dispose();
    }
}

/// <summary>Behind a configured proxy, each client address the proxy forwards has a bucket of its own.</summary>
public sealed class ForwardedAddressContractTests(ForwardedAddressContractTests.Fixture fixture) : IClassFixture<ForwardedAddressContractTests.Fixture>
{
    public sealed class Fixture : ApiFixture
    {
        // The tests connect from loopback: here that is the proxy.
        protected override IDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1",
            ["ForwardedHeaders__KnownProxies__1"] = "::1",
        };
    }

    [Fact]
    public async Task Addresses_forwarded_by_a_configured_proxy_are_counted_apart()
    {
        using var client = fixture.Client();
        async Task<List<HttpStatusCode>> From(string address, int requests)
        {
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < requests; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/items/RATE-1");
                request.Headers.Add("X-Forwarded-For", address);
                using var response = await client.SendAsync(request);
                statuses.Add(response.StatusCode);
            }

            return statuses;
        }

        var first = await From("198.51.100.7", 300);
        var second = await From("198.51.100.8", 20);

        Assert.Contains(HttpStatusCode.TooManyRequests, first);
        Assert.All(second, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
    }
}
