using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Sagas.Api.Hosting;

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

    /// <summary>A list's <c>limit</c> (1–200, default 50) and decoded <c>cursor</c>; what is wrong goes into <paramref name="validation"/>.</summary>
    public static (int Limit, T? Cursor) PageOf<T>(IQueryCollection query, Func<string, T?> decode, Validation validation)
        where T : struct
    {
        var limit = 50;
        if (query["limit"].Count > 0 && (!int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 200))
            validation.Add("limit", "must be an integer from 1 to 200");
        var cursor = query["cursor"].Count > 0 ? decode(query["cursor"].ToString()) : null;
        if (query["cursor"].Count > 0 && cursor is null)
            validation.Add("cursor", "is not a cursor this endpoint returned");
        return (limit, cursor);
    }
}
