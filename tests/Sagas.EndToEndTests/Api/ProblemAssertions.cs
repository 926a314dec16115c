namespace Sagas.EndToEndTests.Api;

public static class ProblemAssertions
{
    /// <summary>The contract's error shape: problem+json with type, title, status and detail.</summary>
    public static async Task<JsonElement> AssertProblem(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()), body);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()), body);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), body);
        Assert.DoesNotContain("   at ", body);
        return problem;
    }
}
