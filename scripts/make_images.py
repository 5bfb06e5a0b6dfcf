"""Draw the example pictures of docs/graph.md into docs/images with `backprop graph`.

    python scripts/make_images.py               # rewrite docs/images (needs Graphviz's dot)
    python scripts/make_images.py --out DIR     # write them somewhere else

Circuits (SVG and PNG) are drawn by running `backprop graph` itself; the terminal tree is
recorded from the same renderer the command uses and saved as SVG by Rich.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEURON_VALUES = ["w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"]

#: file stem -> the expression and values drawn (the worked examples of the course notes)
CIRCUITS = {
    "circuit": ["(x+y)*z", "x=-2", "y=5", "z=-4"],
    "neuron": ["sigmoid(w0*x0 + w1*x1 + w2)", *NEURON_VALUES],
    "neuron_expanded": ["1/(1+exp(-(w0*x0 + w1*x1 + w2)))", *NEURON_VALUES],
}
#: the tree screenshot: fan-out, where the gradients of the uses add up
TREE = ["x*x + x", {"x": "3"}]


def backprop(*words: str) -> None:
    subprocess.run([sys.executable, "-m", "backprop_cli", *words], check=True, env={**os.environ, "NO_COLOR": "1"})


def write_tree_svg(path: Path) -> None:
    import io

    from rich.console import Console

    from backprop_cli import grad
    from backprop_cli.render.tree import render_graph_tree

    expression, values = TREE
    result = grad(expression, values)
    console = Console(
        record=True, width=110, file=io.StringIO(), force_terminal=True, color_system="truecolor", highlight=False
    )
    console.print(f'$ backprop graph "{expression}" ' + " ".join(f"{k}={v}" for k, v in values.items()), style="dim")
    render_graph_tree(result.graph, console, result)
    console.save_svg(str(path), title="backprop graph")


def main(argv: list[str]) -> int:
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for stem, words in CIRCUITS.items():
        for suffix in ("svg", "png"):
            backprop("graph", *words, "--digits", "4", "-o", str(out / f"{stem}.{suffix}"))
    write_tree_svg(out / "tree_fanout.svg")
    print(f"wrote {len(CIRCUITS) * 2 + 1} images to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
