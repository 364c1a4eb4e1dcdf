using System.Globalization;
using System.Reflection;
using Xunit.Abstractions;

namespace HippoNode.Dicom.Tests.Dictionary;

public sealed class DicomDictionaryTests(ITestOutputHelper output)
{
    private const string DefaultDicPath = "/usr/share/libdcmtk17/dicom.dic";
    private const string Regenerate = "regenerate with: dotnet run --project src/HippoNode.Dicom.DictionaryGenerator";

    private static DicomDictionaryEntry Known(ushort group, ushort element)
    {
        var e = DicomDictionary.Find(new DicomTag(group, element));
        Assert.NotNull(e);
        return e;
    }

    [Fact]
    public void PatientName_IsPN_VM1()
    {
        var e = Known(0x0010, 0x0010);
        Assert.Equal("PatientName", e.Keyword);
        Assert.Equal(DicomVR.PN, e.VR);
        Assert.Equal([DicomVR.PN], e.AllowedVRs);
        Assert.Equal("1", e.VM);
        Assert.False(e.IsRetired);
        Assert.Equal(new DicomTag(0x0010, 0x0010), DicomTags.PatientName);
    }

    [Fact]
    public void PixelData_DecodesAsOW_AllowsOBOrOW()
    {
        var e = Known(0x7FE0, 0x0010);
        Assert.Equal("PixelData", e.Keyword);
        Assert.Equal(DicomVR.OW, e.VR);
        Assert.Equal([DicomVR.OB, DicomVR.OW], e.AllowedVRs);
        Assert.Equal(DicomVR.OW, DicomDictionary.ImplicitVR(DicomTags.PixelData));
    }

    [Fact]
    public void SmallestImagePixelValue_DecodesAsUS_AllowsUSOrSS()
    {
        var e = Known(0x0028, 0x0106);
        Assert.Equal("SmallestImagePixelValue", e.Keyword);
        Assert.Equal(DicomVR.US, e.VR);
        Assert.Equal([DicomVR.US, DicomVR.SS], e.AllowedVRs);
        Assert.Equal("1", e.VM);
    }

    [Fact]
    public void LutData_DecodesAsOW_AllowsUSSSOrOW()
    {
        var e = Known(0x0028, 0x3006);
        Assert.Equal("LUTData", e.Keyword);
        Assert.Equal(DicomVR.OW, e.VR);
        Assert.Equal([DicomVR.US, DicomVR.SS, DicomVR.OW], e.AllowedVRs);
        Assert.Equal("1-n", e.VM);
    }

    [Fact]
    public void DirectoryRecordOffset_IsUL()
    {
        var e = Known(0x0004, 0x1400);
        Assert.Equal("OffsetOfTheNextDirectoryRecord", e.Keyword);
        Assert.Equal(DicomVR.UL, e.VR);
        Assert.Equal([DicomVR.UL], e.AllowedVRs);
    }

    [Fact]
    public void ItemAndDelimiters_HaveNoVR()
    {
        foreach (var tag in new[] { DicomTag.Item, DicomTag.ItemDelimitationItem, DicomTag.SequenceDelimitationItem })
        {
            var e = DicomDictionary.Find(tag);
            Assert.NotNull(e);
            Assert.Equal(DicomVR.None, e.VR);
            Assert.Empty(e.AllowedVRs);
        }
        Assert.Equal("Item", Known(0xFFFE, 0xE000).Keyword);
    }

    [Fact]
    public void OverlayData_InGroup6002_FoundThroughRange()
    {
        var tag = new DicomTag(0x6002, 0x3000);
        var e = DicomDictionary.Find(tag);
        Assert.NotNull(e);
        Assert.Equal("OverlayData", e.Keyword);
        Assert.Equal(DicomVR.OW, e.VR);
        Assert.Equal([DicomVR.OB, DicomVR.OW], e.AllowedVRs);
        Assert.Equal(DicomVR.OW, DicomDictionary.ImplicitVR(tag));
        Assert.Equal("OverlayData", DicomDictionary.KeywordOf(tag));
        Assert.Contains(DicomDictionary.Ranges, r => r.Contains(tag) && ReferenceEquals(r.Entry, e));
        Assert.DoesNotContain(DicomDictionary.Entries, x => x.Tag == tag);

        Assert.Equal("OverlayRows", Known(0x6000, 0x0010).Keyword);
        Assert.Equal("OverlayRows", Known(0x60FE, 0x0010).Keyword);
    }

    [Fact]
    public void OddOverlayGroup6001_DoesNotMatchRange()
    {
        // A plain '-' range in dicom.dic is even-only (DCMTK): group 6001 is private, not an overlay.
        var data = new DicomTag(0x6001, 0x3000);
        Assert.Null(DicomDictionary.Find(data));
        Assert.Equal(DicomVR.UN, DicomDictionary.ImplicitVR(data));
        Assert.Equal("", DicomDictionary.KeywordOf(data));
        Assert.Equal(DicomVR.LO, DicomDictionary.ImplicitVR(new DicomTag(0x6001, 0x0010)));
        Assert.Null(DicomDictionary.Find(new DicomTag(0x6100, 0x3000)));
    }

