using HippoNode.Node.Storage;
using Prometheus;

namespace HippoNode.Node;

/// <summary>The node's Prometheus metrics, in a registry of its own (several nodes in one process do not mix).</summary>
public sealed class NodeMetrics
{
    /// <summary>The registry /metrics exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Instances received, by outcome (new, duplicate, own).</summary>
    public Counter InstancesReceived { get; }

    /// <summary>Bytes received.</summary>
    public Counter BytesReceived { get; }

    /// <summary>Jobs that reached an end state, by state (done, skipped, failed).</summary>
    public Counter JobsFinished { get; }

    /// <summary>Module runs by module and outcome (completed, not-applicable, failed).</summary>
    public Counter ModuleRuns { get; }

    /// <summary>Seconds per job stage.</summary>
    public Histogram StageSeconds { get; }

    /// <summary>Result objects stored in the PACS.</summary>
    public Counter OutboxSent { get; }

    /// <summary>Failed C-STORE attempts of result objects.</summary>
    public Counter OutboxFailures { get; }

    /// <summary>Result objects dead-lettered after permanent failures.</summary>
    public Counter DeadLettered { get; }

    /// <summary>Studies retention deleted.</summary>
    public Counter RetentionStudies { get; }

    /// <summary>Bytes retention freed.</summary>
    public Counter RetentionBytes { get; }

    /// <summary>Result objects dead-lettered now.</summary>
    public Gauge OutboxDeadLetter { get; }

    /// <summary>Free bytes on the storage folder's file system.</summary>
    public Gauge DiskFreeBytes { get; }

    /// <summary>1 while the SCP refuses instances for lack of disk space.</summary>
    public Gauge ReceivingPaused { get; }

    /// <summary>Jobs per state now.</summary>
    public Gauge Jobs { get; }

    /// <summary>Result objects not yet in the PACS.</summary>
    public Gauge OutboxPending { get; }

    /// <summary>Studies receiving or waiting for their quiet time.</summary>
    public Gauge StudiesWaiting { get; }

    /// <summary>Ensemble agreement of each analysed study: its drift over time is the post-deployment quality signal.</summary>
    public Histogram Agreement { get; }

    /// <summary>Analysed studies whose agreement was below the threshold (flagged for review).</summary>
    public Counter QualityFlagged { get; }

    /// <summary>Each classification's probability, by module: the distribution over time shows a change of inputs or of prevalence.</summary>
    public Histogram ClassificationProbability { get; }

    /// <summary>Positive classifications, by module (the positive rate is this over the probability histogram's count).</summary>
    public Counter ClassificationPositive { get; }

    /// <summary>Module results whose quality signal asked for review, by module.</summary>
    public Counter ModuleQualityFlagged { get; }

