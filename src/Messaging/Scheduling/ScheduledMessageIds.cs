using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// The MessageId a fired timer carries: a name-based UUID (RFC 9562 version 5) of the scheduling token and the
/// time it was scheduled for. Every firing of the same timer carries the same id, so when Quartz fires a timer
/// again (the node crashed after the send but before Quartz recorded completion, and cluster recovery re-ran
/// it) the consumer inbox downstream sees a duplicate and drops it. The due time is part of the name so that a
/// token reused on purpose (MassTransit's <c>UseScheduleTokenId</c> convention) for a later timer is a new message.
/// </summary>
public static class ScheduledMessageIds
{
    // Fixed forever: changing it changes every id and defeats de-duplication of timers in flight.
    static readonly Guid Namespace = new("4b4c1f0e-5d2a-4f6e-9a57-0c3d8e2b61a4");

    public static Guid For(Guid tokenId, DateTime scheduledTimeUtc)
    {
        Span<byte> name = stackalloc byte[16 + 16 + 8];
        Namespace.TryWriteBytes(name[..16], bigEndian: true, out _);
        tokenId.TryWriteBytes(name[16..32], bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(name[32..], scheduledTimeUtc.Ticks);

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(name, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(hash[..16], bigEndian: true);
    }
}
