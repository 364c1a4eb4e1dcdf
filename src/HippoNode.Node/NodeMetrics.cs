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

    /// <summary>Jobs per state now.</summary>
    public Gauge Jobs { get; }

    /// <summary>Result objects not yet in the PACS.</summary>
    public Gauge OutboxPending { get; }

    /// <summary>Studies receiving or waiting for their quiet time.</summary>
    public Gauge StudiesWaiting { get; }

    /// <summary>Creates the metrics; the gauges are read from <paramref name="database"/> at each scrape.</summary>
    public NodeMetrics(NodeDatabase database)
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
        Jobs = f.CreateGauge("hipponode_jobs", "Jobs per state", "state");
        OutboxPending = f.CreateGauge("hipponode_outbox_pending", "Result objects not yet stored in the PACS");
        StudiesWaiting = f.CreateGauge("hipponode_studies_waiting", "Studies receiving or waiting for their quiet time");
        Registry.AddBeforeCollectCallback(async ct =>
        {
            var counts = await database.CountsAsync(ct).ConfigureAwait(false);
            foreach (var (state, n) in counts.JobsByState) Jobs.WithLabels(state.ToString().ToLowerInvariant()).Set(n);
            OutboxPending.Set(counts.OutboxPending);
            StudiesWaiting.Set(counts.StudiesWaiting);
        });
    }

    /// <summary>Observes a job's stages.</summary>
    public void ObserveStages(IEnumerable<JobStage> stages)
    {
        foreach (var s in stages) StageSeconds.WithLabels(s.Stage).Observe(s.Milliseconds / 1000.0);
    }
}
