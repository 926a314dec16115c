using System.Text.Json;
using MassTransit.SagaStateMachine;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sagas.Testing;
using Sagas.Workers.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>
/// The support console draws the order saga from <c>src/Api/wwwroot/support/order-state-machine.json</c>, which is
/// MassTransit's own graph of the machine (<c>GetGraph()</c>): states, events, and which state handles which event
/// and which event leads to which state. The Api cannot load the Workers' machine, so the graph is committed; this
/// test fails when the committed file and the machine differ (<c>SAGAS_UPDATE_STATE_MACHINE=1</c> rewrites it).
/// </summary>
public sealed class Order_state_machine_drawing
{
    public const string UpdateVariable = "SAGAS_UPDATE_STATE_MACHINE";
    static readonly string FilePath = Path.Combine(RepositoryLayout.Root, "src", "Api", "wwwroot", "support", "order-state-machine.json");

    /// <summary>The graph as the console reads it: names only, sorted, so the file changes only when the machine does.</summary>
    public static string GraphJson()
    {
        var machine = new OrderStateMachine(Options.Create(new SagaTimings()), TimeProvider.System, NullLogger<OrderStateMachine>.Instance);
        var graph = machine.GetGraph();
        static string Kind(Vertex vertex) => vertex.VertexType == typeof(MassTransit.Event) ? "event" : "state";
        // The timeline names a timer by its message (OrderTimeline.EventName), the graph by the schedule's event.
        var timers = typeof(OrderStateMachine).GetProperties()
            .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(MassTransit.Schedule<,>))
            .Select(p => (Message: p.PropertyType.GetGenericArguments()[1].Name,
                Event: ((MassTransit.Event)p.PropertyType.GetProperty("Received")!.GetValue(p.GetValue(machine))!).Name))
            .OrderBy(t => t.Message, StringComparer.Ordinal)
            .ToDictionary(t => t.Message, t => t.Event);
        var drawing = new
        {
            generatedBy = "tests/Sagas.UnitTests/Ordering/Order_state_machine_drawing.cs from MassTransit's GetGraph() of OrderStateMachine",
            states = graph.Vertices.Where(v => Kind(v) == "state").Select(v => v.Title).Distinct().Order(StringComparer.Ordinal).ToList(),
            events = graph.Vertices.Where(v => Kind(v) == "event").Select(v => v.Title).Distinct().Order(StringComparer.Ordinal).ToList(),
            handles = graph.Edges.Where(e => Kind(e.From) == "state").Select(e => new[] { e.From.Title, e.To.Title })
                .DistinctBy(p => (p[0], p[1])).OrderBy(p => p[0], StringComparer.Ordinal).ThenBy(p => p[1], StringComparer.Ordinal).ToList(),
            leadsTo = graph.Edges.Where(e => Kind(e.From) == "event").Select(e => new[] { e.From.Title, e.To.Title })
                .DistinctBy(p => (p[0], p[1])).OrderBy(p => p[0], StringComparer.Ordinal).ThenBy(p => p[1], StringComparer.Ordinal).ToList(),
            timelineNames = timers,
        };
        return JsonSerializer.Serialize(drawing, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    [Fact]
    public void The_committed_graph_is_the_machine()
    {
        var expected = GraphJson();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
            File.WriteAllText(FilePath, expected);
        Assert.True(File.Exists(FilePath), $"{FilePath} is missing: run this test with {UpdateVariable}=1");
        Assert.True(File.ReadAllText(FilePath) == expected,
            $"{FilePath} is not the order state machine's graph any more: run this test with {UpdateVariable}=1 and commit the file");
    }
}