    [Fact]
    public void ElementRange_IsEvenOnly()
    {
        var e = Known(0x0020, 0x3102);
        Assert.Equal("RETIRED_SourceImageIDs", e.Keyword);
        Assert.True(e.IsRetired);
        Assert.Equal("RETIRED_SourceImageIDs", Known(0x0020, 0x31FE).Keyword);
        Assert.Null(DicomDictionary.Find(new DicomTag(0x0020, 0x3101)));
    }

    [Fact]
    public void RetiredTags_AreFlagged()
    {
        var e = Known(0x0008, 0x0001);
        Assert.Equal("RETIRED_LengthToEnd", e.Keyword);
        Assert.True(e.IsRetired);
        Assert.Equal(DicomVR.UL, e.VR);
        Assert.Equal(new DicomTag(0x0008, 0x0001), DicomTags.RETIRED_LengthToEnd);

        var curve = Known(0x5002, 0x3000); // retired repeating group
        Assert.Equal("RETIRED_CurveData", curve.Keyword);
        Assert.True(curve.IsRetired);

        Assert.False(Known(0x0008, 0x0018).IsRetired); // SOPInstanceUID
        Assert.All(DicomDictionary.Entries, x => Assert.Equal(x.Keyword.StartsWith("RETIRED_", StringComparison.Ordinal), x.IsRetired));
    }

    [Fact]
    public void KeywordLookup()
    {
        var e = DicomDictionary.Find("PatientName");
        Assert.NotNull(e);
        Assert.Equal(new DicomTag(0x0010, 0x0010), e.Tag);

        var sop = DicomDictionary.Find("SOPInstanceUID");
        Assert.NotNull(sop);
        Assert.Equal(new DicomTag(0x0008, 0x0018), sop.Tag);
        Assert.Equal(DicomVR.UI, sop.VR);

        var overlay = DicomDictionary.Find("OverlayData");
        Assert.NotNull(overlay);
        Assert.Equal(new DicomTag(0x6000, 0x3000), overlay.Tag);

        Assert.Null(DicomDictionary.Find("patientname")); // keywords are case-sensitive
        Assert.Null(DicomDictionary.Find("NoSuchKeyword"));
        Assert.Equal("PatientName", DicomDictionary.KeywordOf(DicomTags.PatientName));
    }

    [Fact]
    public void ImplicitVR_PrivateAndGroupLength()
    {
        Assert.Equal(DicomVR.LO, DicomDictionary.ImplicitVR(new DicomTag(0x0009, 0x0010))); // private creator
        Assert.Equal(DicomVR.LO, DicomDictionary.ImplicitVR(new DicomTag(0x0029, 0x00FF)));
        Assert.Equal(DicomVR.UN, DicomDictionary.ImplicitVR(new DicomTag(0x0009, 0x1001))); // private data
        Assert.Equal(DicomVR.UN, DicomDictionary.ImplicitVR(new DicomTag(0x0029, 0x1010)));
        Assert.Equal(DicomVR.UL, DicomDictionary.ImplicitVR(new DicomTag(0x0008, 0x0000))); // group length
        Assert.Equal(DicomVR.UL, DicomDictionary.ImplicitVR(new DicomTag(0x0009, 0x0000)));
        Assert.Equal(DicomVR.UL, DicomDictionary.ImplicitVR(new DicomTag(0x0002, 0x0000)));
        Assert.Equal(DicomVR.PN, DicomDictionary.ImplicitVR(DicomTags.PatientName));
        Assert.Equal(DicomVR.UN, DicomDictionary.ImplicitVR(new DicomTag(0x0008, 0x0003))); // unassigned standard tag
        Assert.Equal("FileMetaInformationGroupLength", DicomDictionary.KeywordOf(new DicomTag(0x0002, 0x0000)));
    }

    [Fact]
    public void DicomTagsProperties_MatchDictionary()
    {
        var fields = typeof(DicomTags).GetProperties(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.PropertyType == typeof(DicomTag))
            .ToList();
        Assert.True(fields.Count > 4000, $"only {fields.Count} DicomTags properties");
        foreach (var f in fields)
        {
            var tag = (DicomTag)f.GetValue(null)!;
            var e = DicomDictionary.Find(tag);
            Assert.True(e is not null, $"DicomTags.{f.Name} {tag} is not in the dictionary");
            Assert.Equal(f.Name, e.Keyword);
        }
    }

    [Fact]
    public void Entries_AreUniqueAndSorted()
    {
        var tags = DicomDictionary.Entries.Select(e => e.Tag.Value).ToList();
        Assert.True(tags.Count > 4000);
        Assert.Equal(tags.Order(), tags);
        Assert.Equal(tags.Count, tags.Distinct().Count());
        Assert.All(DicomDictionary.Entries, e => Assert.True(e.VR == DicomVR.None || e.AllowedVRs.Contains(e.VR), e.Keyword));
    }

