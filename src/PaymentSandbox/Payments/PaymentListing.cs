using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>
/// The provider listing (<c>GET /v1/qr-payments?updatedFrom=&amp;updatedTo=&amp;cursor=&amp;limit=</c>): payments
/// whose last change (<see cref="Payment.UpdatedAtAt"/>) lies in <c>[updatedFrom, updatedTo)</c>, ordered by
/// (last change, provider reference).
/// </summary>
public sealed record PaymentListingQuery(DateTime? UpdatedFrom, DateTime? UpdatedTo, ListingPosition? After, int Limit)
{
    public const int DefaultLimit = 200;
    public const int MaxLimit = 500;
}

/// <summary>One page: <c>nextCursor</c> is null on the last one.</summary>
public sealed record PaymentListing(IReadOnlyList<PaymentView> Items, string? NextCursor);

/// <summary>
/// Where a page ended: the last item's (last change, provider reference). The cursor is that pair,
/// base64url-encoded; it is opaque to clients and independent of the bounds.
/// </summary>
public sealed record ListingPosition(DateTime UpdatedAt, string ProviderReference)
{
    const char Separator = '|';

    public string ToCursor() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
        string.Create(CultureInfo.InvariantCulture, $"{UpdatedAt:O}{Separator}{ProviderReference}")));

    public static ListingPosition? FromCursor(string cursor)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            return null;
        }

        var separator = text.IndexOf(Separator);
        if (separator < 0 || separator == text.Length - 1)
            return null;
        return DateTime.TryParseExact(text[..separator], "O", CultureInfo.InvariantCulture,
                   DateTimeStyles.RoundtripKind, out var updatedAt) && updatedAt.Kind == DateTimeKind.Utc
            ? new ListingPosition(updatedAt, text[(separator + 1)..])
            : null;
    }
}
