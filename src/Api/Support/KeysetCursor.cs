using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Sagas.Api.Support;

/// <summary>
/// Keyset pagination for support's lists: the cursor is the (timestamp, key) of a page's last item, opaque to clients;
/// each list says what its timestamp and key are and parses the key itself.
/// </summary>
static class KeysetCursor
{
    public static string Encode(DateTimeOffset at, string key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{at.UtcTicks}:{key}"));

    /// <summary>The cursor's parts, or null for anything <see cref="Encode"/> did not make.</summary>
    public static (DateTimeOffset At, string Key)? Decode(string value)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                   && ticks is > 0 and < 3155378975999999999
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), parts[1])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
