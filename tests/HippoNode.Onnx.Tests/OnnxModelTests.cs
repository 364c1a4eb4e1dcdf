using HippoNode.Onnx;
using HippoNode.Onnx.Protobuf;
using HippoNode.Segmentation.Model;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace HippoNode.Onnx.Tests;

public sealed class OnnxModelTests(ITestOutputHelper output)
{
    [Fact]
    public void ExportedFileIsAWellFormedOnnxModel()
    {
        var arch = new UNetArchitecture { Channels = [4, 8] };
        var weights = UNetWeights.CreateRandom(arch, 1);
        var bytes = UNetOnnxExporter.Export(weights, new UNetExportOptions { Name = "test-net", Version = "1.2.3", ModelVersion = 5, Training = """{"epochs":3}""" });

        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(OnnxGraphBuilder.IrVersion, model.IrVersion);
        var opset = Assert.Single(model.OpsetImport);
        Assert.Equal("", opset.Domain);
        Assert.Equal(17, opset.Version);
        Assert.Equal("HippoNode", model.ProducerName);
        Assert.Equal(5, model.ModelVersion);

        // Initializers carry exactly the state_dict names, shapes and values.
        var inits = model.Graph.Initializer.Where(t => !t.Name.StartsWith("pad.", StringComparison.Ordinal) && !t.Name.StartsWith("crop.", StringComparison.Ordinal)).ToList();
        Assert.Equal(arch.Parameters().Select(p => p.Name), inits.Select(t => t.Name));
        foreach (var t in inits)
        {
            var w = weights[t.Name];
            Assert.Equal(w.Shape.Select(x => (long)x), t.Dims);
            Assert.Equal((int)TensorProto.Types.DataType.Float, t.DataType);
            Assert.Equal(w.Data.Length * 4, t.RawData.Length);
            Assert.Equal(w.Data[0], BitConverter.ToSingle(t.RawData.Span));
        }

        var input = Assert.Single(model.Graph.Input);
        Assert.Equal("image", input.Name);
        Assert.Equal(["batch", "", "depth", "height", "width"], input.Type.TensorType.Shape.Dim.Select(d => d.DimParam));
        Assert.Equal(1, input.Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal("probabilities", Assert.Single(model.Graph.Output).Name);

        var ops = model.Graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.Superset(new HashSet<string> { "Pad", "Conv", "InstanceNormalization", "LeakyRelu", "MaxPool", "ConvTranspose", "Concat", "Slice", "Softmax" }, ops);

        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("test-net", meta["name"]);
        Assert.Equal("1.2.3", meta["version"]);
        Assert.Equal("""{"epochs":3}""", meta["training"]);
        Assert.Equal(arch.ToJson(), meta["architecture"]);
    }

    [Fact]
    public void OnnxRuntimeReadsTheMetadata()
    {
        var bytes = UNetOnnxExporter.Export(UNetWeights.CreateRandom(new UNetArchitecture { Channels = [2] }, 1),
            new UNetExportOptions { Name = "meta", Version = "9", ModelVersion = 9, Description = "doc" });
        using var session = new InferenceSession(bytes);
        var m = session.ModelMetadata;
        Assert.Equal("HippoNode", m.ProducerName);
        Assert.Equal("doc", m.Description);
        Assert.Equal(9, m.Version);
        Assert.Equal("meta", m.CustomMetadataMap["name"]);
        Assert.Contains("NCDHW", m.CustomMetadataMap["layout"]);
        var dims = session.InputMetadata["image"].Dimensions;
        Assert.Equal([-1, 1, -1, -1, -1], dims);
    }

    [Fact]
    public void ExportIsDeterministic()
    {
        var w = UNetWeights.CreateRandom(new UNetArchitecture { Channels = [4, 8] }, 3);
        Assert.Equal(UNetOnnxExporter.Export(w), UNetOnnxExporter.Export(w));
    }

    [Fact]
    public void ProductionModelSizeIsTheWeightsPlusLittle()
    {
        var arch = UNetArchitecture.Production;
        var bytes = UNetOnnxExporter.Export(UNetWeights.CreateRandom(arch, 1));
        var weightBytes = arch.ParameterCount() * 4;
        output.WriteLine($"production {arch}: {arch.ParameterCount():N0} parameters, {weightBytes:N0} weight bytes, ONNX file {bytes.Length:N0} bytes");
        Assert.InRange(bytes.Length, weightBytes, weightBytes + 64 * 1024);
    }

    [Fact]
    public void BuilderRejectsUndefinedInputsAndDuplicates()
    {
        var g = new OnnxGraphBuilder("g");
        g.AddInput("x", OnnxElementType.Float, [OnnxDim.Fixed(1)]);
        Assert.Throws<InvalidOperationException>(() => g.Node("Relu", ["nope"]));
        Assert.Throws<InvalidOperationException>(() => g.AddInput("x", OnnxElementType.Float, [OnnxDim.Fixed(1)]));
        Assert.Throws<ArgumentException>(() => g.AddInitializer("w", [1f, 2f], [3]));
        Assert.Throws<InvalidOperationException>(() => g.ToBytes(new OnnxModelInfo()));
        var y = g.Node("Relu", ["x"]);
        g.AddOutput(g.Rename(y, "y"), OnnxElementType.Float, [OnnxDim.Fixed(1)]);
        using var session = new InferenceSession(g.ToBytes(new OnnxModelInfo()));
        using var v = OrtValue.CreateTensorValueFromMemory(new[] { -3f }, [1]);
        using var ro = new RunOptions();
        using var r = session.Run(ro, ["x"], [v], ["y"]);
        Assert.Equal(0f, r[0].GetTensorDataAsSpan<float>()[0]);
    }
}
