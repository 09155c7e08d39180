"""absl-flag training programs and their tf.data pipelines (run from a checkout)."""
