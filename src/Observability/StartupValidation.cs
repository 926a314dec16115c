using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sagas.Observability;

/// <summary>
/// Configuration checked when the host starts, before any hosted service runs (no migration, no broker connection): a
/// process with a setting it cannot work with stops at once, non-zero, every problem named with its configuration key,
/// instead of failing at the first request that needs it.
/// </summary>
public static class StartupValidation
{
    /// <summary>Fails the start with each message <paramref name="problems"/> returns (none: valid).</summary>
    public static OptionsBuilder<T> ValidateProblems<T>(this OptionsBuilder<T> builder, Func<T, IEnumerable<string>> problems)
        where T : class
    {
        builder.Services.AddSingleton<IValidateOptions<T>>(new ProblemsValidator<T>(builder.Name, problems));
        return builder.ValidateOnStart();
    }

    sealed class ProblemsValidator<T>(string? name, Func<T, IEnumerable<string>> problems) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
        {
            if (name is not null && name != optionsName)
                return ValidateOptionsResult.Skip;
            var found = problems(options).ToList();
            return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
        }
    }
}
