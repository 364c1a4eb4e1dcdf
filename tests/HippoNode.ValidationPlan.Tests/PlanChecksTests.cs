namespace HippoNode.ValidationPlan.Tests;

/// <summary>Each check on a small plan with one planted fault: the fault is reported, with where it is.</summary>
public sealed class PlanChecksTests
{
    private sealed class MemoryRepository(Dictionary<string, string> files, params string[] executables) : IRepository
    {
        public bool Exists(string relativePath) => files.ContainsKey(relativePath) || files.Keys.Any(k => k.StartsWith(relativePath + "/", StringComparison.Ordinal));

        public string? Read(string relativePath) => files.GetValueOrDefault(relativePath);

        public IEnumerable<string> Files(string relativeFolder) => files.Keys.Where(k => k.StartsWith(relativeFolder + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

        public bool IsExecutable(string relativePath) => executables.Contains(relativePath);
    }

    private const string Requirements = """
        # Requirements
        Interoperability: [CONFORMANCE.md](../CONFORMANCE.md#2-network).

        | ID | Requirement | Verified by |
        |---|---|---|
        | REQ-NET-001 | Echo works. | `N.EchoTests.Works` |
        | REQ-NET-002 | Fast enough (benchmark). | CMD-BENCH |
        """;

    private const string Measurements = """
        # Measurements

        | ID | quantity | value | data | command |
        |---|---|---|---|---|
        | M-HIP-001 | mean Dice | 0.8767 / 0.8685 / 0.8999 | 34 test cases | CMD-EVAL |
        | M-HIP-003 | volume error | 116.1 / 140.7 / 141.0 | same | CMD-EVAL |

        ### CMD-EVAL

        ```sh
        dotnet run -c Release --project src/App -- evaluate --model models/hippocampus --json /tmp/x.json
        ```

        ### CMD-BENCH

        ```sh
        tools/bench.sh ../shared/data
        ```
        """;

    private const string Module = """
        # Module
        Shipped model: **`hippocampus-voxel-mlp` version 0.1.0**.

        The ensemble reaches a mean whole Dice of 0.8999 (M-HIP-001). It interoperates as REQ-NET-001 says.
        """;

    private const string Platform = "# Platform\nSee [CONFORMANCE.md](../CONFORMANCE.md).\n";

    private const string Card = """
        | ensemble, 34 test cases | anterior | posterior | whole |
        |---|---|---|---|
        | Ensemble mean Dice | 0.8767 | 0.8685 | 0.8999 |
        | Ensemble mean absolute volume error (mm³) | 116.1 | 140.7 | 141.0 |
        """;

    private static Dictionary<string, string> Files(params (string Path, string Text)[] overrides)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["validation-plan/requirements.md"] = Requirements,
            ["validation-plan/measurements.md"] = Measurements,
            ["validation-plan/modules/hippocampus.md"] = Module,
            ["validation-plan/platform.md"] = Platform,
            ["validation-plan/references.md"] = "| ID | source |\n|---|---|\n| REF-MSD | the paper |\n",
            ["CONFORMANCE.md"] = "# Conformance\n## 2. Network\n",
            ["src/App/App.csproj"] = "<Project />",
            ["src/App/Program.cs"] = "switch (verb) { case \"evaluate\": break; }",
            ["models/hippocampus/model.json"] = """{"name": "hippocampus-voxel-mlp", "version": "0.1.0"}""",
            ["models/hippocampus/MODEL_CARD.md"] = Card,
            ["tools/bench.sh"] = "#!/bin/sh\n",
        };
        foreach (var (path, text) in overrides) files[path] = text;
        return files;
    }

    private static (ValidationPlan Plan, MemoryRepository Repository) Load(params (string Path, string Text)[] overrides)
    {
        var repository = new MemoryRepository(Files(overrides), "tools/bench.sh");
        return (ValidationPlan.Load(repository), repository);
    }

    private static readonly IReadOnlyDictionary<string, FoundTest> Tests =
        TestSourceScanner.Scan([("t.cs", "namespace N; public class EchoTests { [Fact] public void Works() { } [Fact(Skip = \"later\")] public void Later() { } }")]);

