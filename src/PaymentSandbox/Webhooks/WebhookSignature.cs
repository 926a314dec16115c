using System.Security.Cryptography;
using System.Text;

namespace Sagas.PaymentSandbox.Webhooks;

/// <summary>
/// <c>X-Signature: t=&lt;unix seconds&gt;,v1=&lt;lowercase hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;")&gt;</c>,
/// with the secret shared with the Api (<c>Webhooks:Secret</c>).
/// </summary>
public sealed class WebhookSignature(byte[] secret)
{
    public const string HeaderName = "X-Signature";

    public string Header(long unixSeconds, string body)
    {
        var signed = Encoding.UTF8.GetBytes($"{unixSeconds}.{body}");
        return $"t={unixSeconds},v1={Convert.ToHexStringLower(HMACSHA256.HashData(secret, signed))}";
    }
}
