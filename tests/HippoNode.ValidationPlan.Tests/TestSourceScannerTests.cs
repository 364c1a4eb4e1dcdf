namespace HippoNode.ValidationPlan.Tests;

/// <summary>The scanner on sources written to trip it: it must find every real test and nothing else.</summary>
public sealed class TestSourceScannerTests
{
    private static IReadOnlyDictionary<string, FoundTest> Scan(params string[] files) =>
        TestSourceScanner.Scan(files.Select((text, i) => ($"f{i}.cs", text)));

    [Fact]
    public void FileScopedNamespace_FactsTheoriesAndTheProjectsOwnAttributes()
    {
        var tests = Scan("""
            using Xunit;
            namespace A.B.Tests;

            public sealed class Sample(ITestOutputHelper output) : IClassFixture<Thing>
            {
                private static readonly int[] Numbers = [1, 2];

                [Fact]
                public void Plain() { }

                [Theory]
                [InlineData("x")]
                public void WithData(string s) { }

                [SharedDataFact("dcmdump"), Trait("kind", "slow")]
                public async Task Custom_Attribute() => await Task.Yield();

                [Xunit.FactAttribute]
                public async Task<int> Qualified() { return 1; }

                [ToolTheory("storescu")]
                [MemberData(nameof(Cases))]
                public void Generic<T>(T value) { }

                public void NotATest() { }

                [Obsolete]
                public void OtherAttribute() { }
            }
            """);
        Assert.Equal(
            ["A.B.Tests.Sample.Custom_Attribute", "A.B.Tests.Sample.Generic", "A.B.Tests.Sample.Plain", "A.B.Tests.Sample.Qualified", "A.B.Tests.Sample.WithData"],
            tests.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void BlockNamespaces_NestedNamespacesAndNestedClasses()
    {
        var tests = Scan("""
            namespace Outer
            {
                namespace Inner.Deep
                {
                    public class Host
                    {
                        public class Nested
                        {
                            [Fact] public void InNested() { }
                        }

                        [Fact] public void InHost() { }
                    }
                }

                public class Sibling { [Fact] public void InSibling() { } }
            }
            """);
        Assert.Equal(["Outer.Inner.Deep.Host+Nested.InNested", "Outer.Inner.Deep.Host.InHost", "Outer.Sibling.InSibling"], tests.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PartialClassesAcrossFiles_AreOneClass()
    {
        var tests = Scan(
            "namespace N; public sealed partial class P { [Fact] public void One() { } [GeneratedRegex(\"x\")] private static partial Regex R(); }",
            "namespace N; public sealed partial class P { [Fact] public void Two() { } }");
        Assert.Equal(["N.P.One", "N.P.Two"], tests.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CommentsAndStringsThatLookLikeTests_AreNotTests()
    {
        var tests = Scan(""""
            namespace N;
            public class C
            {
                // [Fact] public void InLineComment() { }
                /* [Fact]
                   public void InBlockComment() { } */
                private const string Text = "[Fact] public void InString() { } {";
                private const string Raw = """
                    [Fact] public void InRawString() { } }}
                    """;
                private const string Verbatim = @"[Fact] ""quoted"" } public void InVerbatim() {";
                private static string Interpolated(int x) => $"{(x > 0 ? "}" : "{")} [Fact] {{ public void InInterpolated() {{";
                private const char Quote = '"';
                private const char Brace = '{';

                [Fact]
                public void Real() { var s = "}"; var t = '}'; }
            }
            """");
        Assert.Equal(["N.C.Real"], tests.Keys);
    }

    [Fact]
    public void SkipOnTheAttribute_IsAStaticSkip_ASkipParameterIsNot()
    {
        var tests = Scan("""
            namespace N;
            public class C
            {
                [Fact(Skip = "broken")] public void Skipped() { }
                [Fact(Timeout = 5)] public void Timed() { }
                [SharedDataFact("tool")] public void Conditional() { }
            }
            """);
        Assert.True(tests["N.C.Skipped"].SkippedStatically);
        Assert.False(tests["N.C.Timed"].SkippedStatically);
        Assert.False(tests["N.C.Conditional"].SkippedStatically);
    }

    [Fact]
    public void InheritedTests_RunUnderTheDerivedClass_AbstractAndStaticClassesRunNone()
    {
        var tests = Scan(
            "namespace N; public abstract class Base { [Fact] public void Shared() { } } public static class Helpers { [Fact] public static void Odd() { } }",
            "namespace N; public sealed class Derived : Base, IDisposable { [Fact] public void Own() { } public void Dispose() { } }");
        Assert.Equal(["N.Derived.Own", "N.Derived.Shared"], tests.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void GenericConstraints_RecordsAndPropertiesAfterAttributes_DoNotConfuseIt()
    {
        var tests = Scan("""
            namespace N;
            public record Row(int X);
            public class Box<T> where T : class, new()
            {
                [Fact] public void AfterConstraint() { }
            }
            public class D
            {
                [Fact] public int NotAMethodButAProperty => 1;
                [Fact] public void Method() { }
                private void Helper() where T : class { }
            }
            """);
        Assert.Equal(["N.Box.AfterConstraint", "N.D.Method"], tests.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheRepositorysOwnTests_AreFound()
    {
        var tests = TestSourceScanner.ScanFolder(Path.Combine(TestData.RepoRoot, "tests"));
        Assert.Contains("HippoNode.Dicom.Tests.IO.MalformedInputTests.Truncated_AnywhereInARealFile_IsAlwaysAParseException", tests.Keys);
        Assert.Contains("HippoNode.Segmentation.Tests.EvaluateRealDataTests.RunsOnTwoTestCasesOfTheSplit", tests.Keys);
        Assert.Contains("HippoNode.ValidationPlan.Tests.TestSourceScannerTests.TheRepositorysOwnTests_AreFound", tests.Keys);
        Assert.DoesNotContain(tests.Keys, k => k.Contains("/obj/", StringComparison.Ordinal) || k.StartsWith('.'));
    }
}
