"""`make bench`: run every benchmark script of this folder, one after the other.

Each script compares our code with a baseline measured in the same run and prints its own
table; this runner only collects their JSON summary lines into ``var/bench/latest.json``.
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not scripts:
        print("no benchmark scripts found", file=sys.stderr)
        return 1
    summaries = {}
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        result = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        print(result.stdout, end="")
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return result.returncode
        json_lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        if json_lines:
            summaries[script.stem] = json.loads(json_lines[-1])
    out = ROOT / "var" / "bench" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summaries, indent=2))
    print(f"\nsummary written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
