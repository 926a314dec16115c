using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sagas.Api.Webhooks;

/// <summary>
/// The provider's webhook signature: <c>X-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "t.body")&gt;</c>.
/// The MAC covers the timestamp, so a captured request cannot be replayed outside the tolerance window, and
/// it is computed over the raw bytes received (never a re-serialised body). Comparison is constant-time.
/// </summary>
public sealed class WebhookSignature(string secret, TimeSpan tolerance)
{
    readonly byte[] _key = Encoding.UTF8.GetBytes(secret);

    public enum Verdict { Valid, Missing, Malformed, Stale, Mismatch }

    public Verdict Verify(string? header, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(header))
            return Verdict.Missing;

        long? timestamp = null;
        var candidates = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = part.IndexOf('=');
            if (separator <= 0)
                return Verdict.Malformed;
            var (name, value) = (part[..separator], part[(separator + 1)..]);
            if (name == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                timestamp = t;
            else if (name == "v1" && value.Length == 64 && TryHex(value, out var mac))
                candidates.Add(mac);
        }

        if (timestamp is null || candidates.Count == 0)
            return Verdict.Malformed;
        if (Math.Abs(now.ToUnixTimeSeconds() - timestamp.Value) > tolerance.TotalSeconds)
            return Verdict.Stale;

        var expected = Compute(timestamp.Value, body);
        var match = false;
        foreach (var candidate in candidates)
            match |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        return match ? Verdict.Valid : Verdict.Mismatch;
    }

    byte[] Compute(long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(_key, signed);
    }

    static bool TryHex(string value, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(value);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
