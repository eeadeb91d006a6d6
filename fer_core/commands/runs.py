import time

from fer_core import locations
from fer_core.runs import find_runs


def add_arguments(parser):
    parser.add_argument("root", nargs="?", help="folder to scan (default: the checkpoints root)")


def run(args) -> int:
    root = args.root or locations.checkpoints_root()
    runs = find_runs(root)
    if not runs:
        print(f"no runs under {root}")
        return 0
    print(f"{'run':<40} {'preset':<16} {'state':<13} {'epoch':>7} {'best val':>9}  age")
    for info in runs:
        s = info.status
        best = s.get("best_val_acc")
        age = _age(time.time() - float(s.get("updated") or s.get("started") or 0))
        epoch = f"{s.get('epoch', 0)}/{s.get('epochs', '?')}"
        print(f"{info.run_id:<40} {str(s.get('preset', '')):<16} {info.state:<13} {epoch:>7} "
              f"{(f'{best:.4f}' if isinstance(best, (int, float)) else '-'):>9}  {age}")
        if info.state in ("failed", "lost") and s.get("message"):
            print(f"  └ {s['message']}")
    return 0


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
