"""Portrait mode (Berezin & Volkova 2019): person segmentation (`segment`), faces (`faces`),
the regions composited (`compose`), their settings (`settings`, no TensorFlow) and the
measures of faces surviving stylization (`metrics`)."""
