"""Optimisation transfer (Gatys et al. 2016): the objective's terms (`objective`), the loop
(`optimize`: Adam or L-BFGS-B through tf.GradientTape), the depth terms (`depth_objective`,
`weight_maps`) and the settings (`settings`, no TensorFlow)."""
