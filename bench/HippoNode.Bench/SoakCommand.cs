using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;
using HippoNode.Node.Demo;

namespace HippoNode.Bench;

/// <summary>
/// Load and soak: `hipponode serve` as a child process on loopback, DCMTK storescp as the PACS, and N small synthetic
/// HippoCrop studies (32 slices each, fresh UIDs) sent over C concurrent associations, alternately by storescu
/// processes and by our own SCU. Samples the node's RSS, open descriptors, threads, temp files and queue every 2 s
/// (CSV), records each study's latency from its last instance stored to its third result stored in the PACS, and
/// checks the pass criteria at the end. With --kills K the node is killed with SIGKILL K times at random moments and
/// restarted on the same storage folder; senders whose association broke send their study again.
/// </summary>
public static class SoakCommand
{
    private const string ScuAe = "SOAKSCU";
    private const string NodeAe = "HIPPONODE";
    private const string PacsAe = "SOAKPACS";
    private const int ResultsPerStudy = 3; // SEG, SR, SC

    private sealed class Study
    {
        public int Index;
        public string Uid = "";
        public string Sender = "";
        public DateTime? Stored;      // last instance's C-STORE success
        public DateTime? Delivered;   // third distinct result UID seen in the PACS folder
        public int SendAttempts;
        public readonly HashSet<string> ResultUids = [];
    }

