using HippoNode.Commands;

namespace HippoNode.Tests;

/// <summary>`hipponode train` finds the training executable without carrying libtorch itself.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-train-locate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Locate_Override_WinsAndADllRunsThroughDotnetExec()
    {
        var launch = TrainCommand.Locate("/opt/x/hipponode-train.dll", _dir, ("/nowhere.csproj", "Release"));
        Assert.Equal("dotnet", launch!.FileName);
        Assert.Equal(["exec", "/opt/x/hipponode-train.dll"], launch.Arguments);
        Assert.Equal("/opt/x/hipponode-train", TrainCommand.Locate("/opt/x/hipponode-train", _dir, null)!.FileName);
    }

    [Fact]
    public void Locate_ACopyBesideTheNode_IsUsedBeforeTheSourceProject()
    {
        File.WriteAllText(Path.Combine(_dir, "hipponode-train.dll"), "");
        var project = Path.Combine(_dir, "HippoNode.Training.csproj");
        File.WriteAllText(project, "<Project />");
        var launch = TrainCommand.Locate(null, _dir, (project, "Release"));
        Assert.Equal(["exec", Path.Combine(_dir, "hipponode-train.dll")], launch!.Arguments);
    }

    [Fact]
    public void Locate_TheProjectThisNodeWasBuiltFrom_RunsWithItsConfiguration()
    {
        var project = Path.Combine(_dir, "HippoNode.Training.csproj");
        File.WriteAllText(project, "<Project />");
        var launch = TrainCommand.Locate(null, Path.Combine(_dir, "bin"), (project, "Debug"));
        Assert.Equal(["run", "--project", project, "-c", "Debug", "--no-launch-profile", "--"], launch!.Arguments);
    }

    [Fact]
    public void Locate_NothingThere_IsNull_AndTheVerbSaysHowToGetIt()
    {
        Assert.Null(TrainCommand.Locate(null, _dir, (Path.Combine(_dir, "missing.csproj"), "Release")));
        Assert.Null(TrainCommand.Locate("", _dir, null));
    }

    [Fact]
    public void BuiltNode_RecordsTheTrainerProjectOfThisRepository()
    {
        var meta = typeof(TrainCommand).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(Path.Combine(TestData.RepoRoot, "src", "HippoNode.Training", "HippoNode.Training.csproj"), meta["HippoNodeTrainerProject"]);
        Assert.True(File.Exists(meta["HippoNodeTrainerProject"]));
    }
}
