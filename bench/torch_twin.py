"""The PyTorch twin of fastact's protocol, for the quality bar (a script, not a test).

Same data and split as ``fastact train`` (loaded with `fastact.data.load_dataset`, so the
validation rows are identical), the same network ``784 -> hidden -> 10`` with one
activation, Adam (lr 1e-3), batch 128, a fresh shuffle per epoch, 10 epochs by default;
PyTorch's own initialisation. Prints one line per epoch (time includes validation) and the
test accuracy, so that the two tools' tables can be put side by side:

    python bench/torch_twin.py --act relu --dataset fashion-mnist --epochs 10
    python -m fastact.train   --act relu --dataset fashion-mnist --epochs 10

Parameters follow fastact's defaults: Leaky ReLU's slope 0.3 (Keras), PReLU per unit
starting at 0.25, RReLU in [1/8, 1/3]. torch is optional for fastact; this script needs it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


#: activation name -> the torch module of the twin, given ``torch.nn`` and the layer width
TWIN = {
    "linear": lambda nn, w: nn.Identity(), "softplus": lambda nn, w: nn.Softplus(),
    "sigmoid": lambda nn, w: nn.Sigmoid(), "relu": lambda nn, w: nn.ReLU(),
    "leaky_relu": lambda nn, w: nn.LeakyReLU(0.3), "prelu": lambda nn, w: nn.PReLU(w, 0.25),
    "rrelu": lambda nn, w: nn.RReLU(1 / 8, 1 / 3), "tanh": lambda nn, w: nn.Tanh(), "elu": lambda nn, w: nn.ELU(),
    "selu": lambda nn, w: nn.SELU(), "gelu": lambda nn, w: nn.GELU(),
    "gelu_tanh": lambda nn, w: nn.GELU(approximate="tanh"), "silu": lambda nn, w: nn.SiLU(),
    "mish": lambda nn, w: nn.Mish(),
}


def make_act(torch, name: str, width: int):
    if name not in TWIN:
        raise SystemExit(f"torch_twin: error: --act must be one of {', '.join(TWIN)}. Received: act={name!r}")
    return TWIN[name](torch.nn, width)


def evaluate(torch, model, x, y, batch=1024):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            loss += torch.nn.functional.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def run(act: str, epochs: int, dataset: str, data_dir, hidden: int, batch: int, lr: float, seed: int,
        threads: int | None) -> dict:
    import torch

    from fastact.data import load_dataset

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    ds = load_dataset(dataset, data_dir, 0.1, seed, progress=False)
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    xv, yv = torch.from_numpy(ds.x_val), torch.from_numpy(ds.y_val)
    xt, yt = torch.from_numpy(ds.x_test), torch.from_numpy(ds.y_test)
    model = torch.nn.Sequential(torch.nn.Linear(ds.input_dim, hidden), make_act(torch, act, hidden),
                                torch.nn.Linear(hidden, ds.n_classes))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {ds.description}")
    history = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(x))
        total, correct = 0.0, 0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            loss = torch.nn.functional.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        val_loss, val_acc = evaluate(torch, model, xv, yv)
        seconds = time.perf_counter() - t0
        history.append({"epoch": epoch, "train_loss": total / len(x), "train_acc": correct / len(x),
                        "val_loss": val_loss, "val_acc": val_acc, "seconds": seconds})
        print(f"{act:<12} epoch {epoch}/{epochs}  loss {total / len(x):.4f}  acc {100 * correct / len(x):.2f}%  "
              f"val_loss {val_loss:.4f}  val_acc {100 * val_acc:.2f}%  {seconds:.1f}s")
    test_loss, test_acc = evaluate(torch, model, xt, yt)
    print(f"{act}: test acc {100 * test_acc:.2f}%, {sum(h['seconds'] for h in history) / epochs:.2f} s/epoch")
    return {"act": act, "dataset": ds.name, "history": history, "test_loss": test_loss, "test_acc": test_acc}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="torch_twin", description=__doc__.split("\n\n")[0])
    p.add_argument("--act", nargs="+", default=["relu"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--dataset", default="auto")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default=None, metavar="PATH", help="write every history and test accuracy")
    a = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch_twin: error: PyTorch is not installed (pip install torch)", file=sys.stderr)
        return 2
    out = [run(act, a.epochs, a.dataset, a.data_dir, a.hidden, a.batch_size, a.lr, a.seed, a.threads)
           for act in a.act]
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