    [Fact]
    public void TheSamplePlan_PassesEveryCheck()
    {
        var (plan, repository) = Load();
        Assert.Equal(["REQ-NET-001", "REQ-NET-002"], plan.Requirements.Select(r => r.Id));
        Assert.Equal(["CMD-EVAL", "CMD-BENCH"], plan.Commands.Select(c => c.Id));
        Assert.Empty(PlanChecks.Traces(plan, Tests));
        Assert.Empty(PlanChecks.Numbers(plan));
        Assert.Empty(PlanChecks.QuotedMeasurements(plan));
        Assert.Empty(PlanChecks.References(plan));
        Assert.Empty(PlanChecks.Commands(plan, repository));
        Assert.Empty(PlanChecks.Links(plan, repository));
        Assert.Empty(PlanChecks.ShippedModel(plan, repository));
    }

    [Theory]
    [InlineData("| REQ-NET-003 | Untraced. | |", "REQ-NET-003 has no trace")]
    [InlineData("| REQ-NET-003 | Gone. | `N.EchoTests.Removed` |", "traces N.EchoTests.Removed, which is no test")]
    [InlineData("| REQ-NET-003 | Skipped. | `N.EchoTests.Later` |", "skipped unconditionally")]
    [InlineData("| REQ-NET-003 | Unknown command. | CMD-NOPE |", "traces CMD-NOPE, which measurements.md does not define")]
    [InlineData("| REQ-NET-001 | Twice. | `N.EchoTests.Works` |", "REQ-NET-001 is defined 2 times")]
    [InlineData("| REQ-XYZ-001 | Odd area. | `N.EchoTests.Works` |", "is in no known area")]
    [InlineData("| REQ-NET-003 | Not a name. | `EchoTests` |", "is not Namespace.Class.Method")]
    public void Traces_ReportEachFault(string row, string expected)
    {
        var (plan, _) = Load(("validation-plan/requirements.md", Requirements + "\n" + row + "\n"));
        Assert.Contains(PlanChecks.Traces(plan, Tests), f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void AWithdrawnRequirement_NeedsNoTrace()
    {
        var (plan, _) = Load(("validation-plan/requirements.md", Requirements + "\n| REQ-NET-003 | Withdrawn: the feature was removed. | |\n"));
        Assert.Empty(PlanChecks.Traces(plan, Tests));
    }

    [Theory]
    [InlineData("It takes 947 ms.", "947 ms")]
    [InlineData("The mean Dice is\n0.91 on the test split.", "0.91")]
    [InlineData("- 33 of 34 cases were flagged.", "33 of 34")]
    [InlineData("| fault | 0.41 |", "0.41")]
    [InlineData("A sentence with a reference (M-HIP-001). Another without: 12 %.", "12 %")]
    public void Numbers_WithoutAReference_AreReported(string text, string number)
    {
        var (plan, _) = Load(("validation-plan/platform.md", Platform + "\n" + text + "\n"));
        var findings = PlanChecks.Numbers(plan);
        Assert.Contains(findings, f => f.Contains($"'{number}'", StringComparison.Ordinal) && f.Contains("validation-plan/platform.md:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Version 0.1.0 of OHIF 3.13.2 reads PS3.5 and §1.2; `0.95` is code; see [x](a-1.2.md).")]
    [InlineData("```sh\ndotnet run -- evaluate --threshold 0.8\n```")]
    [InlineData("A criterion of 0.02 (REQ-NET-001), a figure of 0.8999 (M-HIP-001), a source's 1.0 mm³ (REF-MSD).")]
    public void Numbers_ThatAreNotClaimsOrCarryAReference_PassTheRule(string text)
    {
        var (plan, _) = Load(("validation-plan/platform.md", Platform + "\n" + text + "\n"));
        Assert.Empty(PlanChecks.Numbers(plan));
    }

    [Fact]
    public void AQuotedMeasurement_MustBeTheMeasuredValue()
    {
        var (plan, _) = Load(("validation-plan/modules/hippocampus.md", Module.Replace("0.8999 (M-HIP-001)", "0.9100 (M-HIP-001)", StringComparison.Ordinal)));
        Assert.Contains(PlanChecks.QuotedMeasurements(plan), f => f.Contains("0.9100 is not in M-HIP-001", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("See M-HIP-099.", "M-HIP-099 is no measurement")]
    [InlineData("See REQ-NET-099.", "REQ-NET-099 is no requirement")]
    [InlineData("See CMD-GONE.", "CMD-GONE is no command")]
    [InlineData("See REF-NONE.", "REF-NONE is no source")]
    public void References_ToUndefinedIds_AreReported(string text, string expected)
    {
        var (plan, _) = Load(("validation-plan/platform.md", Platform + text + "\n"));
        Assert.Contains(PlanChecks.References(plan), f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void AMeasurementWithoutACommand_AndACommandWithoutABlock_AreReported()
    {
        var (plan, _) = Load(("validation-plan/measurements.md", Measurements + "\n| M-HIP-002 | median | 0.9 | same | by hand |\n\n### CMD-EMPTY\n\nNo block.\n"));
        var findings = PlanChecks.References(plan);
        Assert.Contains(findings, f => f.Contains("M-HIP-002 names no command", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Contains("CMD-EMPTY has no code block", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dotnet run -c Release --project src/App -- train --data x", "src/App knows no verb 'train'")]
    [InlineData("dotnet run -c Release --project src/Gone -- evaluate", "src/Gone holds no project")]
    [InlineData("dotnet run -c Release --project src/App -- evaluate --model models/missing", "names models/missing, which does not exist")]
    [InlineData("tools/missing.sh", "tools/missing.sh is not an executable file")]
    public void Commands_ThatCannotRun_AreReported(string command, string expected)
    {
        var (plan, repository) = Load(("validation-plan/measurements.md", Measurements + $"\n### CMD-NEW\n\n```sh\n{command}\n```\n"));
        Assert.Contains(PlanChecks.Commands(plan, repository), f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[gone](../MISSING.md)", "link ../MISSING.md does not resolve")]
    [InlineData("[section](../CONFORMANCE.md#9-nothing)", "has no heading #9-nothing")]
    public void Links_ThatDoNotResolve_AreReported(string link, string expected)
    {
        var (plan, repository) = Load(("validation-plan/platform.md", Platform + link + "\n"));
        Assert.Contains(PlanChecks.Links(plan, repository), f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void APlanThatDoesNotLinkTheConformanceStatement_IsReported()
    {
        var (plan, repository) = Load(("validation-plan/platform.md", "# Platform\nNo link.\n"));
        Assert.Contains(PlanChecks.Links(plan, repository), f => f.Contains("platform.md does not link ../CONFORMANCE.md", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("models/hippocampus/model.json", """{"name": "hippocampus-unet", "version": "1.0.0"}""", "does not name the shipped model as `hippocampus-unet` version 1.0.0")]
    [InlineData("models/hippocampus/MODEL_CARD.md", "| Ensemble mean Dice | 0.9012 | 0.8900 | 0.9100 |\n| Ensemble mean absolute volume error (mm³) | 116.1 | 140.7 | 141.0 |", "M-HIP-001 (0.8767 / 0.8685 / 0.8999) is not the model card's")]
    public void ANewModel_FailsUntilThePlanDescribesIt(string path, string text, string expected)
    {
        var (plan, repository) = Load((path, text));
        Assert.Contains(PlanChecks.ShippedModel(plan, repository), f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Anchors_FollowGitHubsRule()
    {
        var anchors = PlanChecks.Anchors("# Title\n## 1. Media storage (PS3.10 files)\n```\n# not a heading\n```\n### 3.2 Segmentation (SEG)\n");
        Assert.Equal(["1-media-storage-ps310-files", "32-segmentation-seg", "title"], anchors.Order(StringComparer.Ordinal));
    }
}
