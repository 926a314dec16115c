using System.Collections;
using System.Diagnostics;

namespace Sagas.IntegrationTests.Tracing;

/// <summary>
/// What the in-memory exporters of the three hosts export, safe to read while they add. Activity sources and their
/// listeners are process-wide, so every host's tracer provider exports every span of the process: each span arrives
/// up to three times and <see cref="Snapshot"/> keeps one of each.
/// </summary>
public sealed class SpanCollection : ICollection<Activity>
{
    readonly object _gate = new();
    readonly List<Activity> _items = [];

    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_gate)
            return _items.DistinctBy(span => (span.TraceId, span.SpanId)).ToList();
    }

    public void Add(Activity item)
    {
        lock (_gate)
            _items.Add(item);
    }

    public void Clear()
    {
        lock (_gate)
            _items.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_gate)
            return _items.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_gate)
            _items.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_gate)
            return _items.Remove(item);
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _items.Count;
        }
    }

    public bool IsReadOnly => false;

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
