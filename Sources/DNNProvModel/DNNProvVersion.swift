/// The version of dnnprov: the server's `/health`, `dnnprov --version`.
public enum DNNProvVersion {
    public static let current = "0.5.0"
}
