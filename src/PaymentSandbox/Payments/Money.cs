using System.Text.RegularExpressions;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>Money rules of the contract: positive, at most 2 decimals, ISO-4217-shaped currency.</summary>
public static partial class Money
{
    // numeric(18,2) holds 16 integer digits; stay well inside it.
    public const decimal MaxAmount = 1_000_000_000_000m;

    public static string? AmountError(decimal amount) =>
        amount <= 0 ? "must be greater than 0."
        : amount > MaxAmount ? $"must be at most {MaxAmount}."
        : decimal.Round(amount, 2) != amount ? "must have at most 2 decimals."
        : null;

    public static bool IsCurrency(string? currency) => currency is not null && CurrencyPattern().IsMatch(currency);

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();
}
