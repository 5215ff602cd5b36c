"""DfAnalyzer's `dfa_lib_python` module layout on top of dnnprov, so scripts written for
DfAnalyzer, Keras-Prov or DNNProv run unchanged. The server is DFA_URL (or DNNPROV_URL)."""
