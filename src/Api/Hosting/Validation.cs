using System.Text.RegularExpressions;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Hosting;

/// <summary>Collects field errors and turns them into a 400 problem+json with an <c>errors</c> map.</summary>
public sealed partial class Validation
{
    readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public Validation Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
            _errors[field] = messages = [];
        messages.Add(message);
        return this;
    }

    public Validation Require(bool condition, string field, string message) => condition ? this : Add(field, message);

    /// <summary>The largest amount a money column (numeric(12,2)) holds.</summary>
    public const decimal MaxMoney = 9_999_999_999.99m;

    public Validation Text(string? value, string field, int min, int max) =>
        value is null ? Add(field, "is required")
        : value.Length < min || value.Length > max ? Add(field, $"must be {min} to {max} characters")
        : PrintableText(value, field);

    /// <summary>
    /// Text that can be stored and shown: no control characters (PostgreSQL refuses NUL, and none belongs in a name or
    /// an id) and no unpaired UTF-16 surrogates (not encodable as UTF-8).
    /// </summary>
    public Validation PrintableText(string value, string field) =>
        IsPrintable(value) ? this : Add(field, "must not contain control characters or invalid Unicode");

    public static bool IsPrintable(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
                return false;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                    return false;
                i++;
            }
            else if (char.IsLowSurrogate(c))
                return false;
        }

        return true;
    }

    public Validation Currency(string? value, string field = "currency") =>
        value is null ? Add(field, "is required")
        : CurrencyPattern().IsMatch(value) ? this
        : Add(field, "must be a three-letter ISO 4217 code in upper case, e.g. USD");

    public Validation Money(decimal? value, string field) =>
        value is null ? Add(field, "is required")
        : value < 0 || value > MaxMoney ? Add(field, "must be between 0 and 9999999999.99")
        : decimal.Round(value.Value, 2) != value ? Add(field, "must have at most 2 decimals")
        : this;

    public IResult Problem() => Problems.Invalid(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));

    public static bool IsSku(string value) => SkuPattern().IsMatch(value);

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SkuPattern();
}
