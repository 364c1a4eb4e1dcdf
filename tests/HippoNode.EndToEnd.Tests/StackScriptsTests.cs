using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Reporting;

namespace HippoNode.EndToEnd.Tests;

/// <summary>The deployment scripts: static checks, start/stop of the stack without Docker, and OHIF screenshots.</summary>
public partial class StackScriptsTests
{
    private static string[] ShellScripts => Directory.GetFiles(StackTools.Scripts, "*.sh");

    [ToolFact("bash")]
    public void Scripts_PassBashSyntaxCheck()
    {
        Assert.NotEmpty(ShellScripts);
        foreach (var script in ShellScripts)
        {
            var r = TestData.Run("bash", ["-n", script]);
            Assert.True(r.ExitCode == 0, $"{Path.GetFileName(script)}: {r.StdErr}");
        }
    }

    [ToolFact("shellcheck")]
    public void Scripts_PassShellcheck()
    {
        var r = TestData.Run("shellcheck", ["-x", .. ShellScripts], workingDirectory: StackTools.Scripts);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
    }

    [ToolFact("node")]
    public void ScreenshotTool_IsValidJavaScript()
    {
        var r = TestData.Run("node", ["--check", Path.Combine(StackTools.Scripts, "ohif", "ohif_screenshot.cjs")]);
        Assert.True(r.ExitCode == 0, r.StdErr);
    }

    [Fact]
    public void Compose_UsesTheScriptsPortsAeTitlesAndFiles()
    {
        var compose = File.ReadAllText(Path.Combine(TestData.RepoRoot, "docker-compose.yml"));
        var env = File.ReadAllText(Path.Combine(StackTools.Scripts, "stack-env.sh"));
        string Default(string name) => EnvDefault().Matches(env).Single(m => m.Groups[1].Value == name).Groups[2].Value;

        // Published ports: loopback only, and the same numbers start_stack.sh uses.
        foreach (var (port, variable) in new[] { ("4242", "ORTHANC_DICOM_PORT"), ("8042", "ORTHANC_HTTP_PORT"), ("3000", "OHIF_PORT"), ("11112", "HIPPONODE_PORT") })
        {
            Assert.Equal(port, Default(variable));
            Assert.Contains($"\"127.0.0.1:{port}:", compose, StringComparison.Ordinal);
        }
        Assert.Equal("ORTHANC", Default("ORTHANC_AET"));
        Assert.Equal("HIPPONODE", Default("HIPPONODE_AET"));
        Assert.Contains("HippoNode__AeTitle: HIPPONODE", compose, StringComparison.Ordinal);
        Assert.Contains("HippoNode__Pacs__AeTitle: ORTHANC", compose, StringComparison.Ordinal);
        Assert.Contains("HIPPONODE_HOST: hipponode", compose, StringComparison.Ordinal);
        Assert.Contains($"ohif/app:v{Default("OHIF_VERSION")}", compose, StringComparison.Ordinal);
        // Every file the compose file mounts exists in the repository.
        foreach (Match m in MountedPath().Matches(compose))
        {
            var path = Path.Combine(TestData.RepoRoot, m.Groups[1].Value);
            Assert.True(File.Exists(path) || Directory.Exists(path), $"docker-compose.yml mounts {m.Groups[1].Value}, which does not exist");
        }
        Assert.True(File.Exists(Path.Combine(TestData.RepoRoot, "Dockerfile")));
    }

