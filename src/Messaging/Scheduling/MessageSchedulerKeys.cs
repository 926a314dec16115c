using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// Where a scheduled message lives in Quartz: one job and one trigger per scheduling token, both named by the
/// token id (<c>ScheduleMessage.CorrelationId</c>, which <c>CancelScheduledMessage.TokenId</c> repeats).
/// </summary>
public static class MessageSchedulerKeys
{
    public const string Group = "scheduled-messages";

    public static JobKey Job(Guid tokenId) => new(tokenId.ToString("D"), Group);

    public static TriggerKey Trigger(Guid tokenId) => new(tokenId.ToString("D"), Group);
}
