"""Models out: the Predictor and its backends (ONNX Runtime, MindSpore), exports, faces in
photos, evaluation on a split and annotated images or videos."""
