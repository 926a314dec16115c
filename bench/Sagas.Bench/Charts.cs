using System.Globalization;
using System.Net;
using System.Text;

namespace Sagas.Bench;

/// <summary>
/// Line charts as SVG (written by hand: no chart library is needed for three pictures), turned into PNG by
/// <c>rsvg-convert</c> (Debian's librsvg2-bin, which scripts/bench.sh installs) when it is there.
/// </summary>
public static class Charts
{
    static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];
    const int Width = 900, Height = 420, Left = 70, Right = 230, Top = 40, Bottom = 50;

    public sealed record Line(string Label, IReadOnlyList<double[]> Points);

    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<Line> lines, bool logY = false,
        IReadOnlyList<string>? xCategories = null)
    {
        var points = lines.SelectMany(l => l.Points).Where(p => double.IsFinite(p[1]) && (!logY || p[1] > 0)).ToList();
        var xMax = points.Count == 0 ? 1 : Math.Max(points.Max(p => p[0]), 1e-9);
        var xMin = xCategories is null ? 0 : 0;
        if (xCategories is not null)
            xMax = xCategories.Count - 1;
        double yMin = 0, yMax = points.Count == 0 ? 1 : points.Max(p => p[1]) * 1.1;
        if (logY)
        {
            yMin = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(0.1, points.Count == 0 ? 1 : points.Min(p => p[1])))));
            yMax = Math.Pow(10, Math.Ceiling(Math.Log10(Math.Max(yMin * 10, points.Count == 0 ? 10 : points.Max(p => p[1])))));
        }

        if (yMax <= yMin)
            yMax = yMin + 1;
        double X(double x) => Left + (x - xMin) / Math.Max(xMax - xMin, 1e-9) * (Width - Left - Right);
        double Y(double y) => logY
            ? Height - Bottom - (Math.Log10(y) - Math.Log10(yMin)) / (Math.Log10(yMax) - Math.Log10(yMin)) * (Height - Top - Bottom)
            : Height - Bottom - (y - yMin) / (yMax - yMin) * (Height - Top - Bottom);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" font-family="DejaVu Sans, sans-serif" font-size="12">""");
        svg.Append("""<rect width="100%" height="100%" fill="white"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{Escape(title)}</text>""");

        // Grid and axes.
        var ticks = logY
            ? Enumerable.Range(0, (int)Math.Round(Math.Log10(yMax / yMin)) + 1).Select(i => yMin * Math.Pow(10, i)).ToList()
            : Enumerable.Range(0, 6).Select(i => yMin + (yMax - yMin) * i / 5).ToList();
        foreach (var tick in ticks)
        {
            var y = Y(tick);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{y:0.0}" x2="{Width - Right}" y2="{y:0.0}" stroke="#e0e0e0"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 6}" y="{y + 4:0.0}" text-anchor="end">{Format(tick)}</text>""");
        }

        if (xCategories is not null)
        {
            for (var i = 0; i < xCategories.Count; i++)
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{X(i):0.0}" y="{Height - Bottom + 18}" text-anchor="middle">{Escape(xCategories[i])}</text>""");
        }
        else
        {
            for (var i = 0; i <= 6; i++)
            {
                var x = xMin + (xMax - xMin) * i / 6;
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{X(x):0.0}" y="{Height - Bottom + 18}" text-anchor="middle">{Format(x)}</text>""");
            }
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Height - Bottom}" x2="{Width - Right}" y2="{Height - Bottom}" stroke="black"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Height - Bottom}" stroke="black"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(Left + Width - Right) / 2}" y="{Height - 12}" text-anchor="middle">{Escape(xLabel)}</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="16" y="{(Top + Height - Bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 {(Top + Height - Bottom) / 2})">{Escape(yLabel)}</text>""");

        for (var i = 0; i < lines.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            var usable = lines[i].Points.Where(p => double.IsFinite(p[1]) && (!logY || p[1] > 0)).ToList();
            if (usable.Count > 0)
            {
                var path = string.Join(" ", usable.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p[0]):0.0},{Y(p[1]):0.0}")));
                svg.Append(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>""");
                if (usable.Count <= 12)
                    foreach (var p in usable)
                        svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{X(p[0]):0.0}" cy="{Y(p[1]):0.0}" r="3" fill="{color}"/>""");
            }

            var ly = Top + 10 + i * 20;
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Width - Right + 12}" y="{ly - 8}" width="14" height="4" fill="{color}"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width - Right + 32}" y="{ly}" font-size="11">{Escape(Shorten(lines[i].Label, 30))}</text>""");
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>Writes name.svg and, when rsvg-convert is installed, name.png; returns the file to link.</summary>
    public static async Task<string> WriteAsync(string directory, string name, string svg)
    {
        Directory.CreateDirectory(directory);
        var svgPath = Path.Combine(directory, name + ".svg");
        var pngPath = Path.Combine(directory, name + ".png");
        await File.WriteAllTextAsync(svgPath, svg);
        var converted = await Shell.RunAsync("rsvg-convert", ["-f", "png", "-o", pngPath, svgPath], timeout: TimeSpan.FromMinutes(1))
            .ContinueWith(t => t.IsCompletedSuccessfully && t.Result.ExitCode == 0);
        if (!converted)
            return name + ".svg";
        File.Delete(svgPath);
        return name + ".png";
    }

    static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    static string Escape(string text) => WebUtility.HtmlEncode(text);

    static string Format(double value) => value switch
    {
        >= 10_000 => (value / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("0.#", CultureInfo.InvariantCulture),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };
}
