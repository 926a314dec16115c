using System.Text;
using Sagas.Api.Webhooks;
using Sagas.Testing;

namespace Sagas.UnitTests.Webhooks;

public class WebhookSignatureTests
{
    static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"eventId":"evt-1","type":"payment.succeeded"}""");
    readonly WebhookSignature _signature = new("s3cret", TimeSpan.FromSeconds(300));

    static string Independent(string secret, long t, byte[] body) => ProviderSignature.Header(secret, t, body);

    [Fact]
    public void A_signature_computed_as_the_contract_describes_is_valid()
    {
        var header = Independent("s3cret", Now.ToUnixTimeSeconds(), Body);

        Assert.Equal(WebhookSignature.Verdict.Valid, _signature.Verify(header, Body, Now));
    }

    [Fact]
    public void Another_secret_or_a_changed_body_is_a_mismatch()
    {
        var t = Now.ToUnixTimeSeconds();
        Assert.Equal(WebhookSignature.Verdict.Mismatch, _signature.Verify(Independent("other", t, Body), Body, Now));
        Assert.Equal(WebhookSignature.Verdict.Mismatch,
            _signature.Verify(Independent("s3cret", t, Body), [.. Body, (byte)' '], Now));
    }

    [Theory]
    [InlineData(-301, WebhookSignature.Verdict.Stale)]
    [InlineData(-300, WebhookSignature.Verdict.Valid)]
    [InlineData(300, WebhookSignature.Verdict.Valid)]
    [InlineData(301, WebhookSignature.Verdict.Stale)]
    public void The_timestamp_must_be_within_300_seconds_of_now(int offsetSeconds, WebhookSignature.Verdict expected)
    {
        var header = Independent("s3cret", Now.ToUnixTimeSeconds() + offsetSeconds, Body);
        Assert.Equal(expected, _signature.Verify(header, Body, Now));
    }

    [Theory]
    [InlineData(null, WebhookSignature.Verdict.Missing)]
    [InlineData("", WebhookSignature.Verdict.Missing)]
    [InlineData("garbage", WebhookSignature.Verdict.Malformed)]
    [InlineData("t=abc,v1=00", WebhookSignature.Verdict.Malformed)]
    [InlineData("t=1800000000", WebhookSignature.Verdict.Malformed)]
    [InlineData("v1=0000000000000000000000000000000000000000000000000000000000000000", WebhookSignature.Verdict.Malformed)]
    [InlineData("t=1800000000,v1=zz00000000000000000000000000000000000000000000000000000000000000", WebhookSignature.Verdict.Malformed)]
    public void Missing_or_malformed_headers_are_refused(string? header, WebhookSignature.Verdict expected) =>
        Assert.Equal(expected, _signature.Verify(header, Body, Now));
}
