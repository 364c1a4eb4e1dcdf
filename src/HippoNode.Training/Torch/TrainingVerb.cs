namespace HippoNode.Training.Torch;

/// <summary>The training verbs' shared run: parse, execute, and map failures to one line and an exit code.</summary>
public static class TrainingVerb
{
    /// <summary>0 on success; 2 with the usage for a bad command line; 1 with the message for data, checkpoint or output that cannot be read or written.</summary>
    public static int Run<T>(string name, string usage, Func<T> parse, Action<T> execute, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(execute);
        ArgumentNullException.ThrowIfNull(error);
        T options;
        try
        {
            options = parse();
        }
        catch (ArgumentException ex)
        {
            error.WriteLine($"{name}: {ex.Message}\n{usage}");
            return 2;
        }
        try
        {
            execute(options);
            return 0;
        }
        catch (ArgumentException ex)
        {
            error.WriteLine($"{name}: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (IsDataError(ex))
        {
            error.WriteLine($"{name}: {ex.Message}");
            return 1;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(IsDataError))
        {
            // Data loads in parallel: report each distinct failure once.
            foreach (var m in ex.InnerExceptions.Select(i => i.Message).Distinct()) error.WriteLine($"{name}: {m}");
            return 1;
        }
    }

    private static bool IsDataError(Exception ex) =>
        ex is IOException or FormatException or InvalidDataException or UnauthorizedAccessException or HippoNode.Imaging.Nifti.NiftiFormatException;
}
