namespace Sagas.Testing;

/// <summary>Finds the repository and the build output of the services the tests start as processes.</summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the services are taken from the same configuration as the tests.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    /// <summary>e.g. <c>ServiceDll("Api")</c> → src/Api/bin/Release/net10.0/Sagas.Api.dll</summary>
    public static string ServiceDll(string project) =>
        Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", $"Sagas.{project}.dll");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sagas.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"Sagas.sln not found above {AppContext.BaseDirectory}");
    }
}
