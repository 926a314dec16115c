using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sagas.Testing;

/// <summary>
/// The <c>X-Signature</c> header a payment provider sends, computed from the contract
/// (<c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "t.body")&gt;</c>) and not from the Api's or the
/// sandbox's code, so a test that compares the two checks them against the contract rather than against themselves.
/// </summary>
public static class ProviderSignature
{
    public static string Header(string secret, long timestamp, string body) =>
        Header(secret, timestamp, Encoding.UTF8.GetBytes(body));

    public static string Header(string secret, long timestamp, byte[] body)
    {
        var signed = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".").Concat(body).ToArray();
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return $"t={timestamp.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(mac)}";
    }
}
