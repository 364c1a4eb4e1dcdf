using System.Security.Cryptography;
using System.Text;

namespace HippoNode.Dicom.Network;

/// <summary>Turns values that came from a peer (UIDs, AE titles) into safe single path components.</summary>
public static class DicomFileNames
{
    /// <summary>
    /// A file or folder name for a peer value: a valid UID as it is; anything else with every character outside
    /// [0-9A-Za-z.-_] replaced by '_', no leading dot, at most 64 characters plus a hash when altered, so
    /// "../../etc" or "a/b" can never leave the target folder.
    /// </summary>
    public static string Sanitize(string? value)
    {
        var v = (value ?? "").Trim(' ', '\0');
        if (DicomUid.IsValid(v)) return v;
        var sb = new StringBuilder(v.Length);
        foreach (var c in v) sb.Append(c is (>= '0' and <= '9') or (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or '.' or '-' or '_' ? c : '_');
        var s = sb.ToString().TrimStart('.');
        if (s.Length > 64) s = s[..64];
        // Altered names get a short hash of the original, so two different unsafe values cannot collide.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(v)))[..8].ToLowerInvariant();
        return s.Length == 0 ? "unknown-" + hash : s + "-" + hash;
    }
}