    /// <summary>Every non-PRIVATE line of DCMTK's dicom.dic is in the dictionary with the same VR, VM and retired flag.</summary>
    [Fact]
    public void GeneratedDictionary_MatchesDcmtkDicomDic()
    {
        var path = Environment.GetEnvironmentVariable("HIPPONODE_DICOM_DIC");
        if (string.IsNullOrEmpty(path)) path = DefaultDicPath;
        if (!File.Exists(path))
        {
            output.WriteLine($"SKIPPED: {path} not found (install the Debian package dcmtk, or set HIPPONODE_DICOM_DIC); the generated dictionary was not compared with DCMTK.");
            return;
        }

        var fixedEntries = new HashSet<DicomDictionaryEntry>(DicomDictionary.Entries, ReferenceEqualityComparer.Instance);
        var fixedCount = 0;
        var rangeCount = 0;
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(f.Length >= 4, $"{path}:{lineNumber}: malformed line '{raw}'");
            var version = f.Length > 4 ? f[4] : "";
            if (version == "PRIVATE") continue; // private group length / private creator: handled in code

            var where = $"{path}:{lineNumber} {f[0]} {f[2]} ({Regenerate})";
            var (vr, allowed) = MapVR(f[1]);
            var keyword = f[2];
            var vm = f[3];
            var retired = version.Contains("retired", StringComparison.OrdinalIgnoreCase);
            var parts = f[0].Trim('(', ')').Split(',');
            var (gl, gh, gp) = ParsePart(parts[0]);
            var (el, eh, ep) = ParsePart(parts[1]);

            DicomDictionaryEntry? e;
            if (gl == gh && el == eh)
            {
                fixedCount++;
                e = DicomDictionary.Find(new DicomTag(gl, el));
                Assert.True(e is not null, $"missing {where}");
                Assert.True(fixedEntries.Contains(e), $"not a fixed entry: {where}");
            }
            else
            {
                rangeCount++;
                var range = DicomDictionary.Ranges.FirstOrDefault(r =>
                    r.GroupLow == gl && r.GroupHigh == gh && r.GroupParity == gp &&
                    r.ElementLow == el && r.ElementHigh == eh && r.ElementParity == ep);
                Assert.True(range is not null, $"missing range {where}");
                e = range.Entry;
                Assert.Equal(new DicomTag(gl, el), e.Tag);
            }
            Assert.True(keyword == e.Keyword, $"keyword {e.Keyword} != {where}");
            Assert.True(vr == e.VR, $"VR {e.VR} != {f[1]}: {where}");
            Assert.True(allowed.SequenceEqual(e.AllowedVRs), $"allowed VRs [{string.Join(",", e.AllowedVRs)}] != {f[1]}: {where}");
            Assert.True(vm == e.VM, $"VM {e.VM} != {vm}: {where}");
            Assert.True(retired == e.IsRetired, $"retired flag {e.IsRetired}: {where}");
        }

        output.WriteLine($"{path}: {fixedCount} fixed entries and {rangeCount} ranges checked.");
        Assert.Equal(fixedCount, DicomDictionary.Entries.Count);
        Assert.Equal(rangeCount, DicomDictionary.Ranges.Count);
    }

    /// <summary>dicom.dic's VR column, pseudo-VRs included, as (implicit-VR decoding VR, allowed VRs).</summary>
    private static (DicomVR VR, DicomVR[] Allowed) MapVR(string code) => code switch
    {
        "xs" => (DicomVR.US, [DicomVR.US, DicomVR.SS]),
        "ox" or "px" => (DicomVR.OW, [DicomVR.OB, DicomVR.OW]),
        "lt" => (DicomVR.OW, [DicomVR.US, DicomVR.SS, DicomVR.OW]),
        "up" => (DicomVR.UL, [DicomVR.UL]),
        "na" => (DicomVR.None, []),
        _ when DicomVRInfo.TryParse(code, out var vr) => (vr, [vr]),
        _ => throw new InvalidDataException($"unknown VR '{code}' in dicom.dic"),
    };

    /// <summary>"gggg", "gggg-gggg" (even only, as in DCMTK), "gggg-o-gggg", "gggg-e-gggg", "gggg-u-gggg".</summary>
    private static (ushort Low, ushort High, byte Parity) ParsePart(string s)
    {
        var p = s.Split('-');
        ushort Hex(string h) => ushort.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return p.Length switch
        {
            1 => (Hex(p[0]), Hex(p[0]), (byte)0),
            2 => (Hex(p[0]), Hex(p[1]), (byte)2),
            3 => (Hex(p[0]), Hex(p[2]), p[1] switch { "o" => (byte)1, "e" => (byte)2, "u" => (byte)0, _ => throw new InvalidDataException(s) }),
            _ => throw new InvalidDataException(s),
        };
    }
}
