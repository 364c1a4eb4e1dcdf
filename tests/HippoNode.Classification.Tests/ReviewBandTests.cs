namespace HippoNode.Classification.Tests;

/// <summary>The chest model's per-image quality signal: a band around the threshold, symmetric in log-odds.</summary>
public sealed class ReviewBandTests
{
    [Fact]
    public void DefaultBand_AroundTheChestModelsThreshold_IsWhatTheValidationPlanStates()
    {
        var band = new ReviewBand(0.3747, ReviewBand.DefaultMargin).Validated();
        // validation-plan/modules/chest-xray.md: probabilities 0.075 to 0.816 are flagged.
        Assert.Equal(0.075, band.Low, 3);
        Assert.Equal(0.816, band.High, 3);
        Assert.True(band.Contains(0.3747));
        Assert.True(band.Contains(0.08));
        Assert.True(band.Contains(0.8));
        Assert.False(band.Contains(0.07));
        Assert.False(band.Contains(0.83));
        Assert.False(band.Contains(double.NaN));
    }

    [Fact]
    public void EdgesAreOutside_AndTheDistanceIsInLogOdds()
    {
        var band = new ReviewBand(0.5, 1);
        Assert.False(band.Contains(band.Low));
        Assert.False(band.Contains(band.High));
        Assert.Equal(1, band.Distance(band.High), 9);
        Assert.Equal(-1, band.Distance(band.Low), 9);
        // A saturated probability has a large, finite distance and is never in the band.
        Assert.True(double.IsFinite(band.Distance(1.0)));
        Assert.False(band.Contains(0.0));
    }

    [Fact]
    public void MarginZero_TurnsTheFlagOff()
    {
        var band = new ReviewBand(0.4, 0).Validated();
        Assert.False(band.Contains(0.4));
        Assert.Equal(0.4, band.Low);
        Assert.Equal(0.4, band.High);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(0.5, -1)]
    [InlineData(0.5, 11)]
    [InlineData(0.5, double.NaN)]
    public void BadValues_AreRefused(double threshold, double margin) =>
        Assert.Throws<ArgumentException>(() => new ReviewBand(threshold, margin).Validated());
}
