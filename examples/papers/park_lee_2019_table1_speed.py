"""Park & Lee 2019, Table 1: stylization time at 256 and 512 px, single- against multi-level SANet.

Runs `benchmarks/sanet_levels.py` (both models in one process, the same images, float32 and
bfloat16): the paper timed a GPU, this times the machine it runs on, so compare the ratio, not
the seconds. Speed does not depend on the weights' values: trained-scale random weights.

    python examples/papers/park_lee_2019_table1_speed.py
"""

import os
import subprocess
import sys

from common import ROOT, done, output_folder, parser


def main() -> None:
    args = parser(__doc__).parse_args()
    folder = output_folder(args, "park_lee_2019_table1")
    flags = ["--sizes=32", "--repeats=1", "--precisions=float32"] if args.smoke else ["--sizes=256,512"]
    command = [sys.executable, os.path.join(ROOT, "benchmarks", "sanet_levels.py"), *flags]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    table = "\n".join(line for line in result.stdout.splitlines() if line.startswith(("|", "machine")))
    path = os.path.join(folder, "table1.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(table + "\n")
    print(table)
    done(args, path, "seconds per stylization, single- and multi-level")


if __name__ == "__main__":
    main()