    [ToolFact("docker-compose")]
    public void Compose_IsValidForDockerCompose()
    {
        // `config` validates the file against the Compose schema without a Docker engine.
        var r = TestData.Run("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], workingDirectory: TestData.RepoRoot);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
    }

    [Fact]
    public void OrthancConfiguration_NamesTheRouterAndTheNodeModality()
    {
        // Orthanc substitutes ${VAR:-default} before parsing; do the same with the defaults to read it as JSON.
        var text = Substitution().Replace(File.ReadAllText(StackTools.OrthancConfig), m => m.Groups[2].Value);
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var root = doc.RootElement;
        Assert.Equal(4242, root.GetProperty("DicomPort").GetInt32());
        Assert.Equal(8042, root.GetProperty("HttpPort").GetInt32());
        Assert.False(root.GetProperty("RemoteAccessAllowed").GetBoolean());
        var node = root.GetProperty("DicomModalities").GetProperty("hipponode");
        Assert.Equal("HIPPONODE", node.GetProperty("AET").GetString());
        Assert.Equal(11112, node.GetProperty("Port").GetInt32());
        var lua = root.GetProperty("LuaScripts")[0].GetString()!;
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(StackTools.OrthancConfig)!, lua)), $"{lua} is missing");
        Assert.Equal("hipponode", root.GetProperty("HippoNodeRouting").GetProperty("Modality").GetString());
    }

    [StackFact("bash", "Orthanc", "dicomweb", "nginx", "curl", "echoscu", "storescu")]
    public async Task StartStack_ServesViewerAndProxiesDicomWeb_IsIdempotent_AndStopEndsEverything()
    {
        var dir = StackNet.TempDir("stack");
        // A stand-in OHIF build: this test checks our nginx and scripts, not OHIF (see Screenshot_ShowsStudyInOhif).
        var dist = Path.Combine(dir, "dist");
        Directory.CreateDirectory(dist);
        await File.WriteAllTextAsync(Path.Combine(dist, "index.html"), "<html>stand-in OHIF</html>");
        var env = StackEnvironment(dir, dist);
        var ohifPort = int.Parse(env["OHIF_PORT"], CultureInfo.InvariantCulture);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ohifPort}"), Timeout = TimeSpan.FromSeconds(20) };
        try
        {
            var start = Script("start_stack.sh", env, "--no-node");
            Assert.True(start.ExitCode == 0, start.Output);

            // Our app-config.js, not the package's; SPA routes fall back to index.html; DICOMweb reaches Orthanc.
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(StackTools.Scripts, "ohif", "app-config.js")), await http.GetStringAsync("/app-config.js"));
            Assert.Contains("stand-in OHIF", await http.GetStringAsync("/viewer?StudyInstanceUIDs=1.2.3"), StringComparison.Ordinal);
            var send = Script("send_volume.sh", env, TestData.Shared("TestVolumes", "Study1", "13_HCropVolume"));
            Assert.True(send.ExitCode == 0, send.Output);
            var studies = JsonDocument.Parse(await http.GetStringAsync("/dicom-web/studies")).RootElement;
            Assert.Equal(1, studies.GetArrayLength());

            var again = Script("start_stack.sh", env, "--no-node");
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Contains("orthanc already running", again.Output, StringComparison.Ordinal);
            Assert.Contains("nginx (OHIF) already running", again.Output, StringComparison.Ordinal);

            var pids = Directory.GetFiles(Path.Combine(dir, "run"), "*.pid").Select(f => int.Parse(File.ReadAllText(f), CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(2, pids.Count);
            var stop = Script("stop_stack.sh", env);
            Assert.True(stop.ExitCode == 0, stop.Output);
            Assert.All(pids, pid => Assert.False(Alive(pid), $"process {pid} still runs after stop_stack.sh"));
            Assert.False(StackNet.Listening(ohifPort));
            Assert.False(StackNet.Listening(int.Parse(env["ORTHANC_HTTP_PORT"], CultureInfo.InvariantCulture)));
            var stopAgain = Script("stop_stack.sh", env);
            Assert.True(stopAgain.ExitCode == 0, stopAgain.Output);
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }

    [StackFact("bash", "curl", "Orthanc", "dicomweb", "echoscu")]
    public void StartStack_RefusesAPortHeldByAnotherProgram()
    {
        var dir = StackNet.TempDir("stack-busy");
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var env = StackEnvironment(dir, Path.Combine(dir, "dist"));
        env["ORTHANC_HTTP_PORT"] = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        try
        {
            var start = Script("start_stack.sh", env, "--no-node", "--no-ohif");
            Assert.NotEqual(0, start.ExitCode);
            Assert.Contains($"port {env["ORTHANC_HTTP_PORT"]} (orthanc) is already in use", start.Output, StringComparison.Ordinal);
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }

    /// <summary>
    /// The install path of the screenshot tool from nothing: an empty cache gets playwright-core, usable from node, and
    /// a second run finds it. npm runs offline (its own cache, filled when the real cache was), since tests download
    /// nothing.
    /// </summary>
    [PlaywrightInstalledFact]
    public void ScreenshotTool_InstallOnly_InstallsPlaywrightCoreIntoAnEmptyCache()
    {
        Assert.True(OhifFactAttribute.PlaywrightCached, "CI=true and playwright-core was never installed here (.ci/run installs it)");
        var cache = StackNet.TempDir("cache");
        try
        {
            var env = new Dictionary<string, string> { ["HIPPONODE_CACHE"] = cache, ["npm_config_offline"] = "true" };
            var first = Script("ohif_screenshot.sh", env, "--install-only");
            Assert.True(first.ExitCode == 0, first.Output);
            Assert.Contains("installing playwright-core@", first.Output, StringComparison.Ordinal);
            var module = Path.Combine(cache, "playwright", "node_modules", "playwright-core");
            var load = TestData.Run("node", ["-e", "process.stdout.write(typeof require(process.argv[1]).chromium.launch)", module]);
            Assert.True(load.StdOut == "function", load.StdOut + load.StdErr);

            var second = Script("ohif_screenshot.sh", env, "--install-only");
            Assert.True(second.ExitCode == 0, second.Output);
            Assert.DoesNotContain("installing", second.Output, StringComparison.Ordinal);
            Assert.Contains($"is in {Path.Combine(cache, "playwright")}", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            StackNet.DeleteDir(cache);
        }
    }

    /// <summary>
    /// The real OHIF in chromium, as a reader uses it, on the results the node sends for Study2. Runs where the OHIF
    /// package and playwright-core are in the cache (.ci/run puts them there; tests never download); with CI=true a
    /// missing prerequisite fails the test instead of skipping it. What is asserted is what a reader needs: the SEG's
    /// segments listed with their names and colours, the SEG opening on the slice with the largest segmented area and
    /// each segment shown at its centre when clicked, every SR measurement labelled with its structure and volume on
    /// the image its outline was drawn on, and the analysed series in a window that fits its intensities.
    /// </summary>
    [OhifFact]
    public async Task StartStack_WithTheNode_OhifShowsOurSegOverlayAndSrVolume()
    {
        if (OhifFactAttribute.MissingPrerequisite() is { } missing) Assert.Fail($"CI=true and the OHIF test cannot run: {missing}");
        var dir = StackNet.TempDir("ohif");
        var env = StackEnvironment(dir, OhifFactAttribute.OhifDist);
        // The whole stack as start_stack.sh runs it, the node included (the built hipponode beside the tests).
        env["ORTHANC_STABLE_AGE"] = "3";
        env["HIPPONODE_HTTP_URL"] = $"http://127.0.0.1:{StackNet.FreePort()}";
        env["HIPPONODE_CMD"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "hipponode.dll")}";
        var shots = Path.Combine(dir, "shots");
        try
        {
            var start = Script("start_stack.sh", env);
            Assert.True(start.ExitCode == 0, start.Output);
            // Study2's crop: 48x36 pixels, so the SEG's bit frames start on byte boundaries, which OHIF 3.13 decodes
            // correctly (see README: it misreads frames that start mid-byte).
            var hippoCrop = TestData.Shared("TestVolumes", "Study2", "14_HCropVolume");
            Assert.Equal(0, Script("send_volume.sh", env, hippoCrop).ExitCode);
            var source = Directory.GetFiles(hippoCrop).Select(f => DicomFile.Open(f).Dataset).ToList();
            var uid = source[0].GetString(DicomTags.StudyInstanceUID)!;

            // Orthanc routes the stable study to the node; the node's SEG, SR and report come back.
            using var orthanc = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{env["ORTHANC_HTTP_PORT"]}") };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            List<(string Modality, string Uid)> series;
            while (true)
            {
                series = JsonDocument.Parse(await orthanc.GetStringAsync($"/dicom-web/studies/{uid}/series")).RootElement.EnumerateArray()
                    .Select(e => (e.GetProperty("00080060").GetProperty("Value")[0].GetString()!, e.GetProperty("0020000E").GetProperty("Value")[0].GetString()!))
                    .ToList();
                var modalities = series.Select(x => x.Modality).ToList();
                if (modalities.Contains("SEG") && modalities.Contains("SR") && modalities.Contains("OT")) break;
                Assert.True(DateTime.UtcNow < deadline, $"our results did not reach Orthanc: series {string.Join(", ", modalities)}");
                await Task.Delay(500);
            }
            var seg = await OrthancObjectAsync(orthanc, uid, series.Single(x => x.Modality == "SEG").Uid);
            var sr = await OrthancObjectAsync(orthanc, uid, series.Single(x => x.Modality == "SR").Uid);

            var shot = Script("ohif_screenshot.sh", env, "--study", uid, "--seg", "--sr", "--out", shots,
                "--base", $"http://127.0.0.1:{env["OHIF_PORT"]}", "--timeout", "60", "--settle", "3");
            if (Environment.GetEnvironmentVariable("HIPPONODE_KEEP_SCREENSHOTS") is { Length: > 0 } keep)
                foreach (var f in Directory.GetFiles(shots)) File.Copy(f, Path.Combine(Directory.CreateDirectory(keep).FullName, Path.GetFileName(f)), true);
            Assert.True(shot.ExitCode == 0, shot.Output);
            var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(shots, "summary.json"))).RootElement;
            Assert.True(summary.GetProperty("viewerLoaded").GetBoolean());
            Assert.Contains("HippoNode SEG", summary.GetProperty("studyBrowser").GetString(), StringComparison.Ordinal);

            AssertSegAsAReaderNeedsIt(summary.GetProperty("seg"), seg);
            AssertSrAsAReaderNeedsIt(summary.GetProperty("sr"), sr);
            var window = Percentiles(source);
            foreach (var view in Views(summary))
            {
                var range = view.GetProperty("voiRange");
                double lower = range.GetProperty("lower").GetDouble(), upper = range.GetProperty("upper").GetDouble();
                var slack = 0.02 * (window.P99 - window.P1);
                Assert.True(Math.Abs(lower - window.P1) <= slack && Math.Abs(upper - window.P99) <= slack,
                    $"window {lower}..{upper}, not the series' 1st-99th percentile {window.P1}..{window.P99}");
            }
            foreach (var f in Directory.GetFiles(shots, "*.png").Where(f => !f.EndsWith("-prompt.png", StringComparison.Ordinal)))
                Assert.True(new FileInfo(f).Length > 10_000, $"{f} is nearly empty");
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }

    /// <summary>Segments named and coloured as the SEG says; the SEG opens where it covers most; each segment clicked is shown at its centre.</summary>
    private static void AssertSegAsAReaderNeedsIt(JsonElement result, DicomDataset seg)
    {
        Assert.True(result.GetProperty("hydrated").GetBoolean() && result.GetProperty("loaded").GetBoolean(), result.ToString());
        var segments = seg.GetSequence(DicomTags.SegmentSequence)!.Items
            .Select(i => (Number: i.GetValue<int>(DicomTags.SegmentNumber), Label: i.GetString(DicomTags.SegmentLabel)!, Lab: i.GetValues<ushort>(DicomTags.RecommendedDisplayCIELabValue)))
            .ToList();
        Assert.Equal(["anterior hippocampus", "posterior hippocampus"], segments.Select(s => s.Label));
        var areas = SegmentAreas(seg);

        // The panel lists each segment by name with a colour dot of the SEG's colour; OHIF colours the overlay the same.
        var panel = result.GetProperty("panelSegments").EnumerateArray().ToList();
        Assert.Equal(segments.Select(s => s.Label), panel.Select(p => p.GetProperty("title").GetString()));
        var opening = result.GetProperty("view");
        foreach (var (s, row) in segments.Zip(panel))
        {
            AssertColour(s.Lab, CssRgb(row.GetProperty("colour").GetString()!), $"panel dot of {s.Label}");
            var held = opening.GetProperty("segments").EnumerateArray().Single(x => x.GetProperty("number").GetInt32() == s.Number);
            Assert.Equal(s.Label, held.GetProperty("label").GetString());
            AssertColour(s.Lab, held.GetProperty("colour").EnumerateArray().Take(3).Select(c => c.GetDouble()).ToArray(), $"overlay of {s.Label}");
        }

        // Opening view: the image where the SEG covers the largest area (all segments together), not an edge.
        var total = areas.Values.SelectMany(a => a).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Sum(a => a.Value));
        var shown = opening.GetProperty("sopInstanceUid").GetString()!;
        Assert.True(total.GetValueOrDefault(shown) == total.Values.Max(),
            $"the SEG opened on an image with {total.GetValueOrDefault(shown)} segmented pixels; the largest has {total.Values.Max()}");

        // Each segment clicked in the panel: OHIF shows it at its centre, where it is at least half as large as on its largest image.
        var visits = result.GetProperty("segmentViews").EnumerateArray().ToList();
        Assert.Equal(segments.Count, visits.Count);
        foreach (var (s, visit) in segments.Zip(visits))
        {
            Assert.Equal(s.Label, visit.GetProperty("title").GetString());
            var sop = visit.GetProperty("view").GetProperty("sopInstanceUid").GetString()!;
            var here = areas[s.Number].GetValueOrDefault(sop);
            var largest = areas[s.Number].Values.Max();
            Assert.True(2 * here >= largest, $"{s.Label} clicked: shown on an image where it has {here} pixels; its largest image has {largest}");
        }
    }

    /// <summary>Every SR measurement group (anterior, posterior, whole): its name and volume drawn on the image its outline refers to.</summary>
    private static void AssertSrAsAReaderNeedsIt(JsonElement result, DicomDataset sr)
    {
        Assert.True(result.GetProperty("loaded").GetBoolean(), result.ToString());
        var views = result.GetProperty("measurementViews").EnumerateArray().Select(v => v.GetProperty("view")).ToList();
        var expected = SrMeasurements(sr);
        Assert.Equal(["anterior hippocampus", "posterior hippocampus", "whole hippocampus"], expected.Select(m => m.Name));
        foreach (var m in expected)
        {
            var volume = $"Volume: {m.VolumeMm3.ToString("F2", CultureInfo.InvariantCulture)} mm3";
            var view = views.FirstOrDefault(v => v.GetProperty("textBoxes").EnumerateArray()
                .Any(box => box.EnumerateArray().Select(l => l.GetString()!.Trim()).ToList() is var lines
                    && lines.Count > 1 && lines[0] == m.Name + ":" && lines.Contains(volume)));
            Assert.True(view.ValueKind == JsonValueKind.Object,
                $"no view labels {m.Name} with \"{volume}\"; text drawn: {string.Join(" | ", views.Select(v => v.GetProperty("textBoxes").ToString()))}");
            Assert.Equal(m.OutlineImage, view.GetProperty("sopInstanceUid").GetString());
        }
    }

    private static IEnumerable<JsonElement> Views(JsonElement summary)
    {
        yield return summary.GetProperty("view");
        var seg = summary.GetProperty("seg");
        yield return seg.GetProperty("view");
        foreach (var v in seg.GetProperty("segmentViews").EnumerateArray()) yield return v.GetProperty("view");
        foreach (var v in summary.GetProperty("sr").GetProperty("measurementViews").EnumerateArray()) yield return v.GetProperty("view");
    }

    /// <summary>Pixels per segment number and source image (SOP Instance UID), decoded from the SEG's frames.</summary>
    private static Dictionary<int, Dictionary<string, int>> SegmentAreas(DicomDataset seg)
    {
        int rows = seg.GetValue<int>(DicomTags.Rows), columns = seg.GetValue<int>(DicomTags.Columns);
        var pixels = ((DicomElement)seg.GetItem(DicomTags.PixelData)!).Buffer.GetMemory().ToArray();
        var areas = new Dictionary<int, Dictionary<string, int>>();
        var frames = seg.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items;
        for (var i = 0; i < frames.Count; i++)
        {
            var number = frames[i].GetSequence(DicomTags.SegmentIdentificationSequence)!.Items[0].GetValue<int>(DicomTags.ReferencedSegmentNumber);
            var image = frames[i].GetSequence(DicomTags.DerivationImageSequence)!.Items[0].GetSequence(DicomTags.SourceImageSequence)!.Items[0]
                .GetString(DicomTags.ReferencedSOPInstanceUID)!;
            var perImage = areas.TryGetValue(number, out var a) ? a : areas[number] = [];
            perImage[image] = perImage.GetValueOrDefault(image) + SegmentationWriter.UnpackFrame(pixels, rows, columns, i).Count(b => b == 1);
        }
        return areas;
    }

    /// <summary>Each measurement group of a TID 1500 SR: the structure named in its Comment, its volume and the image its outline is drawn on.</summary>
    private static List<(string Name, double VolumeMm3, string OutlineImage)> SrMeasurements(DicomDataset sr)
    {
        static string Concept(DicomDataset item) => item.GetSequence(DicomTags.ConceptNameCodeSequence)?.Items[0].GetString(DicomTags.CodeValue) ?? "";
        static IEnumerable<DicomDataset> Children(DicomDataset item) => item.GetSequence(DicomTags.ContentSequence)?.Items ?? [];
        static IEnumerable<DicomDataset> Walk(DicomDataset item) => Children(item).SelectMany(c => Walk(c).Prepend(c));
        return Walk(sr).Where(i => Concept(i) == "125007").Select(group =>
        {
            var items = Children(group).ToList();
            var volume = items.Single(i => Concept(i) == "118565006");
            var value = double.Parse(volume.GetSequence(DicomTags.MeasuredValueSequence)!.Items[0].GetString(DicomTags.NumericValue)!, CultureInfo.InvariantCulture);
            var image = Children(Children(volume).Single(c => c.GetString(DicomTags.ValueType) == "SCOORD")).Single()
                .GetSequence(DicomTags.ReferencedSOPSequence)!.Items[0].GetString(DicomTags.ReferencedSOPInstanceUID)!;
            return (items.Single(i => Concept(i) == "121106").GetString(DicomTags.TextValue)!, value, image);
        }).ToList();
    }

    /// <summary>The 1st and 99th percentiles of a series' stored pixel values (signed 16-bit, as the HippoCrop series store them).</summary>
    private static (double P1, double P99) Percentiles(IEnumerable<DicomDataset> images)
    {
        var values = images.SelectMany(ds =>
        {
            var bytes = ((DicomElement)ds.GetItem(DicomTags.PixelData)!).Buffer.GetMemory().ToArray();
            return Enumerable.Range(0, bytes.Length / 2).Select(i => (double)BitConverter.ToInt16(bytes, 2 * i));
        }).Order().ToArray();
        return (values[(int)Math.Round(0.01 * (values.Length - 1))], values[(int)Math.Round(0.99 * (values.Length - 1))]);
    }

    /// <summary>
    /// Asserts a displayed sRGB colour is the SEG's CIELab colour, within what viewers' Lab conversions differ by: OHIF
    /// 3.13 converts DICOM Lab as if its white were D65 (PS3.3 uses the D50 of the ICC connection space) and clips what
    /// falls outside sRGB, about ΔE*ab 12 on our blue. The colours OHIF would use without ours (its palette's first two)
    /// are ΔE 60 and 104 from ours, and our two segments ΔE 139 apart.
    /// </summary>
    private static void AssertColour(ushort[] dicomLab, double[] rgb, string what)
    {
        var shown = CieLab.FromSrgb(new RgbColour(Byte(rgb[0]), Byte(rgb[1]), Byte(rgb[2])));
        double l = dicomLab[0] / 65535.0 * 100, a = dicomLab[1] / 65535.0 * 255 - 128, b = dicomLab[2] / 65535.0 * 255 - 128;
        var deltaE = Math.Sqrt(Math.Pow(shown.L - l, 2) + Math.Pow(shown.A - a, 2) + Math.Pow(shown.B - b, 2));
        Assert.True(deltaE < 20, $"{what}: rgb({string.Join(", ", rgb)}) is ΔE {deltaE:F1} from the SEG's Lab ({l:F1}, {a:F1}, {b:F1})");
        static byte Byte(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
    }

    private static double[] CssRgb(string css) => CssColour().Match(css) is { Success: true } m
        ? [double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)]
        : throw new FormatException($"not a CSS rgb() colour: {css}");

    /// <summary>The one instance of a series, as Orthanc stores it (what OHIF reads).</summary>
    private static async Task<DicomDataset> OrthancObjectAsync(HttpClient orthanc, string study, string series)
    {
        var sop = JsonDocument.Parse(await orthanc.GetStringAsync($"/dicom-web/studies/{study}/series/{series}/instances")).RootElement
            .EnumerateArray().Single().GetProperty("00080018").GetProperty("Value")[0].GetString()!;
        using var lookup = await orthanc.PostAsync("/tools/lookup", new StringContent(sop));
        lookup.EnsureSuccessStatusCode();
        var id = JsonDocument.Parse(await lookup.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single().GetProperty("ID").GetString();
        await using var file = await orthanc.GetStreamAsync($"/instances/{id}/file");
        using var copy = new MemoryStream();
        await file.CopyToAsync(copy);
        copy.Position = 0;
        return DicomFile.Read(copy).Dataset;
    }

    /// <summary>A run folder and free ports for one stack under test.</summary>
    private static Dictionary<string, string> StackEnvironment(string stackDir, string ohifDist) => new()
    {
        ["STACK_DIR"] = stackDir,
        ["ORTHANC_DICOM_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["ORTHANC_HTTP_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["OHIF_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["HIPPONODE_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["ORTHANC_STABLE_AGE"] = "60",
        ["OHIF_DIST"] = ohifDist,
    };

    private static (int ExitCode, string Output) Script(string name, Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(StackTools.Scripts, name));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, $"{name} timed out\n{stdout.Result}{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^([A-Z_]+)=""\$\{\1:-([^}]*)\}""", RegexOptions.Multiline)]
    private static partial Regex EnvDefault();

    [GeneratedRegex(@"^\s*- \./([^:\s]+):", RegexOptions.Multiline)]
    private static partial Regex MountedPath();

    [GeneratedRegex(@"\$\{([A-Z_]+):-([^}]*)\}")]
    private static partial Regex Substitution();

    [GeneratedRegex(@"rgba?\(\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)")]
    private static partial Regex CssColour();
}

