namespace Sagas.Testing;

/// <summary>
/// Polls a condition instead of sleeping: returns as soon as it holds, fails with the last observed
/// value when it does not hold within the timeout.
/// </summary>
public static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null,
        string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        T last;
        do
        {
            last = await probe();
            if (condition(last))
                return last;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"Condition not met within {timeout ?? TimeSpan.FromSeconds(30)}"
                                   + (because is null ? "" : $" ({because})") + $"; last value: {last}");
    }

    public static Task Until(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null) =>
        Until(condition, ok => ok, timeout, because);
}