    /// <summary>Runs the soak; exit code 0 when every criterion passes.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var studies = 1000;
        var concurrency = 20;
        var kills = 0;
        var scuShare = 0.5;
        var stable = 3;
        var stallSeconds = 600;
        var seed = 1306;
        string? outDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--studies": studies = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--kills": kills = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--scu-share": scuShare = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--stable-seconds": stable = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--stall-seconds": stallSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outDir = Path.GetFullPath(args[++i]); break;
                default: Console.Error.WriteLine($"soak: unknown option {args[i]}"); return 2;
            }
        }
        if (!BenchUtil.HasTool("storescu") || !BenchUtil.HasTool("storescp"))
        {
            Console.Error.WriteLine("soak: needs DCMTK storescu and storescp (apt-get install dcmtk)");
            return 2;
        }
        var run = new SoakRun(studies, concurrency, kills, scuShare, stable, stallSeconds, seed,
            outDir ?? BenchUtil.ResolvePath(Path.Combine("soak-out", kills > 0 ? $"kills-{DateTime.Now:yyyyMMdd-HHmmss}" : $"soak-{DateTime.Now:yyyyMMdd-HHmmss}")));
        return await run.RunAsync();
    }

    private sealed class SoakRun(int n, int concurrency, int kills, double scuShare, int stable, int stallSeconds, int seed, string outDir)
    {
        private readonly Study[] _studies = [.. Enumerable.Range(0, n).Select(i => new Study { Index = i })];
        private readonly ConcurrentDictionary<string, Study> _byUid = new();
        private readonly ConcurrentDictionary<string, bool> _seenFiles = new();
        private readonly List<string> _samples = [];
        private readonly List<(double At, string Phase)> _killLog = [];
        private readonly object _nodeLock = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private Process? _node;
        private string _work = "", _storage = "", _pacs = "", _studiesDir = "", _nodeTmp = "";
        private int _nodePort, _nodeHttp, _pacsPort;
        private int _deliveredCount, _sentCount, _resultFiles, _nextStudy, _restarts;
        private volatile bool _down;
        private HttpClient _http = new();
        private JsonElement? _lastHealth;

        public async Task<int> RunAsync()
        {
            Directory.CreateDirectory(outDir);
            _work = Directory.CreateTempSubdirectory("hipponode-soak").FullName;
            _storage = Path.Combine(_work, "node");
            _pacs = Path.Combine(_work, "pacs");
            _studiesDir = Path.Combine(_work, "studies");
            _nodeTmp = Path.Combine(_work, "node-tmp");
            foreach (var d in new[] { _pacs, _studiesDir, _nodeTmp }) Directory.CreateDirectory(d);
            (_nodePort, _nodeHttp, _pacsPort) = (BenchUtil.FreePort(), BenchUtil.FreePort(), BenchUtil.FreePort());
            _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_nodeHttp}"), Timeout = TimeSpan.FromSeconds(10) };
            Process? pacs = null;
            var log = new StringBuilder();
            void Say(string line)
            {
                var l = $"{DateTime.Now:HH:mm:ss} [{_clock.Elapsed.TotalSeconds,6:F0} s] {line}";
                Console.WriteLine(l);
                lock (log) log.AppendLine(l);
            }
            try
            {
                Say($"soak: {n} studies, {concurrency} concurrent associations, {kills} kills, storescu share {1 - scuShare:P0}; work {_work}; report {outDir}");
                pacs = BenchUtil.StartDrained("storescp", ["-aet", PacsAe, "-od", _pacs, "+uf", "-fe", ".dcm", $"{_pacsPort}"], []);
                StartNode();
                await WaitNodeUpAsync();
                using var stop = new CancellationTokenSource();
                var poller = Task.Run(() => PollPacsAsync(stop.Token));
                var sampler = Task.Run(() => SampleAsync(stop.Token));
                var progress = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        try { await Task.Delay(10_000, stop.Token); } catch (OperationCanceledException) { break; }
                        Say(ProgressLine());
                    }
                });

                // Warm-up: two studies one after the other, so the model is loaded and the idle baseline is taken.
                var warm = Math.Min(2, n);
                for (var i = 0; i < warm; i++) await SendStudyAsync(_studies[Interlocked.Increment(ref _nextStudy) - 1]);
                await WaitAsync(() => Volatile.Read(ref _deliveredCount) >= warm, TimeSpan.FromSeconds(stallSeconds));
                await Task.Delay(3000);
                var baseline = Snapshot();
                Say($"warm-up done: {warm} studies delivered; idle baseline RSS {baseline.RssMb:F0} MB, {baseline.Fds} fds, {baseline.Threads} threads");

                var loadStart = _clock.Elapsed;
                var killer = kills > 0 ? Task.Run(() => KillLoopAsync(Say, stop.Token)) : Task.CompletedTask;
                var senders = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
                {
                    while (true)
                    {
                        var i = Interlocked.Increment(ref _nextStudy) - 1;
                        if (i >= n) return;
                        await SendStudyAsync(_studies[i]);
                    }
                })).ToArray();
                await Task.WhenAll(senders);
                var sentAll = _clock.Elapsed;
                Say($"all {n} studies sent in {(sentAll - loadStart).TotalSeconds:F0} s");
                await killer;
                var lastKill = _killLog.Count > 0 ? TimeSpan.FromSeconds(_killLog[^1].At) : sentAll;
                // Catch up: wait until every study has its three results, or nothing moves for stallSeconds.
                var caughtUp = await WaitWithProgressAsync(() => Volatile.Read(ref _deliveredCount) >= n, TimeSpan.FromSeconds(stallSeconds));
                var done = _clock.Elapsed;
                Say(caughtUp ? $"all {n} studies delivered; {(done - lastKill).TotalSeconds:F0} s after the last {(kills > 0 ? "kill" : "send")}" : $"STALLED: {_deliveredCount}/{n} delivered, nothing moved for {stallSeconds} s");
                await Task.Delay(5000); // let the outbox and the PACS settle (late duplicates show here)
                await ScanPacsOnceAsync();
                var end = Snapshot();
                await stop.CancelAsync();
                await Task.WhenAll(poller, sampler, progress);

                var verdict = await CheckAsync(caughtUp, baseline, end, loadStart, done, Say);
                WriteFiles(verdict, log);
                return verdict.Pass ? 0 : 1;
            }
            finally
            {
                lock (_nodeLock)
                {
                    if (_node is { HasExited: false }) { Signal(_node.Id, "TERM"); if (!_node.WaitForExit(20_000)) _node.Kill(); }
                    _node?.Dispose();
                }
                if (pacs is not null) { try { pacs.Kill(); pacs.WaitForExit(5000); } catch (InvalidOperationException) { } pacs.Dispose(); }
                _http.Dispose();
                try { Directory.Delete(_work, true); } catch (IOException) { }
            }
        }

        // ---- the node process ----------------------------------------------------------------------

        private void StartNode()
        {
            lock (_nodeLock)
            {
                _node?.Dispose();
                var dll = Path.Combine(AppContext.BaseDirectory, "hipponode.dll");
                // The repository's model, explicitly: the harness may run from a copy of its binaries.
                var model = Path.Combine(BenchUtil.RepoRoot, "models", "hippocampus");
                string[] modelArgs = File.Exists(Path.Combine(model, "model.json")) ? ["--model", model] : [];
                _node = BenchUtil.StartDrained("dotnet", [dll, "serve", "--port", $"{_nodePort}", "--storage", _storage, "--pacs-aet", PacsAe, "--pacs-port", $"{_pacsPort}",
                    "--http", $"http://127.0.0.1:{_nodeHttp}", "--stable-seconds", $"{stable}", "--HippoNode:ConsoleLog=false", .. modelArgs],
                    new() { ["HippoNode__AllowedCallers__0"] = ScuAe, ["TMPDIR"] = _nodeTmp });
            }
        }

        private async Task WaitNodeUpAsync()
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (true)
            {
                try
                {
                    using var rsp = await _http.GetAsync("/health");
                    if (rsp.IsSuccessStatusCode) { _down = false; return; }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
                if (_node!.HasExited) throw new InvalidOperationException($"hipponode serve exited with {_node.ExitCode} at start");
                if (DateTime.UtcNow > until) throw new TimeoutException("hipponode serve did not come up within 120 s");
                await Task.Delay(100);
            }
        }

        private async Task KillLoopAsync(Action<string> say, CancellationToken ct)
        {
            var rng = new Random(seed);
            // Kill points spread over the run: when the delivered count passes each threshold, plus a random 0-3 s, so
            // that kills land in receiving, analysing and sending alike.
            var thresholds = Enumerable.Range(0, kills).Select(k => (int)(n * (0.03 + 0.9 * (k + rng.NextDouble()) / kills))).Order().ToArray();
            for (var k = 0; k < kills && !ct.IsCancellationRequested; k++)
            {
                await WaitAsync(() => Volatile.Read(ref _deliveredCount) >= thresholds[k] || Volatile.Read(ref _sentCount) >= n && Volatile.Read(ref _deliveredCount) >= thresholds[k] - n / 20, TimeSpan.FromHours(10));
                await Task.Delay(rng.Next(3000), ct);
                var phase = Phase();
                lock (_nodeLock)
                {
                    _down = true;
                    _node!.Kill(); // SIGKILL: no shutdown code runs
                    _node.WaitForExit();
                }
                _killLog.Add((_clock.Elapsed.TotalSeconds, phase));
                say($"kill -9 #{k + 1}/{kills} at {_deliveredCount}/{n} delivered ({phase})");
                await Task.Delay(rng.Next(2000), ct); // the node stays down a moment: senders meet refused connections
                StartNode();
                Interlocked.Increment(ref _restarts);
                await WaitNodeUpAsync();
            }
        }

        private string Phase()
        {
            if (_lastHealth is not { } h) return "unknown";
            var jobs = h.TryGetProperty("jobs", out var j) ? string.Join(",", j.EnumerateObject().Select(p => $"{p.Name}={p.Value}")) : "";
            var outbox = h.TryGetProperty("outboxPending", out var o) ? o.GetInt32() : 0;
            var waiting = h.TryGetProperty("studiesWaiting", out var w) ? w.GetInt32() : 0;
            return $"{Volatile.Read(ref _sentCount) - Volatile.Read(ref _deliveredCount)} in flight, jobs {jobs}, outbox {outbox}, studies waiting {waiting}";
        }

        // ---- senders -------------------------------------------------------------------------------

        private async Task SendStudyAsync(Study s)
        {
            var folder = Path.Combine(_studiesDir, $"{s.Index:D5}");
            s.Uid = SyntheticStudy.Write(folder);
            _byUid[s.Uid] = s;
            var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray();
            var useScu = s.Index % 100 < scuShare * 100;
            s.Sender = useScu ? "our SCU" : "storescu";
            while (true)
            {
                s.SendAttempts++;
                bool ok;
                if (useScu)
                {
                    ok = true;
                    try
                    {
                        var options = new DicomClientOptions { CallingAeTitle = ScuAe, CalledAeTitle = NodeAe, ConnectTimeout = TimeSpan.FromSeconds(10) };
                        await foreach (var r in DicomSender.SendAsync("127.0.0.1", _nodePort, options, files)) ok &= r.Succeeded;
                    }
                    catch (Exception ex) when (ex is DicomException or IOException or System.Net.Sockets.SocketException or TimeoutException)
                    {
                        ok = false;
                    }
                }
                else
                {
                    ok = await RunToolAsync("storescu", ["-aet", ScuAe, "-aec", NodeAe, "127.0.0.1", $"{_nodePort}", .. files]) == 0;
                }
                if (ok) break;
                if (kills == 0 && s.SendAttempts > 3) throw new InvalidOperationException($"study {s.Index}: sending failed {s.SendAttempts} times without any kill");
                await Task.Delay(1000); // the node is down (killed) or restarting: send the whole study again
            }
            s.Stored = DateTime.UtcNow;
            Interlocked.Increment(ref _sentCount);
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }

        // ---- the PACS folder -----------------------------------------------------------------------

        private async Task PollPacsAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                await ScanPacsOnceAsync();
                try { await Task.Delay(250, ct); } catch (OperationCanceledException) { break; }
            }
        }

        private Task ScanPacsOnceAsync()
        {
            foreach (var path in Directory.EnumerateFiles(_pacs))
            {
                if (_seenFiles.ContainsKey(path)) continue;
                DicomDataset header;
                try
                {
                    header = DicomFile.Open(path, DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData }).Dataset;
                }
                catch (Exception ex) when (ex is DicomException or IOException)
                {
                    continue; // still being written: next round
                }
                _seenFiles[path] = true;
                Interlocked.Increment(ref _resultFiles);
                var study = header.GetString(DicomTags.StudyInstanceUID) ?? "";
                var sop = header.GetString(DicomTags.SOPInstanceUID) ?? "";
                if (!_byUid.TryGetValue(study, out var s)) continue;
                lock (s)
                {
                    s.ResultUids.Add(sop);
                    if (s.Delivered is null && s.ResultUids.Count >= ResultsPerStudy)
                    {
                        s.Delivered = DateTime.UtcNow;
                        Interlocked.Increment(ref _deliveredCount);
                    }
                }
            }
            return Task.CompletedTask;
        }

        // ---- sampling ------------------------------------------------------------------------------

        private sealed record Sample(double RssMb, int Fds, int Threads, int Incoming, int NodeTmp);

        private Sample Snapshot()
        {
            int pid;
            lock (_nodeLock) pid = _node is { HasExited: false } p ? p.Id : 0;
            double rss = 0;
            int fds = 0, threads = 0;
            if (pid > 0)
            {
                try
                {
                    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                    {
                        if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
                        if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = int.Parse(line.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    }
                    fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            }
            var incoming = Path.Combine(_storage, "incoming");
            return new Sample(rss, fds, threads,
                Directory.Exists(incoming) ? Directory.GetFiles(incoming, "*", SearchOption.AllDirectories).Length : 0,
                Directory.GetFileSystemEntries(_nodeTmp, "*", SearchOption.AllDirectories).Count(e => !IsRuntimeIpc(e)));
        }

        private async Task SampleAsync(CancellationToken ct)
        {
            lock (_samples) _samples.Add("elapsed_s,sent,delivered,result_files,rss_mb,fds,threads,incoming_files,node_tmp_files,jobs_queued,jobs_analysing,jobs_sending,jobs_done,jobs_failed,outbox_pending,studies_waiting,kills,node_up");
            while (!ct.IsCancellationRequested)
            {
                var s = Snapshot();
                JsonElement? health = null;
                if (!_down)
                {
                    try
                    {
                        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/health", ct));
                        health = doc.RootElement.Clone();
                        _lastHealth = health;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException) { }
                }
                int Jobs(string state) => health is { } h && h.TryGetProperty("jobs", out var j) && j.TryGetProperty(state, out var v) ? v.GetInt32() : 0;
                int Field(string name) => health is { } h && h.TryGetProperty(name, out var v) ? v.GetInt32() : 0;
                var row = string.Join(',', F(_clock.Elapsed.TotalSeconds), _sentCount, _deliveredCount, _resultFiles, F(s.RssMb), s.Fds, s.Threads, s.Incoming, s.NodeTmp,
                    Jobs("queued"), Jobs("analysing"), Jobs("sending"), Jobs("done"), Jobs("failed"), Field("outboxPending"), Field("studiesWaiting"), _killLog.Count, health is null ? 0 : 1);
                lock (_samples) _samples.Add(row);
                try { await Task.Delay(2000, ct); } catch (OperationCanceledException) { break; }
            }
        }

        private string ProgressLine()
        {
            var s = Snapshot();
            var delivered = Volatile.Read(ref _deliveredCount);
            var rate = delivered / Math.Max(1, _clock.Elapsed.TotalSeconds);
            var eta = rate > 0 ? TimeSpan.FromSeconds((n - delivered) / rate) : TimeSpan.Zero;
            return $"sent {_sentCount}/{n}, delivered {delivered}/{n} ({rate * 60:F1} studies/min), result files {_resultFiles}, RSS {s.RssMb:F0} MB, {s.Fds} fds, {s.Threads} threads, incoming {s.Incoming}, kills {_killLog.Count}/{kills}, ETA {FormatEta(eta)}";
        }

        private static string FormatEta(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{(int)t.TotalMinutes}m{t.Seconds:D2}s";

        // ---- verdict -------------------------------------------------------------------------------

        private sealed record Verdict(bool Pass, List<string> Lines, Dictionary<string, object> Figures);

        private async Task<Verdict> CheckAsync(bool caughtUp, Sample baseline, Sample end, TimeSpan loadStart, TimeSpan done, Action<string> say)
        {
            var lines = new List<string>();
            var figures = new Dictionary<string, object>();
            var pass = true;
            void Criterion(bool ok, string text)
            {
                lines.Add($"{(ok ? "PASS" : "FAIL")} {text}");
                pass &= ok;
            }

            // Analysed exactly once: one job per study, done, with three outputs all sent.
            int jobsOk = 0, noJob = 0, multiJobs = 0, notDone = 0, reRuns = 0;
            var stageMs = new SortedDictionary<string, List<double>>(StringComparer.Ordinal);
            List<double> queueMs = [];
            var failures = new List<string>();
            foreach (var s in _studies.Where(s => s.Uid.Length > 0))
            {
                using var doc = JsonDocument.Parse(await _http.GetStringAsync($"/jobs?study={Uri.EscapeDataString(s.Uid)}&limit=10"));
                var jobs = doc.RootElement.EnumerateArray().ToList();
                if (jobs.Count == 0) { noJob++; continue; }
                if (jobs.Count > 1) { multiJobs++; failures.Add($"study {s.Index}: {jobs.Count} jobs"); continue; }
                var job = jobs[0];
                if (job.GetProperty("attempts").GetInt32() > 1) reRuns++;
                foreach (var st in job.GetProperty("stages").EnumerateArray())
                {
                    var name = st.GetProperty("stage").GetString()!;
                    if (!stageMs.TryGetValue(name, out var list)) stageMs[name] = list = [];
                    list.Add(st.GetProperty("milliseconds").GetDouble());
                }
                if (job.TryGetProperty("startedAt", out var started) && started.ValueKind == JsonValueKind.String)
                    queueMs.Add((started.GetDateTimeOffset() - job.GetProperty("createdAt").GetDateTimeOffset()).TotalMilliseconds);
                var state = job.GetProperty("state").GetString();
                var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
                if (state != "done" || outputs.Count != ResultsPerStudy || outputs.Any(o => !o.GetProperty("sent").GetBoolean()))
                {
                    notDone++;
                    failures.Add($"study {s.Index}: job {state}, {outputs.Count} outputs");
                    continue;
                }
                if (!outputs.Select(o => o.GetProperty("sopInstanceUid").GetString()).ToHashSet().SetEquals(s.ResultUids))
                {
                    notDone++;
                    failures.Add($"study {s.Index}: the PACS holds other result UIDs than the job produced");
                    continue;
                }
                jobsOk++;
            }
            figures["studies"] = n;
            figures["jobsDoneOnce"] = jobsOk;
            figures["jobsReRunAfterKill"] = reRuns;
            Criterion(jobsOk == n && noJob == 0 && multiJobs == 0 && notDone == 0,
                $"every study analysed exactly once: {jobsOk}/{n} studies with one job, done, 3 outputs sent (no job {noJob}, several jobs {multiJobs}, not done {notDone}; {reRuns} jobs re-run after a kill){(failures.Count > 0 ? ": " + string.Join("; ", failures.Take(5)) : "")}");

            // Delivered exactly once: 3 distinct result UIDs per study in the PACS, and no other UID.
            var distinct = _studies.Sum(s => s.ResultUids.Count);
            var over = _studies.Count(s => s.ResultUids.Count > ResultsPerStudy);
            var files = Directory.GetFiles(_pacs).Length;
            figures["resultUidsInPacs"] = distinct;
            figures["resultFilesInPacs"] = files;
            Criterion(distinct == n * ResultsPerStudy && over == 0,
                $"every result delivered exactly once: {distinct} distinct result SOP Instance UIDs in the PACS for {n} studies (expected {n * ResultsPerStudy}; studies with extra UIDs: {over})");
            if (kills == 0)
                Criterion(files == distinct, $"no result sent twice: {files} C-STOREs received by the PACS for {distinct} UIDs");
            else
                lines.Add($"INFO {files - distinct} result C-STORE(s) repeated after kills (same SOP Instance UID; a kill between the PACS's response and the outbox's mark re-sends, which the PACS stores once per UID)");

            // Latency and throughput.
            var lat = _studies.Where(s => s.Stored is not null && s.Delivered is not null).Select(s => (s.Delivered!.Value - s.Stored!.Value).TotalMilliseconds).Order().ToList();
            var loadSeconds = (done - loadStart).TotalSeconds;
            if (lat.Count > 0)
            {
                figures["latencyP50Ms"] = Math.Round(Pct(lat, 0.5));
                figures["latencyP95Ms"] = Math.Round(Pct(lat, 0.95));
                figures["latencyMaxMs"] = Math.Round(lat[^1]);
            }
            figures["throughputStudiesPerMin"] = Math.Round((n - Math.Min(2, n)) / Math.Max(loadSeconds, 1e-3) * 60, 1);
            figures["instancesReceivedPerSec"] = Math.Round((n - Math.Min(2, n)) * SyntheticStudy.Slices / Math.Max(loadSeconds, 1e-3), 1);
            figures["loadSeconds"] = Math.Round(loadSeconds);
            lines.Add($"INFO throughput {figures["throughputStudiesPerMin"]} studies/min ({figures["instancesReceivedPerSec"]} instances/s received and analysed end to end) over {loadSeconds:F0} s; latency last instance stored -> third result in the PACS (includes the node's {stable} s quiet time and queueing behind other studies): p50 {Pct(lat, 0.5):F0} ms, p95 {Pct(lat, 0.95):F0} ms, max {(lat.Count > 0 ? lat[^1] : 0):F0} ms");

            queueMs.Sort();
            var stageText = new List<string>();
            foreach (var (name, list) in stageMs)
            {
                list.Sort();
                figures[$"stage_{name}_p50Ms"] = Math.Round(Pct(list, 0.5), 1);
                figures[$"stage_{name}_p95Ms"] = Math.Round(Pct(list, 0.95), 1);
                stageText.Add($"{name} {Pct(list, 0.5):F0}/{Pct(list, 0.95):F0}");
            }
            figures["jobQueueWaitP50Ms"] = Math.Round(Pct(queueMs, 0.5));
            figures["jobQueueWaitP95Ms"] = Math.Round(Pct(queueMs, 0.95));
            lines.Add($"INFO the node's stages per study, p50/p95 ms: {string.Join(", ", stageText)}; a job's wait in the queue behind the others (created -> started): p50 {Pct(queueMs, 0.5) / 1000:F0} s, p95 {Pct(queueMs, 0.95) / 1000:F0} s");

            // RSS growth after warm-up (one process only: not meaningful across kills).
            var rows = _samples.Skip(1).Select(r => r.Split(',')).Select(c => (Delivered: int.Parse(c[2], CultureInfo.InvariantCulture), Rss: double.Parse(c[4], CultureInfo.InvariantCulture), Fds: int.Parse(c[5], CultureInfo.InvariantCulture))).Where(r => r.Rss > 0).ToList();
            var early = rows.Where(r => r.Delivered > n * 0.1 && r.Delivered <= n * 0.2).Select(r => r.Rss).Order().ToList();
            var late = rows.Where(r => r.Delivered > n * 0.9).Select(r => r.Rss).Order().ToList();
            figures["rssPeakMb"] = rows.Count > 0 ? Math.Round(rows.Max(r => r.Rss)) : 0;
            if (kills == 0 && early.Count > 0 && late.Count > 0)
            {
                var growth = Pct(late, 0.5) / Pct(early, 0.5) - 1;
                figures["rssAfterWarmupMb"] = Math.Round(Pct(early, 0.5));
                figures["rssAtEndMb"] = Math.Round(Pct(late, 0.5));
                figures["rssGrowth"] = Math.Round(growth, 3);
                Criterion(growth <= 0.10, $"RSS growth after warm-up {growth:P1} (median {Pct(early, 0.5):F0} MB at 10-20% of the studies -> {Pct(late, 0.5):F0} MB at 90-100%; peak {figures["rssPeakMb"]} MB) <= 10%");
            }
            else
            {
                lines.Add(kills > 0 ? "INFO RSS growth not judged in a kill run (the process restarts)" : "INFO too few samples to judge RSS growth");
            }

            // Handles and temp files, idle before and after.
            figures["fdsIdleAfterWarmup"] = baseline.Fds;
            figures["fdsIdleAtEnd"] = end.Fds;
            figures["fdsPeak"] = rows.Count > 0 ? rows.Max(r => r.Fds) : 0;
            // A leak grows with the work: compare the end with the middle of the run (half the studies delivered), and
            // bound the one-off growth after warm-up (SQLite's connection pool, thread-pool and socket-engine threads).
            var mid = rows.Where(r => r.Delivered > n * 0.45 && r.Delivered <= n * 0.55).Select(r => (double)r.Fds).Order().ToList();
            figures["fdsAtHalfway"] = mid.Count > 0 ? Pct(mid, 0.5) : double.NaN;
            if (kills == 0 && mid.Count > 0)
                Criterion(end.Fds <= Pct(mid, 0.5) + 16 && end.Fds <= baseline.Fds + 64,
                    $"no leaked file handles: {end.Fds} open descriptors idle at the end vs {Pct(mid, 0.5):F0} with half the {n} studies delivered (allowance 16) and {baseline.Fds} idle after warm-up (allowance 64 for pools); peak {figures["fdsPeak"]} under load");
            else
                Criterion(end.Fds <= baseline.Fds + 64, $"no leaked file handles: {end.Fds} open descriptors idle at the end vs {baseline.Fds} idle after warm-up{(kills > 0 ? " (another process: the node was restarted)" : "")} (allowance 64 for pools); peak {figures["fdsPeak"]} under load");
            var tmpLeft = Directory.Exists(Path.Combine(_storage, "incoming")) ? Directory.GetFiles(Path.Combine(_storage, "incoming"), "*", SearchOption.AllDirectories).Length : 0;
            var tmpEntries = Directory.GetFileSystemEntries(_nodeTmp, "*", SearchOption.AllDirectories);
            var nodeTmp = tmpEntries.Count(e => !IsRuntimeIpc(e));
            lines.Add($"INFO {tmpEntries.Length - nodeTmp} runtime entries in the node's TMPDIR, not the node's files: .NET's IPC endpoints (clr-debug-pipe-*, dotnet-diagnostic-*: 3 per process, removed at a clean exit, left behind by each kill -9) and ONNX Runtime's one session-id file .ses");
            foreach (var e in tmpEntries.Where(e => !IsRuntimeIpc(e)).Take(5)) lines.Add($"INFO temp entry left: {e}");
            var stray = Directory.GetFiles(_storage, "*.tmp", SearchOption.AllDirectories).Length;
            Criterion(tmpLeft == 0 && nodeTmp == 0 && stray == 0, $"no temp files left: {tmpLeft} in incoming/, {nodeTmp} in the node's TMPDIR, {stray} *.tmp in the storage folder");
            if (kills > 0)
            {
                figures["kills"] = _killLog.Count;
                figures["restarts"] = _restarts;
                Criterion(_killLog.Count >= kills && caughtUp, $"{_killLog.Count} kill -9 with restart on the same storage; caught up: {caughtUp} (0 lost: every study has its results; 0 duplicated: no study analysed twice, no extra result UID)");
                figures["sendRetriesAfterKills"] = _studies.Sum(s => s.SendAttempts - 1);
            }
            Criterion(caughtUp, $"caught up: {_deliveredCount}/{n} studies delivered");
            figures["pass"] = pass;
            foreach (var l in lines) say(l);
            return new Verdict(pass, lines, figures);
        }

        // A figure can be undefined or infinite (a growth against a zero baseline in a short run): written as "NaN" or "Infinity", not a crash.
        private void WriteFiles(Verdict v, StringBuilder log)
        {
            File.WriteAllLines(Path.Combine(outDir, "soak-samples.csv"), _samples);
            File.WriteAllLines(Path.Combine(outDir, "soak-latency.csv"), new[] { "study,sender,send_attempts,stored_utc,delivered_utc,latency_ms" }.Concat(_studies.Select(s =>
                $"{s.Index},{s.Sender},{s.SendAttempts},{s.Stored:O},{s.Delivered:O},{(s.Stored is { } a && s.Delivered is { } b ? F((b - a).TotalMilliseconds) : "")}")));
            File.WriteAllLines(Path.Combine(outDir, "soak-kills.csv"), new[] { "elapsed_s,phase" }.Concat(_killLog.Select(k => $"{F(k.At)},\"{k.Phase}\"")));
            File.WriteAllText(Path.Combine(outDir, "soak-report.json"), JsonSerializer.Serialize(new { args = new { studies = n, concurrency, kills, scuShare, stableSeconds = stable }, figures = v.Figures, criteria = v.Lines }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            lock (log) File.WriteAllText(Path.Combine(outDir, "soak-report.txt"), log.ToString());
            Console.WriteLine($"report: {outDir}/soak-report.txt, soak-report.json, soak-samples.csv, soak-latency.csv{(kills > 0 ? ", soak-kills.csv" : "")}");
        }

        // ---- helpers -------------------------------------------------------------------------------

        /// <summary>The runtime's diagnostics and debugger IPC endpoints, which every .NET process makes in TMPDIR.</summary>
        /// <remarks>
        /// ONNX Runtime keeps one session-id file, .ses, there too (one file, rewritten, never one per study).</remarks>
        private static bool IsRuntimeIpc(string path) =>
            Path.GetFileName(path).StartsWith("clr-debug-pipe-", StringComparison.Ordinal) || Path.GetFileName(path).StartsWith("dotnet-diagnostic-", StringComparison.Ordinal)
            || Path.GetFileName(path) == ".ses";

        private static double Pct(List<double> sorted, double q) => sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

        private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

        private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
        {
            var until = DateTime.UtcNow + timeout;
            while (!condition())
            {
                if (DateTime.UtcNow > until) throw new TimeoutException("soak: a wait timed out");
                await Task.Delay(100);
            }
        }

        /// <summary>Waits for the condition while the delivered count keeps moving; false once it stood still for the timeout.</summary>
        private async Task<bool> WaitWithProgressAsync(Func<bool> condition, TimeSpan stall)
        {
            var last = -1;
            var since = DateTime.UtcNow;
            while (!condition())
            {
                var now = Volatile.Read(ref _deliveredCount);
                if (now != last) { last = now; since = DateTime.UtcNow; }
                if (DateTime.UtcNow - since > stall) return false;
                await Task.Delay(200);
            }
            return true;
        }

        private static async Task<int> RunToolAsync(string tool, string[] args)
        {
            using var p = BenchUtil.StartDrained(tool, args, []);
            await p.WaitForExitAsync();
            return p.ExitCode;
        }

        private static void Signal(int pid, string signal)
        {
            using var k = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
            k?.WaitForExit(5000);
        }
    }
}
