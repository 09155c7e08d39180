"""Video: a clip through the pipeline frame by frame (`stream`: PyAV decode/encode, the
temporal blending), optical flow (`flow`, OpenCV) and the warping error (`metrics`)."""