    /// <summary>Creates the metrics; the gauges are read from <paramref name="database"/> and <paramref name="disk"/> at each scrape.</summary>
    public NodeMetrics(NodeDatabase database, DiskStatus disk)
    {
        Registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        InstancesReceived = f.CreateCounter("hipponode_instances_received_total", "DICOM instances received by C-STORE", "outcome");
        BytesReceived = f.CreateCounter("hipponode_received_bytes_total", "Bytes of DICOM instances received");
        JobsFinished = f.CreateCounter("hipponode_jobs_finished_total", "Jobs that reached an end state", "state");
        ModuleRuns = f.CreateCounter("hipponode_module_runs_total", "Analysis modules per study, by module and outcome", "module", "outcome");
        StageSeconds = f.CreateHistogram("hipponode_job_stage_seconds", "Duration of job stages", new HistogramConfiguration
        {
            LabelNames = ["stage"],
            Buckets = Histogram.ExponentialBuckets(0.01, 2, 16),
        });
        OutboxSent = f.CreateCounter("hipponode_results_sent_total", "Result objects stored in the PACS");
        OutboxFailures = f.CreateCounter("hipponode_result_send_failures_total", "Failed C-STORE attempts of result objects");
        DeadLettered = f.CreateCounter("hipponode_results_deadlettered_total", "Result objects dead-lettered after permanent failures");
        RetentionStudies = f.CreateCounter("hipponode_retention_deleted_studies_total", "Finished studies retention deleted");
        RetentionBytes = f.CreateCounter("hipponode_retention_deleted_bytes_total", "Bytes retention freed");
        OutboxDeadLetter = f.CreateGauge("hipponode_outbox_deadletter", "Result objects dead-lettered, waiting for a re-send");
        DiskFreeBytes = f.CreateGauge("hipponode_disk_free_bytes", "Free bytes on the storage folder's file system");
        ReceivingPaused = f.CreateGauge("hipponode_receiving_paused", "1 while C-STORE is answered A700 for lack of disk space");
        Jobs = f.CreateGauge("hipponode_jobs", "Jobs per state", "state");
        OutboxPending = f.CreateGauge("hipponode_outbox_pending", "Result objects not yet stored in the PACS");
        StudiesWaiting = f.CreateGauge("hipponode_studies_waiting", "Studies receiving or waiting for their quiet time");
        Agreement = f.CreateHistogram("hipponode_result_agreement", "Ensemble agreement (mean pairwise Dice of the members) per analysed study", new HistogramConfiguration
        {
            // Fine steps where the flag threshold (0.8) and the validated range (about 0.92-0.97) lie.
            Buckets = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 1.0],
        });
        QualityFlagged = f.CreateCounter("hipponode_results_quality_flagged_total", "Analysed studies flagged for review by any module (hippocampus agreement below its threshold, chest X-ray probability in the review band)");
        ClassificationProbability = f.CreateHistogram("hipponode_classification_probability", "Classifier probability of the positive class per analysed study, by module", new HistogramConfiguration
        {
            LabelNames = ["module"],
            // Fine steps at both ends, where a trained classifier puts most images, and across the review band.
            Buckets = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0],
        });
        ClassificationPositive = f.CreateCounter("hipponode_classification_positive_total", "Positive classifications, by module", "module");
        ModuleQualityFlagged = f.CreateCounter("hipponode_module_quality_flagged_total", "Module results flagged for review by the module's quality signal, by module", "module");
        Registry.AddBeforeCollectCallback(async ct =>
        {
            var counts = await database.CountsAsync(ct).ConfigureAwait(false);
            foreach (var (state, n) in counts.JobsByState) Jobs.WithLabels(state.ToString().ToLowerInvariant()).Set(n);
            OutboxPending.Set(counts.OutboxPending);
            OutboxDeadLetter.Set(counts.OutboxDeadLetter);
            StudiesWaiting.Set(counts.StudiesWaiting);
            var free = disk.FreeBytes();
            if (free is { } bytes) DiskFreeBytes.Set(bytes);
            ReceivingPaused.Set(disk.IsBelowWatermark(free) ? 1 : 0);
        });
    }

    /// <summary>Observes an analysed study's agreement (when the model reports one) and its quality flag.</summary>
    public void ObserveQuality(double? agreement, bool flagged)
    {
        if (agreement is { } a && double.IsFinite(a)) Agreement.Observe(a);
        if (flagged) QualityFlagged.Inc();
    }

    /// <summary>Observes one module's completed result: its probability and decision when it classifies, and its quality flag.</summary>
    public void ObserveModule(string module, IReadOnlyDictionary<string, double> measurements, bool flagged)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        if (measurements.TryGetValue("probability", out var p) && double.IsFinite(p))
        {
            ClassificationProbability.WithLabels(module).Observe(p);
            if (measurements.TryGetValue("positive", out var positive) && positive > 0) ClassificationPositive.WithLabels(module).Inc();
        }
        if (flagged) ModuleQualityFlagged.WithLabels(module).Inc();
    }

    /// <summary>Observes a job's stages.</summary>
    public void ObserveStages(IEnumerable<JobStage> stages)
    {
        foreach (var s in stages) StageSeconds.WithLabels(s.Stage).Observe(s.Milliseconds / 1000.0);
    }
}
