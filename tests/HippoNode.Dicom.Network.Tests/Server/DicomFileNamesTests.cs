namespace HippoNode.Dicom.Network.Tests.Server;

/// <summary>Peer values never become paths outside the target folder.</summary>
public class DicomFileNamesTests
{
    [Fact]
    public void Sanitize_ValidUid_IsKept() => Assert.Equal("1.2.840.113619.2.55.3", DicomFileNames.Sanitize("1.2.840.113619.2.55.3"));

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b\\c")]
    [InlineData("/absolute")]
    [InlineData("")]
    [InlineData("1.2.3\0../x")]
    [InlineData("ÄÖÜ:*?<>|")]
    public void Sanitize_UnsafeValue_IsOneHarmlessComponent(string value)
    {
        var s = DicomFileNames.Sanitize(value);
        Assert.NotEmpty(s);
        Assert.DoesNotContain('/', s);
        Assert.DoesNotContain('\\', s);
        Assert.False(s.StartsWith('.'));
        Assert.All(s, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'));
        var root = Path.GetFullPath("/tmp/root");
        Assert.StartsWith(root + "/", Path.GetFullPath(Path.Combine(root, s)), StringComparison.Ordinal);
    }

    [Fact]
    public void Sanitize_TwoDifferentUnsafeValues_DoNotCollide()
    {
        Assert.NotEqual(DicomFileNames.Sanitize("a/b"), DicomFileNames.Sanitize("a\\b"));
    }

    [Fact]
    public void Sanitize_LeadingZeroUid_IsAlteredButStillRecognisable()
    {
        var s = DicomFileNames.Sanitize("1.2.03.4");
        Assert.StartsWith("1.2.03.4-", s, StringComparison.Ordinal);
    }
}
