namespace HippoNode.ValidationPlan.Tests;

/// <summary>
/// The validation plan (validation-plan/) against the repository as it is: every requirement traced to tests that
/// exist, every number with its reference, every command runnable, every link alive, the shipped model described.
/// Each failure lists every finding with file and line.
/// </summary>
public sealed class ValidationPlanTraceTests
{
    private static readonly DiskRepository Repository = new(TestData.RepoRoot);

    private static ValidationPlan Plan() => ValidationPlan.Load(Repository);

    private static void AssertNone(List<string> findings) =>
        Assert.True(findings.Count == 0, $"{findings.Count} finding(s):\n" + string.Join("\n", findings));

    [Fact]
    public void EveryRequirement_IsTraced_ToTestsThatExist_OrToKnownCommands()
    {
        var plan = Plan();
        var tests = TestSourceScanner.ScanFolder(Path.Combine(TestData.RepoRoot, "tests"));
        // The scan must see the whole suite, or a missing test would pass unnoticed.
        Assert.Contains("HippoNode.ValidationPlan.Tests.ValidationPlanTraceTests.EveryRequirement_IsTraced_ToTestsThatExist_OrToKnownCommands", tests.Keys);
        Assert.True(tests.Count > 400, $"only {tests.Count} tests found in tests/");
        Assert.True(plan.Requirements.Count >= 50, $"only {plan.Requirements.Count} requirements");
        AssertNone(PlanChecks.Traces(plan, tests));
    }

    [Fact]
    public void EveryMeasuredNumber_CarriesAReference() => AssertNone([.. PlanChecks.Numbers(Plan()), .. PlanChecks.QuotedMeasurements(Plan())]);

    [Fact]
    public void EveryReference_Resolves() => AssertNone(PlanChecks.References(Plan()));

    [Fact]
    public void EveryCommand_NamesAVerbProjectAndFilesThatExist()
    {
        var plan = Plan();
        Assert.NotEmpty(plan.Commands);
        AssertNone(PlanChecks.Commands(plan, Repository));
    }

    [Fact]
    public void EveryLink_Resolves_AndTheConformanceStatementIsLinked() => AssertNone(PlanChecks.Links(Plan(), Repository));

    [Fact]
    public void HippocampusModule_DescribesTheShippedModel() => AssertNone(PlanChecks.ShippedModel(Plan(), Repository));

    [Fact]
    public void ChestModule_DescribesTheShippedModel() => AssertNone(PlanChecks.ShippedChestModel(Plan(), Repository));

    [Fact]
    public void ModelCard_SaysNotForDiagnosticUse()
    {
        foreach (var module in new[] { "hippocampus", "chest-xray" })
        {
            var card = Repository.Read($"models/{module}/MODEL_CARD.md");
            Assert.NotNull(card);
            Assert.Contains("not for diagnostic", card, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("not a medical device", Plan().Files["validation-plan/intended-use.md"], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Readme_PointsToTheValidationPlan()
    {
        var readme = Repository.Read("README.md");
        Assert.NotNull(readme);
        Assert.Contains("](validation-plan/", readme, StringComparison.Ordinal);
    }
}
