using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Sagas.Observability;

/// <summary>
/// Whether a service records traces, read from the standard OpenTelemetry variables (the OTLP exporter reads the rest
/// of them itself: protocol, headers, timeout, sampler) and from the <c>Tracing</c> section.
/// <list type="bullet">
/// <item><c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> set: traces on, exported there.</item>
/// <item>Neither set: off — no tracer provider, no listener on any activity source (issue 13: the CPU per order).</item>
/// <item><c>OTEL_SDK_DISABLED=true</c>: off whatever else is set.</item>
/// <item><c>Tracing:Enabled</c> (unset by default) overrides the endpoint rule either way; with
/// <c>OTEL_TRACES_EXPORTER=none</c> it records for an exporter added in code (the tests' in-memory one).</item>
/// <item><c>Tracing:DatabaseStatements</c> (false): a span per PostgreSQL statement (see <see cref="TracingRegistration"/>).</item>
/// </list>
/// </summary>
public sealed record TracingOptions(bool Enabled, bool OtlpExporter, bool DatabaseStatements)
{
    public const string Section = "Tracing";
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string TracesEndpointKey = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    public const string ExporterKey = "OTEL_TRACES_EXPORTER";
    public const string SdkDisabledKey = "OTEL_SDK_DISABLED";
    public const string ServiceNameKey = "OTEL_SERVICE_NAME";

    public static TracingOptions From(IConfiguration configuration)
    {
        var problems = new List<string>();
        var exporter = (configuration[ExporterKey] ?? "otlp").Trim().ToLowerInvariant();
        if (exporter is not ("otlp" or "none"))
            problems.Add($"{ExporterKey} must be 'otlp' or 'none' (these services export traces over OTLP only), not '{configuration[ExporterKey]}'");
        var enabledOverride = Flag(configuration, $"{Section}:Enabled", problems);
        var databaseStatements = Flag(configuration, $"{Section}:DatabaseStatements", problems) ?? false;
        var sdkDisabled = Flag(configuration, SdkDisabledKey, problems) ?? false;
        if (problems.Count > 0)
            throw new OptionsValidationException(Section, typeof(TracingOptions), problems);

        var endpointSet = !string.IsNullOrWhiteSpace(configuration[EndpointKey]) || !string.IsNullOrWhiteSpace(configuration[TracesEndpointKey]);
        var enabled = !sdkDisabled && (enabledOverride ?? endpointSet);
        return new TracingOptions(enabled, enabled && exporter == "otlp", enabled && databaseStatements);
    }

    /// <summary><c>OTEL_SERVICE_NAME</c> when set, else the service's own name (<c>sagas-api</c>, …).</summary>
    public static string ServiceName(IConfiguration configuration, string serviceName) =>
        configuration[ServiceNameKey] is { Length: > 0 } configured ? configured : serviceName;

    static bool? Flag(IConfiguration configuration, string key, List<string> problems)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (bool.TryParse(text.Trim(), out var value))
            return value;
        problems.Add($"{key} must be true or false, not '{text}'");
        return null;
    }
}
