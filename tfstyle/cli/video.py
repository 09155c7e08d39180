"""``tfstyle video``: stylize a clip frame by frame with temporal stability, audio kept."""

from __future__ import annotations

from typing import Any

from tfstyle.cli.args import (
    add_memory_budget,
    add_model,
    add_portrait_options,
    add_precision,
    check_max_size,
    check_memory_budget,
    csv,
    finite,
    positive_int,
    report_precision,
    settings_from_args,
)
from tfstyle.models.registry import COLOR_MODES
from tfstyle.precision import FEED_FORWARD_HELP


def add_parser(sub) -> None:
    p = sub.add_parser(
        "video",
        help="stylize a video (SANet or Magenta), temporally stable, audio kept",
        description="Stylize every frame of a clip with one style (encoded once), blending the "
        "previous output warped by optical flow where the flow is trusted (Ruder et al. 2016's "
        "consistency check), and write H.264 with the input's frame rate, rotation and audio. "
        "Needs pip install 'tfstyle[video]'.",
    )
    p.add_argument("--input", required=True, help="video file (anything FFmpeg reads)")
    p.add_argument("--style", action="append", required=True, help="style image; repeat to mix styles")
    p.add_argument("--style-weights", type=csv(float), help="one weight per style (convex mix)")
    p.add_argument("--output", required=True, help="result: .mp4, .mov or .mkv")
    p.add_argument("--alpha", type=finite, default=1.0, help="content-style trade-off / strength in [0, 1]")
    p.add_argument("--preserve-color", choices=COLOR_MODES, help="keep the frames' colours (per frame)")
    p.add_argument(
        "--max-size", type=positive_int, default=1280, help="longer side of the frames (default %(default)s)"
    )
    p.add_argument(
        "--temporal-weight",
        type=finite,
        default=0.5,
        help="blend of the warped previous output where the flow is trusted, in [0, 1]; "
        "0 = independent frames (default %(default)s)",
    )
    p.add_argument(
        "--crf", type=int, default=18, help="H.264 quality, 0 (lossless) to 51 (default %(default)s)"
    )
    p.add_argument("--start", type=finite, default=0.0, help="first second to take (default 0)")
    p.add_argument("--duration", type=finite, help="seconds to take (default: to the end)")
    p.add_argument(
        "--portrait",
        action="store_true",
        help="portrait mode per frame, as tfstyle portrait (person mask by the segmenter, smoothed "
        "along the flow; faces and their crop); the portrait options below apply with it",
    )
    add_portrait_options(p, prefix_help="with --portrait: ")
    p.add_argument(
        "--face-every",
        type=positive_int,
        default=5,
        help="with --portrait: find faces every N frames and carry them along the optical flow "
        "in between (default %(default)s; 1 = every frame)",
    )
    p.add_argument(
        "--json", action="store_true", help="print a JSON summary (frames, seconds, fps, warping error)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress line")
    add_model(p)
    add_precision(p, FEED_FORWARD_HELP)
    add_memory_budget(p)
    p.set_defaults(run=run)


def run(args) -> int:
    import json
    import sys

    from tfstyle.checks import check_alpha
    from tfstyle.errors import ConfigError
    from tfstyle.portraits.settings import PortraitSettings, portrait_settings_from
    from tfstyle.video import stream as video_lib

    # every number and path is refused before the video or a network is opened
    check_alpha(args.alpha, "--alpha")
    portrait = portrait_settings_from(args) if args.portrait else None
    if not args.portrait and (portrait_settings_from(args) != PortraitSettings() or args.face_every != 5):
        raise ConfigError("the portrait options need --portrait")
    settings = settings_from_args(args, portrait).validate()
    check_max_size(args.max_size)
    check_memory_budget(args)
    if not 0.0 <= args.temporal_weight <= 1.0:
        raise ConfigError(f"--temporal-weight must be in [0, 1], got {args.temporal_weight}")
    if not 0 <= args.crf <= video_lib.MAX_CRF:
        raise ConfigError(f"--crf must be in [0, {video_lib.MAX_CRF}], got {args.crf}")
    video_lib.check_output(args.output)
    video_lib.av()  # the missing-extra line before anything loads
    video_lib.flow_lib.cv2()
    video_lib.probe_span(args.input, args.start, args.duration)

    from tfstyle.pipeline import Pipeline

    pipeline = Pipeline(settings)  # the network loaded and the style encoded once per clip
    report_precision(args, pipeline.network)
    segment, faces = None, None
    frame_fn: Any = pipeline.stylize_fitted
    if pipeline.portrait is not None and pipeline.portrait.segmenter is not None:
        from tfstyle.portraits.compose import faces_mask

        segment = pipeline.portrait.segmenter.segment
        if pipeline.portrait.face_finder is not None:
            faces = video_lib.FaceTracker(pipeline.portrait.face_finder.find, every=args.face_every)

        def frame_fn(frame, mask, faces=None):
            face_mask = None if faces is None else faces_mask(faces, frame.shape, settings.portrait)
            return pipeline.stylize_fitted(frame, mask=mask, face_mask=face_mask)

    report = video_lib.stylize_video(
        args.input,
        args.output,
        frame_fn,
        max_size=args.max_size,
        temporal_weight=args.temporal_weight,
        crf=args.crf,
        start=args.start,
        duration=args.duration,
        measure=args.json,
        progress=not args.quiet and sys.stderr.isatty(),
        segment=segment,
        faces=faces,
    )
    if args.json:
        summary = {
            "output": args.output,
            "frames": report.frames,
            "seconds": round(report.seconds, 3),
            "fps": round(report.fps, 3),
            "warping_error": report.warping_error,
            "stage_seconds": {k: round(v, 3) for k, v in report.stage_seconds.items()},
        }
        print(json.dumps(summary))
    else:
        print(f"wrote {args.output} ({report.frames} frames, {report.fps:.1f} fps)")
    return 0
