using System.Globalization;
using System.Text.Json;
using HippoNode.Commands;
using Xunit.Abstractions;

namespace HippoNode.Tests;

/// <summary>
/// Acceptance of the committed chest X-ray model on its held-out test patients (validation plan, chest X-ray module):
/// what `hipponode evaluate` measures now is what the model card states, within the plan's margin.
/// </summary>
public sealed class CommittedChestModelTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-chest-accept-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Model => Path.Combine(TestData.RepoRoot, "models", "chest-xray");

    /// <summary>The model card's test row: AUROC, accuracy, sensitivity, specificity, PPV, NPV.</summary>
    private static double[] CardTestRow()
    {
        foreach (var line in File.ReadAllLines(Path.Combine(Model, "MODEL_CARD.md")))
        {
            if (!line.StartsWith("| test", StringComparison.Ordinal)) continue;
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToList();
            return [.. cells.Skip(2).Take(6).Select(c => double.Parse(c, CultureInfo.InvariantCulture))];
        }
        throw new InvalidDataException("MODEL_CARD.md has no '| test ...' results row");
    }

    [SharedDataFact]
    public void TestPatients_AurocAccuracySensitivitySpecificity_AreWhatTheModelCardStates()
    {
        var json = Path.Combine(_dir, "test.json");
        var o = new StringWriter();
        var e = new StringWriter();
        var code = EvaluateCommand.Run(["--model", Model, "--images", TestData.Shared("chest-xray-pneumonia", "train"), "--labels", Path.Combine(Model, "test.csv"), "--json", json], o, e);
        output.WriteLine(o.ToString() + e);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var s = doc.RootElement.GetProperty("summary");
        Assert.Equal(768, s.GetProperty("count").GetInt32());
        var card = CardTestRow();
        string[] keys = ["auroc", "accuracy", "sensitivity", "specificity", "ppv", "npv"];
        for (var i = 0; i < keys.Length; i++)
        {
            var measured = s.GetProperty(keys[i]).GetDouble();
            output.WriteLine($"{keys[i]}: measured {measured:F4}, card {card[i]:F4}");
            // REQ-MOD-008: not more than 0.02 below the card (the ONNX CPU run repeats it to the last digit on one machine).
            Assert.True(measured >= card[i] - 0.02, $"{keys[i]} {measured:F4} is more than 0.02 below the model card's {card[i]:F4}");
        }
    }
}
