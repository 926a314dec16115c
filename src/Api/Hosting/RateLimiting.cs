using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Sagas.Api.Hosting;

/// <summary>
/// A token bucket per API key (per remote address for unauthenticated calls), from <c>RateLimiting</c>
/// configuration. The default (5,000 requests/s sustained, bursts of 10,000) is well above the Black Friday
/// figures of one storefront, so only a runaway client is throttled: 429 problem+json with Retry-After.
/// </summary>
public sealed class RateLimitingOptions
{
    public int TokensPerSecond { get; set; } = 5_000;
    public int Burst { get; set; } = 10_000;
}

public static class RateLimitingExtensions
{
    public static IServiceCollection AddPerClientRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("RateLimiting").Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var partition = context.Request.Headers.TryGetValue(ApiKeyAuthenticationHandler.Header, out var key) && key.Count == 1
                    ? "key:" + ApiKeyRegistry.ClientIdOf(key[0] ?? "")
                    : "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = Math.Max(1, options.TokensPerSecond / 10),
                    ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Status = 429, Title = "Too Many Requests", Detail = "This API key is over its request rate; retry after the indicated delay." },
                });
            };
        });
        return services;
    }
}
