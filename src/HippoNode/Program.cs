using HippoNode.Commands;

namespace HippoNode;

/// <summary>The hipponode command line: one verb per job.</summary>
public static class Program
{
    /// <summary>Dispatches to the verb named by the first argument.</summary>
    public static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = args[1..];
        try
        {
            return args[0] switch
            {
                "dump" => DumpCommand.Run(rest, Console.Out, Console.Error),
                "echo" => await EchoCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "store-scp" => await StoreScpCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "send" => await SendCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "resend" => await ResendCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "dataset" => DatasetCommand.Run(rest, Console.Out, Console.Error),
                "evaluate" => EvaluateCommand.Run(rest, Console.Out, Console.Error),
                "qa-flag" => QaFlagCommand.Run(rest, Console.Out, Console.Error),
                "calibrate" => CalibrateCommand.Run(rest, Console.Out, Console.Error),
                "analyze" => await AnalyzeCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "serve" => await ServeCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "demo" => await DemoCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                "train" => await TrainCommand.RunAsync(rest, Console.Error, cts.Token).ConfigureAwait(false),
                "rules" => await RulesCommand.RunAsync(rest, Console.Out, Console.Error, cts.Token).ConfigureAwait(false),
                _ => UnknownVerb(args[0]),
            };
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"hipponode {args[0]}: {ex.Message}");
            return 2;
        }
        finally
        {
            await Console.Out.FlushAsync(cts.Token).ConfigureAwait(false);
        }
    }

    private static int UnknownVerb(string verb)
    {
        Console.Error.WriteLine($"hipponode: unknown verb '{verb}'");
        PrintUsage(Console.Error);
        return 2;
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("usage: hipponode VERB [options]");
        w.WriteLine();
        w.WriteLine("  dump [--all] FILE...        print each DICOM file's data set (like dcmdump)");
        w.WriteLine("  echo HOST PORT --called AE [--calling AE] [TLS]");
        w.WriteLine("                              C-ECHO a DICOM peer (exit 0 when it answers success)");
        w.WriteLine("  store-scp --port N --aet AE --out DIR [--min-free-mb N] [TLS]");
        w.WriteLine("                              receive C-STORE into DIR/<StudyInstanceUID>/<SOPInstanceUID>.dcm until Ctrl-C/SIGTERM");
        w.WriteLine("  send HOST PORT --called AE [--calling AE] [TLS] PATH...");
        w.WriteLine("                              C-STORE files and folders (recursive); per-file status, exit 1 when any failed");
        w.WriteLine("      TLS: --tls-cert PEM --tls-key PEM [--tls-ca PEM] [--tls-verify-peer | --tls-no-verify] (DICOM TLS, BCP 195)");
        w.WriteLine("  resend --storage DIR [--all | --job ID]");
        w.WriteLine("                              list the node's dead-lettered results, or put them back in its outbox");
        w.WriteLine("  dataset check DIR [--json OUT]   curation report of an MSD folder (imagesTr/, labelsTr/)");
        w.WriteLine("  dataset split DIR [--seed N] [--test-fraction F] [--folds K] [--out FILE]   fixed seeded test/CV split");
        w.WriteLine("  dataset perturb DIR --kind swap-xz|flip-y|invert|noise|thick-slices|crop-x --out OUT [--cases LIST|split.json] [--seed N]");
        w.WriteLine("                              write deliberately faulty copies of the cases (the validation plan's stress set)");
        w.WriteLine("  evaluate --images DIR --labels DIR --model DIR --json OUT [--cases LIST|split.json] [--save-labels DIR] [--provider cpu|cuda]");
        w.WriteLine("                              Dice/Jaccard/sensitivity/specificity/volumes per case, ensemble and each member");
        w.WriteLine("  calibrate --images DIR --labels DIR --split split.json --model DIR [--write] [--json OUT] [--tta none|mirror-x]");
        w.WriteLine("                              choose the segmentation decision weights out of fold (each member on its own fold); --write stores them");
        w.WriteLine("  qa-flag --evaluation REPORT.json [...] [--threshold 0.8] [--worst 5] [--fail-below DICE] [--json OUT]");
        w.WriteLine("  qa-flag --evaluation CLASSIFICATION.json [--margin 2] [--worst 5] [--json OUT]   (the chest X-ray review band)");
        w.WriteLine("                              what the agreement quality flag catches in evaluate reports: worst cases, failures, rank correlation");
        w.WriteLine("  evaluate --model CLASSIFIER_DIR --images DIR --json OUT [--labels LIST.csv] [--threshold X]");
        w.WriteLine("                              per-image probabilities, accuracy/AUROC/sensitivity/specificity/PPV/NPV, ROC/confusion/reliability PNGs");
        w.WriteLine("  analyze STUDY_DIR --out DIR [--model DIR] [--rules FILE] [--agreement-threshold X] [--provider cpu|cuda]");
        w.WriteLine("                              choose the series, segment it, write seg.dcm, sr.dcm, sc.dcm, result.json; exit 3: no eligible series");
        w.WriteLine("  analyze STUDY_DIR --out DIR --module chest-xray|all [--model DIR] [--chest-model DIR] [--rules FILE] [--threshold X]");
        w.WriteLine("                              the chest X-ray module (sr.dcm, sc.dcm) or every module that applies (one folder each)");
        w.WriteLine("  rules test STUDY_DIR [--rules FILE] [--chest-rules FILE]");
        w.WriteLine("                              which module would take which series, and why; exit 3: no module applies");
        w.WriteLine("  serve [--config FILE] [--port N] [--aet AE] [--storage DIR] [--pacs-host H] [--pacs-port N] [--pacs-aet AE] [--http URL] [--HippoNode:KEY=VALUE...]");
        w.WriteLine("                              run the node: receive, analyse, send results to the PACS (appsettings.json, env HippoNode__KEY)");
        w.WriteLine("  demo [--study DIR | --synthetic] [--chest-study DIR | --no-chest] [--chest-model DIR] [--out DIR] [--timeout S]");
        w.WriteLine("                              the whole flow on this machine: plays the PACS on loopback, sends a brain MR and a chest X-ray study,");
        w.WriteLine("                              prints what each module did (an UNTRAINED chest model is made, and said so, when none is trained)");
        w.WriteLine("  train [hippocampus] --data DIR --split split.json --out DIR [--folds 0,1,2,3,4] [--epochs N] [--seed S] [--threads N]");
        w.WriteLine("        [--device cpu|cuda] [--max-cases N] [--resume] [--log-dir DIR] ...   (runs hipponode-train; --help there lists all)");
        w.WriteLine("                              train one 3D U-Net member per fold with TorchSharp, export fold{k}.onnx + model.json");
    }
}

/// <summary>A command line that does not fit its verb; reported with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