/// <summary>
/// Runs the OHIF screenshot test where OHIF and playwright-core are cached and chromium, nginx and Orthanc are installed;
/// elsewhere it skips with the reason, except with CI=true, where the test runs and fails with it (.ci/run installs
/// everything, so a missing piece there is a broken CI, not a reason to skip).
/// </summary>
public sealed class OhifFactAttribute : FactAttribute
{
    /// <summary>The cache the stack scripts use ($HIPPONODE_CACHE, else $XDG_CACHE_HOME/hipponode or ~/.cache/hipponode).</summary>
    public static string Cache { get; } = Environment.GetEnvironmentVariable("HIPPONODE_CACHE") is { Length: > 0 } c
        ? c
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "hipponode");

    /// <summary>The cached OHIF build start_stack.sh serves.</summary>
    public static string OhifDist => Path.Combine(Cache, "ohif", "3.13.2", "package", "dist");

    /// <summary>True on a CI machine (CI=true, as GitHub Actions, GitLab and most CI services set it).</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when ohif_screenshot.sh has installed playwright-core into the cache.</summary>
    public static bool PlaywrightCached => File.Exists(Path.Combine(Cache, "playwright", "node_modules", "playwright-core", "package.json"));

    /// <summary>The skip reason when playwright-core is not in the cache.</summary>
    public const string PlaywrightMissing = "playwright-core is not cached (run deploy_scripts/ohif_screenshot.sh --install-only once; tests do not download it)";

    /// <summary>The first missing prerequisite of the OHIF test (shared data aside), or null.</summary>
    public static string? MissingPrerequisite() =>
        StackTools.Missing(["bash", "Orthanc", "dicomweb", "nginx", "curl", "echoscu", "storescu", "node", "npm", "chromium"])
        ?? (!File.Exists(Path.Combine(OhifDist, "index.html")) ? $"OHIF is not cached at {OhifDist} (run deploy_scripts/start_stack.sh --fetch-ohif once; tests do not download it)" : null)
        ?? (!PlaywrightCached ? PlaywrightMissing : null);

    /// <summary>Sets the skip reason when the shared data or (outside CI) a prerequisite is missing.</summary>
    public OhifFactAttribute()
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (!InCi && MissingPrerequisite() is { } reason) Skip = reason;
    }
}

/// <summary>
/// Runs where ohif_screenshot.sh installed playwright-core once, so that npm's own cache can install it again offline;
/// skips elsewhere with the reason, except with CI=true, where the test runs and fails.
/// </summary>
public sealed class PlaywrightInstalledFactAttribute : FactAttribute
{
    /// <summary>Sets the skip reason when bash, node or npm is missing, or (outside CI) playwright-core was never installed.</summary>
    public PlaywrightInstalledFactAttribute()
    {
        if (StackTools.Missing(["bash", "node", "npm"]) is { } reason) Skip = reason;
        else if (!OhifFactAttribute.InCi && !OhifFactAttribute.PlaywrightCached) Skip = OhifFactAttribute.PlaywrightMissing;
    }
}
