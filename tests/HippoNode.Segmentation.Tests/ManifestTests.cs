using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Tests;

public sealed class ManifestTests
{
    [Fact]
    public void WrittenFolderManifestDocumentsTheConventionsAndRoundTrips()
    {
        using var tmp = new TempDir();
        var m = Synthetic.ModelFolder(tmp.Path);
        var text = File.ReadAllText(tmp["model.json"]);
        foreach (var expected in (string[])["\"layout\": \"NCDHW\"", "\"D\": \"z\"", "\"W\": \"x\"", "\"padding\": \"graph\"", "\"region\": \"all\"", "\"sha256\"", "\"file\": \"fold1.onnx\"", "\"anterior\"", "\"note\": \"random weights for tests\""])
            Assert.Contains(expected, text);
        var back = ModelManifest.Load(tmp.Path);
        Assert.Equal(m.ToJson(), back.ToJson());
        Assert.Equal(2, back.Members.Count);
        Assert.Equal(1, back.Members[1].Fold);
        Assert.Equal(Synthetic.TinyArchitecture.ToJson(), back.Architecture!.ToJson());
        Assert.Equal(2, back.SizeMultiple);
    }

    [Fact]
    public void RejectsMembersOutsideTheFolder()
    {
        var m = new ModelManifest { Members = [new ModelMember("../evil.onnx")] };
        Assert.Throws<FormatException>(m.Validate);
    }

    [Fact]
    public void RejectsOtherAxisConventions()
    {
        var json = new ModelManifest { Members = [new ModelMember("a.onnx")] }.ToJson().Replace("\"D\": \"z\"", "\"D\": \"x\"", StringComparison.Ordinal);
        Assert.Contains("axis convention", Assert.Throws<FormatException>(() => ModelManifest.Parse(json)).Message);
    }

    [Fact]
    public void RejectsStructuresOverUnknownLabels()
    {
        var m = new ModelManifest { Members = [new ModelMember("a.onnx")], Structures = [new StructureDefinition("x", [7])] };
        Assert.Throws<FormatException>(m.Validate);
    }
}
