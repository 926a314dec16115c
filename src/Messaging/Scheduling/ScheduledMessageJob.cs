using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MassTransit;
using MassTransit.Serialization;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// The Quartz job behind every scheduled message: sends the stored payload to its destination as a MassTransit
/// envelope with the original message types, the deterministic <see cref="ScheduledMessageIds">message id</see>
/// and the <c>MT-Scheduling-TokenId</c> header a state machine checks to drop stale timers.
/// </summary>
/// <remarks>
/// Stored jobs name this type (<c>job_class_name</c>): renaming or moving it orphans the timers in flight.
/// A failed send is thrown to Quartz, which re-fires the trigger under
/// <see cref="PostgresMessageSchedulerOptions.FireRetryPolicy"/>.
/// </remarks>
public sealed class ScheduledMessageJob(IBus bus, SchedulerMetrics metrics, ILogger<ScheduledMessageJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        StoredScheduledMessage message;
        try
        {
            message = StoredScheduledMessage.FromJobData(context.MergedJobDataMap);
        }
        catch (Exception e) when (e is FormatException or UriFormatException or JsonException)
        {
            // Retrying cannot repair the stored data: say so loudly and let the trigger go.
            logger.LogError(e, "Scheduled message job {JobKey} has unreadable data and is dropped", context.JobDetail.Key);
            throw new JobExecutionException("unreadable scheduled message", e) { UnscheduleAllTriggers = true };
        }

        using var firing = TimerTracing.StartFiring(message);
        try
        {
            var endpoint = await bus.GetSendEndpoint(message.Destination);
            await endpoint.Send(new SerializedMessageBody(), new ForwardPipe(message, context), cancellationToken);
            metrics.Fired(message.MessageTypes.FirstOrDefault(), sent: true, context.FireTimeUtc, message.ScheduledTimeUtc);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            firing?.SetStatus(ActivityStatusCode.Error, e.Message);
            metrics.Fired(message.MessageTypes.FirstOrDefault(), sent: false, context.FireTimeUtc, message.ScheduledTimeUtc);
            var lastAttempt = context.RetryAttempt >= (context.RetryPolicy?.MaxAttempts ?? 0);
            logger.Log(lastAttempt ? LogLevel.Error : LogLevel.Warning, e,
                "Sending scheduled message {TokenId} to {Destination} failed on attempt {Attempt}{Outcome}",
                message.TokenId, message.Destination, context.RetryAttempt + 1,
                lastAttempt ? "; no retries left, the timer is lost" : "; Quartz retries it");
            throw;
        }

        logger.LogDebug("Scheduled message {TokenId} ({MessageType}) due {ScheduledTime:O} sent to {Destination} as {MessageId}",
            message.TokenId, message.MessageTypes.FirstOrDefault(), message.ScheduledTimeUtc, message.Destination, message.MessageId);
    }

    sealed class ForwardPipe(StoredScheduledMessage message, IJobExecutionContext job) : IPipe<SendContext<SerializedMessageBody>>
    {
        public Task Send(SendContext<SerializedMessageBody> context)
        {
            context.MessageId = message.MessageId;
            context.CorrelationId = message.CorrelationId;
            context.ConversationId = message.ConversationId;
            context.InitiatorId = message.InitiatorId;
            context.RequestId = message.RequestId;
            context.SourceAddress = message.SourceAddress;
            context.ResponseAddress = message.ResponseAddress;
            context.FaultAddress = message.FaultAddress;

            // The trace that set the timer is linked from the firing's own span (TimerTracing), never the parent.
            foreach (var (key, value) in message.Headers.Where(header => !TimerTracing.IsStoredParent(header.Key)))
                context.Headers.Set(key, value);

            context.Headers.Set(MessageHeaders.SchedulingTokenId, message.TokenId.ToString("D"));
            context.Headers.Set(MessageHeaders.Quartz.Scheduled, message.ScheduledTimeUtc.ToString("O", CultureInfo.InvariantCulture));
            context.Headers.Set(MessageHeaders.Quartz.Sent, job.FireTimeUtc.ToString("O", CultureInfo.InvariantCulture));

            // The envelope is written from this send context (ids, headers) when the body is serialized; the
            // payload goes in as the JSON it was scheduled with, under the message types it was scheduled as.
            var envelope = new JsonMessageEnvelope
            {
                MessageType = message.MessageTypes,
                Message = JsonSerializer.Deserialize<JsonElement>(message.PayloadJson),
            };
            context.Serializer = new SystemTextJsonBodyMessageSerializer(envelope, SystemTextJsonMessageSerializer.JsonContentType,
                SystemTextJsonMessageSerializer.Options, message.MessageTypes);
            context.SupportedMessageTypes = message.MessageTypes;
            return Task.CompletedTask;
        }

        public void Probe(ProbeContext context) => context.CreateScope("scheduledMessage");
    }
}
