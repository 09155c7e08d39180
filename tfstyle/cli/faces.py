"""``tfstyle faces``: the faces, keypoints and 468 landmarks found in an image, drawn on it."""

from __future__ import annotations

from tfstyle.cli.args import check_max_size, positive_int

#: Smallest side worth looking for a face in (BlazeFace sees the image at 128²).
FACES_MIN_SIDE = 16


def add_parser(sub) -> None:
    p = sub.add_parser(
        "faces",
        help="detect faces and their landmarks (to check what portrait mode will see)",
        description="Detect faces (MediaPipe BlazeFace short range: faces within ~2 m of the camera) "
        "and their 468 Face Mesh landmarks; draw boxes (green), keypoints (red) and landmarks "
        "(yellow) over the image.",
    )
    p.add_argument("--input", required=True, help="image (EXIF orientation applied)")
    p.add_argument("--output", required=True, help="overlay image (.png or .jpg)")
    p.add_argument("--json", action="store_true", help="print the faces as JSON (boxes, scores, landmarks)")
    p.add_argument("--max-size", type=positive_int, default=2048, help="longer side (default %(default)s)")
    p.set_defaults(run=run)


def run(args) -> int:
    import json

    from tfstyle import image as image_lib
    from tfstyle.portraits.faces import FaceFinder, draw_overlay

    image_lib.check_output_path(args.output)
    check_max_size(args.max_size, FACES_MIN_SIDE)
    image = image_lib.load_fitted(args.input, args.max_size, min_side=FACES_MIN_SIDE)
    faces = FaceFinder().find(image)
    image_lib.save_image(args.output, draw_overlay(image, faces))
    if args.json:
        print(
            json.dumps(
                {
                    "size": list(image.shape[1::-1]),
                    "faces": [
                        {
                            "box": [round(float(v), 2) for v in face.box],
                            "score": round(face.score, 4),
                            "presence": round(face.presence, 4),
                            "landmarks": [[round(float(v), 2) for v in p[:2]] for p in face.landmarks]
                            if face.landmarks is not None
                            else [],
                        }
                        for face in faces
                    ],
                }
            )
        )
    else:
        print(f"wrote {args.output}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
    return 0
