namespace HippoNode.Reporting;

/// <summary>The coded concepts the SEG and SR use, each as PS3.16 defines it (scheme designators DCM, SCT, LN, UCUM, UMLS, RFC5646).</summary>
public static class Codes
{
    /// <summary>The private coding scheme of HippoNode's own concepts (PS3.16 §8.2: "99" prefix for private schemes).</summary>
    public const string HippoNodeScheme = "99HIPPONODE";

#pragma warning disable CS1591 // each name is its code meaning
    public static readonly CodedConcept AnatomicalStructure = new("91723000", "SCT", "Anatomical Structure");
    public static readonly CodedConcept Hippocampus = new("5976008", "SCT", "Hippocampus");
    public static readonly CodedConcept SourceImageForImageProcessing = new("121322", "DCM", "Source image for image processing operation");
    public static readonly CodedConcept Segmentation = new("113076", "DCM", "Segmentation");
    public static readonly CodedConcept ArtificialIntelligence = new("123110", "DCM", "Artificial Intelligence");

    public static readonly CodedConcept ImagingMeasurementReport = new("126000", "DCM", "Imaging Measurement Report");
    public static readonly CodedConcept LanguageOfContent = new("121049", "DCM", "Language of Content Item and Descendants");
    public static readonly CodedConcept EnglishUs = new("en-US", "RFC5646", "English (United States)");
    public static readonly CodedConcept ObserverType = new("121005", "DCM", "Observer Type");
    public static readonly CodedConcept Device = new("121007", "DCM", "Device");
    public static readonly CodedConcept DeviceObserverUid = new("121012", "DCM", "Device Observer UID");
    public static readonly CodedConcept DeviceObserverName = new("121013", "DCM", "Device Observer Name");
    public static readonly CodedConcept DeviceObserverManufacturer = new("121014", "DCM", "Device Observer Manufacturer");
    public static readonly CodedConcept DeviceObserverModelName = new("121015", "DCM", "Device Observer Model Name");
    public static readonly CodedConcept DeviceObserverSerialNumber = new("121016", "DCM", "Device Observer Serial Number");
    public static readonly CodedConcept ProcedureReported = new("121058", "DCM", "Procedure reported");
    public static readonly CodedConcept MrBrain = new("24590-2", "LN", "MR Brain");
    public static readonly CodedConcept ImageLibrary = new("111028", "DCM", "Image Library");
    public static readonly CodedConcept ImageLibraryGroup = new("126200", "DCM", "Image Library Group");
    public static readonly CodedConcept ImagingMeasurements = new("126010", "DCM", "Imaging Measurements");
    public static readonly CodedConcept MeasurementGroup = new("125007", "DCM", "Measurement Group");
    public static readonly CodedConcept TrackingIdentifier = new("112039", "DCM", "Tracking Identifier");
    public static readonly CodedConcept TrackingUniqueIdentifier = new("112040", "DCM", "Tracking Unique Identifier");
    public static readonly CodedConcept FindingCategory = new("276214006", "SCT", "Finding category");
    public static readonly CodedConcept Finding = new("121071", "DCM", "Finding");
    public static readonly CodedConcept ReferencedSegment = new("121191", "DCM", "Referenced Segment");
    public static readonly CodedConcept SourceSeriesForSegmentation = new("121232", "DCM", "Source series for segmentation");
    public static readonly CodedConcept MeasurementMethod = new("370129005", "SCT", "Measurement Method");
    public static readonly CodedConcept SumOfSegmentedVoxelVolumes = new("126030", "DCM", "Sum of segmented voxel volumes");
    public static readonly CodedConcept FindingSite = new("363698007", "SCT", "Finding Site");
    public static readonly CodedConcept TopographicalModifier = new("106233006", "SCT", "Topographical modifier");
    public static readonly CodedConcept AlgorithmName = new("111001", "DCM", "Algorithm Name");
    public static readonly CodedConcept AlgorithmVersion = new("111003", "DCM", "Algorithm Version");
    public static readonly CodedConcept Volume = new("118565006", "SCT", "Volume");
    public static readonly CodedConcept CubicMillimeter = new("mm3", "UCUM", "cubic millimeter");
    public static readonly CodedConcept NoUnits = new("1", "UCUM", "no units");
    public static readonly CodedConcept QualitativeEvaluations = new("C0034375", "UMLS", "Qualitative Evaluations");
    public static readonly CodedConcept Yes = new("373066001", "SCT", "Yes");
    public static readonly CodedConcept No = new("373067005", "SCT", "No");

    public static readonly CodedConcept PlainChestXray = new("399208008", "SCT", "Plain chest X-ray");
    public static readonly CodedConcept Pneumonia = new("233604007", "SCT", "Pneumonia");
    public static readonly CodedConcept LungStructure = new("39607008", "SCT", "Lung structure");
    public static readonly CodedConcept MorphologicallyAlteredStructure = new("49755003", "SCT", "Morphologically Altered Structure");
    public static readonly CodedConcept Present = new("52101004", "SCT", "Present");
    public static readonly CodedConcept Absent = new("2667000", "SCT", "Absent");

    public static readonly CodedConcept PneumoniaProbability = new("PNEUMONIA_PROB", HippoNodeScheme, "Pneumonia probability (classifier output)");
    public static readonly CodedConcept DecisionThreshold = new("DECISION_THR", HippoNodeScheme, "Classifier decision threshold");
    public static readonly CodedConcept UntrainedModel = new("UNTRAINED_MODEL", HippoNodeScheme, "Model with untrained (random) weights");
    public static readonly CodedConcept ReviewBandLow = new("REVIEW_LOW", HippoNodeScheme, "Review band lower probability");
    public static readonly CodedConcept ReviewBandHigh = new("REVIEW_HIGH", HippoNodeScheme, "Review band upper probability");
    public static readonly CodedConcept UncertainFlag = new("UNCERTAIN", HippoNodeScheme, "Probability within the review band");

    public static readonly CodedConcept EnsembleAgreement = new("AGREEMENT", HippoNodeScheme, "Ensemble agreement (mean pairwise Dice)");
    public static readonly CodedConcept AgreementThreshold = new("AGR_THRESHOLD", HippoNodeScheme, "Ensemble agreement threshold");
    public static readonly CodedConcept LowAgreementFlag = new("LOW_AGREEMENT", HippoNodeScheme, "Ensemble agreement below threshold");
    public static readonly CodedConcept Comment = new("121106", "DCM", "Comment");
    public static readonly CodedConcept UsageStatement = new("USAGE", HippoNodeScheme, "Intended use statement");
    public static readonly CodedConcept WholeHippocampus = new("WHOLE", HippoNodeScheme, "Whole hippocampus (anterior and posterior)");
#pragma warning restore CS1591
}
