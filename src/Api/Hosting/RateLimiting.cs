using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Sagas.Observability;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Hosting;

/// <summary>
/// <c>RateLimiting</c> configuration: token buckets for four kinds of caller. A client with a valid key gets a bucket
/// of its own (5,000 requests/s sustained, bursts of 10,000: well above one storefront's Black Friday figures, so only
/// a runaway client is throttled). Callers without a valid key — none, or one that is not configured — share a small
/// bucket per remote address (probes and the console's page need little). The provider's webhooks get their own
/// bucket per remote address, so neither a flood of bad keys nor a busy storefront can crowd them out; so do the health
/// probes (<c>/health/*</c>): a load balancer that shares its address with a flood of keyless requests (no proxy
/// configured, or the flood coming through it) must not read 429 as "unready" and take every instance out of rotation.
/// </summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public int TokensPerSecond { get; set; } = 5_000;
    public int Burst { get; set; } = 10_000;
    public int AnonymousPerIpTokensPerSecond { get; set; } = 10;
    public int AnonymousPerIpBurst { get; set; } = 100;
    public int WebhooksPerIpTokensPerSecond { get; set; } = 1_000;
    public int WebhooksPerIpBurst { get; set; } = 5_000;
    public int ProbesPerIpTokensPerSecond { get; set; } = 50;
    public int ProbesPerIpBurst { get; set; } = 200;

    public IEnumerable<string> Problems()
    {
        foreach (var (name, value) in new[]
                 {
                     (nameof(TokensPerSecond), TokensPerSecond), (nameof(Burst), Burst),
                     (nameof(AnonymousPerIpTokensPerSecond), AnonymousPerIpTokensPerSecond), (nameof(AnonymousPerIpBurst), AnonymousPerIpBurst),
                     (nameof(WebhooksPerIpTokensPerSecond), WebhooksPerIpTokensPerSecond), (nameof(WebhooksPerIpBurst), WebhooksPerIpBurst),
                     (nameof(ProbesPerIpTokensPerSecond), ProbesPerIpTokensPerSecond), (nameof(ProbesPerIpBurst), ProbesPerIpBurst),
                 })
            if (value < 1)
                yield return $"{Section}:{name} must be at least 1 (is {value})";
    }
}

/// <summary>
/// Runs after authentication: the partition is the client a valid key names (its client id), never the raw
/// <c>X-Api-Key</c> header, so a caller inventing keys gets no fresh bucket per key — it shares its address's anonymous
/// bucket. Addresses are the connection's, or the <c>X-Forwarded-For</c> entry a configured proxy added
/// (<see cref="TrustedProxies"/>); an IPv6 caller is counted by its /64, which one host can fill with addresses.
/// Beyond a bucket: 429 problem+json with <c>Retry-After</c>.
/// </summary>
public static class RateLimitingExtensions
{
    enum Caller { Client, Anonymous, Webhook, Probe }

    readonly record struct Partition(Caller Caller, string Key);

    public static IServiceCollection AddPerClientRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitingOptions>().Bind(configuration.GetSection(RateLimitingOptions.Section))
            .ValidateProblems(o => o.Problems());
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>((limiter, options) =>
        {
            var limits = options.Value;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, Partition>(context =>
                RateLimitPartition.GetTokenBucketLimiter(PartitionOf(context), partition => partition.Caller switch
                {
                    Caller.Client => Bucket(limits.TokensPerSecond, limits.Burst),
                    Caller.Webhook => Bucket(limits.WebhooksPerIpTokensPerSecond, limits.WebhooksPerIpBurst),
                    Caller.Probe => Bucket(limits.ProbesPerIpTokensPerSecond, limits.ProbesPerIpBurst),
                    _ => Bucket(limits.AnonymousPerIpTokensPerSecond, limits.AnonymousPerIpBurst),
                }));
            limiter.OnRejected = Reject;
        });
        return services;
    }

    static Partition PartitionOf(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/webhooks"))
            return new Partition(Caller.Webhook, AddressOf(context.Connection.RemoteIpAddress));
        if (context.Request.Path.StartsWithSegments("/health"))
            return new Partition(Caller.Probe, AddressOf(context.Connection.RemoteIpAddress));
        return context.User.Identity?.IsAuthenticated == true
            ? new Partition(Caller.Client, context.User.ClientId())
            : new Partition(Caller.Anonymous, AddressOf(context.Connection.RemoteIpAddress));
    }

    static string AddressOf(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    // Refilled every 100 ms rather than once a second, so a throttled client is not let through in bursts.
    static TokenBucketRateLimiterOptions Bucket(int tokensPerSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = Math.Max(1, tokensPerSecond / 10),
        ReplenishmentPeriod = TimeSpan.FromMilliseconds(tokensPerSecond >= 10 ? 100 : 1000.0 / tokensPerSecond),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    static async ValueTask Reject(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = Problems.Types.TooManyRequests,
                Title = Problems.Title(StatusCodes.Status429TooManyRequests),
                Detail = PartitionOf(http).Caller switch
                {
                    Caller.Client => "This API key is over its request rate; retry after the indicated delay.",
                    Caller.Webhook => "Too many webhook deliveries from this address; retry after the indicated delay.",
                    _ => "Too many requests without a valid API key from this address; retry after the indicated delay.",
                },
            },
        });
    }
}
