"""The command line.

    python -m nncore train --preset mnist-mlp [--epochs N] [--limit N] [--save PATH] [--json]
    python -m nncore train --data mnist --hidden 256,128 --activation relu --optimizer adam \\
                           --lr 0.001 --batch-size 128 --epochs 10 --seed 0
    python -m nncore evaluate MODEL.npz [--json]
    python -m nncore export (--preset NAME | --link URL | --model MODEL.npz) [--out FILE.py]
                            [--notebook FILE.ipynb] [--epochs N] [--limit N]
    python -m nncore presets

With ``--json`` the last line printed is one JSON object with at least ``preset``,
``epochs``, ``train_loss``, ``test_accuracy`` (or the preset's headline, e.g.
``final_error``) and ``seconds_per_epoch`` (median over epochs, training only).
"""

from __future__ import annotations

import argparse
import json
import sys

from .runs.presets import PRESETS, get_preset
from .runs.schema import DENSE, HIDDEN_ACTIVATIONS, OPTIMIZERS, RUN, default_lr
from .runs.spec import RunSpec
from .training import TrainingError


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is one line, not the usage block."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m nncore", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a preset or a custom network")
    t.add_argument("--preset", choices=sorted(PRESETS), help="a seed experiment or the default")
    t.add_argument("--data", help="data set for a custom run (mnist, fashion-mnist, digits, "
                   "moons, circles, xor, spiral, clusters)")
    t.add_argument("--hidden", help="hidden layer sizes, e.g. 256,128")
    # Defaults and choices come from the run schema, as for links and the app's widgets.
    t.add_argument("--activation", default=DENSE["activation"].default,
                   choices=HIDDEN_ACTIVATIONS, help="hidden activation (default %(default)s)")
    t.add_argument("--loss", default=RUN["loss"].default, choices=RUN["loss"].choices)
    t.add_argument("--optimizer", default=RunSpec().optimizer["name"], choices=tuple(OPTIMIZERS),
                   help="default %(default)s")
    t.add_argument("--lr", type=float, help="learning rate (default: the optimizer's usual "
                   + ", ".join(f"{name} {c.lr:g}" for name, c in OPTIMIZERS.items()) + ")")
    t.add_argument("--batch-size", type=int, help="0 for full batch")
    t.add_argument("--epochs", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--l2", type=float)
    t.add_argument("--limit", type=int, help="train on at most this many MNIST digits")
    t.add_argument("--save", help="write the trained model to this .npz")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines")

    e = sub.add_parser("evaluate", help="evaluate a saved model on the data it was trained on")
    e.add_argument("model")
    e.add_argument("--json", action="store_true")

    x = sub.add_parser("export", help="write a run as one NumPy script (and a notebook)")
    source = x.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", choices=sorted(PRESETS), help="a seed experiment or the default")
    source.add_argument("--link", help="a share link of the app (or just its ?query)")
    source.add_argument("--model", help="a saved model (.npz): the script trains it further, "
                        "starting from its weights")
    x.add_argument("--out", help="the .py file to write (without it the script is printed)")
    x.add_argument("--notebook", help="also write the run as a Jupyter notebook (.ipynb)")
    x.add_argument("--epochs", type=int)
    x.add_argument("--limit", type=int, help="train on at most this many MNIST digits")

    sub.add_parser("presets", help="list the presets")
    return p


def _spec_from_args(args) -> tuple[str, RunSpec]:
    """The RunSpec the flags describe: a preset or a custom run, with the flags given on top.
    Checked once, when it is made; a flag the schema does not allow is a SpecError."""
    if args.preset:
        d = get_preset(args.preset).spec
        name = args.preset
    else:
        if not args.data:
            raise ValueError("Give --preset NAME, or --data NAME for a custom run.")
        sizes = [u.strip() for u in (args.hidden or "").split(",") if u.strip()]
        if not all(u.isascii() and u.isdigit() for u in sizes):
            raise ValueError(f"--hidden takes layer sizes separated by commas, e.g. 256,128; "
                             f"got {args.hidden!r}.")
        d = {"data": {"name": args.data}, "loss": args.loss,
             "optimizer": {"name": args.optimizer, "lr": default_lr(args.optimizer)},
             "hidden": [{"units": int(u), "activation": args.activation} for u in sizes]}
        name = "custom"
    d = dict(d)
    if args.lr is not None:
        d["optimizer"] = {**d["optimizer"], "lr": args.lr}
    if args.batch_size is not None:
        d["batch_size"] = args.batch_size or None
    for field in ("epochs", "seed", "l2"):
        if getattr(args, field) is not None:
            d[field] = getattr(args, field)
    return name, RunSpec.from_dict(d)


def _train(args) -> int:
    from .runs.run import json_safe, load_spec_data, train_spec
    from .serialization import save

    name, spec = _spec_from_args(args)
    dataset = load_spec_data(spec, limit=args.limit)
    if dataset.fallback_reason:
        print(f"note: {dataset.fallback_reason}", file=sys.stderr)
    print(f"data: {dataset.description}")
    print(f"train {dataset.n_train:,} / validation {dataset.n_val:,} / test {dataset.n_test:,}")
    callbacks = []
    if not args.quiet:
        def print_epoch(event):
            if event.kind == "epoch_end":
                h = event.history
                val = (f", val accuracy {h.val_accuracy[-1]:.4f}" if h.val_accuracy else "")
                print(f"epoch {event.epoch}/{event.epochs}: loss {h.train_loss[-1]:.6f}, "
                      f"accuracy {h.train_accuracy[-1]:.4f}{val} ({h.seconds[-1]:.2f} s)",
                      flush=True)
        callbacks.append(print_epoch)
    result = train_spec(spec, dataset, callbacks=callbacks)
    m = result.metrics
    result.network.metadata["preset"] = name
    print(f"test accuracy {m['test_accuracy']:.4f}, final train loss {m['train_loss']:.6f}, "
          f"{m['seconds_per_epoch']:.3f} s/epoch (median)")
    out = {"preset": name, **m, "n_train": dataset.n_train, "data": dataset.name}
    if name in PRESETS:
        preset = PRESETS[name]
        out["headline"] = preset.headline
        out["target"] = preset.target
        out["met"] = preset.met(m[preset.headline])
        print(f"{preset.expectation}: {'met' if out['met'] else 'NOT met'} "
              f"({preset.headline} = {m[preset.headline]:.6g}; published: {preset.published})")
    if args.save:
        save(result.network, args.save)
        print(f"saved to {args.save}")
    if args.json:
        print(json.dumps(json_safe(out)))
    return 0


def _evaluate(args) -> int:
    from .runs.run import json_safe, load_spec_data
    from .serialization import load

    network = load(args.model)
    spec_dict = network.metadata.get("spec")
    if not spec_dict:
        raise ValueError(f"{args.model} does not record the data it was trained on.")
    spec = RunSpec.from_dict(spec_dict)
    dataset = load_spec_data(spec)
    expected = network.metadata.get("dataset", {}).get("n_features")
    if expected and expected != dataset.n_features:
        raise ValueError(f"The model expects {expected} features but {dataset.name} has "
                         f"{dataset.n_features}.")
    test = network.evaluate(dataset.X_test, dataset.y_test)
    print(f"{args.model}: test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f} "
          f"on {dataset.n_test:,} samples of {dataset.name}")
    if args.json:
        print(json.dumps(json_safe({"model": args.model, "preset": network.metadata.get("preset"),
                                    "data": dataset.name, "test_accuracy": test["accuracy"],
                                    "test_loss": test["loss"], "n_test": dataset.n_test})))
    return 0


def _export(args) -> int:
    """Write the run as a script (``nncore.export``): everything is made first, so a run the
    exporter cannot express is refused before any file is written."""
    from pathlib import Path

    from .export import export_model, export_spec
    from .serialization import load

    filename = Path(args.out).name if args.out else "run.py"
    if args.model:
        network = load(args.model)
        spec = network.metadata.get("spec")
        if isinstance(spec, dict):
            network.metadata["spec"] = _overridden(RunSpec.from_dict(spec), args).to_dict()
        exported = export_model(network, args.model, filename=filename)
    else:
        if args.link:
            spec, title = _spec_from_link(args.link), None
        else:
            spec, title = get_preset(args.preset).run_spec(), get_preset(args.preset).title
        exported = export_spec(_overridden(spec, args), title, filename=filename)
    files = {args.out: exported.script} if args.out else {}
    if args.notebook:
        files[args.notebook] = exported.notebook()
    for path in files:
        if not Path(path).resolve().parent.is_dir():
            raise ValueError(f"{Path(path).parent} is not a folder: nothing was written.")
    if not args.out:
        print(exported.script, end="")
    for path, text in files.items():
        Path(path).write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text.splitlines())} lines)", file=sys.stderr)
    return 0


def _overridden(spec: RunSpec, args) -> RunSpec:
    """The spec with ``--epochs`` and ``--limit`` on top (checked, as every spec is)."""
    if args.epochs is not None:
        spec = spec.replace(epochs=args.epochs)
    if args.limit is not None:
        spec = spec.replace(data={**spec.data, "limit": args.limit})
    return spec


def _spec_from_link(url: str) -> RunSpec:
    """The setup a share link describes, read by the link reader the app uses
    (``nncore.runs.links``), so that a link means the same here as in the app."""
    from urllib.parse import parse_qsl, urlsplit

    from .runs.links import is_link, spec_from_params
    query = urlsplit(url).query or url.lstrip("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    if not is_link(params):
        raise ValueError(f"The link {url!r} describes no setup (no data, layers or training "
                         "settings in its query).")
    spec, notes = spec_from_params(params)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return spec


def _user_errors() -> tuple:
    """The errors main reports in one line. Data sets, runs and model files are imported
    by the commands that use them, so that ``presets`` and ``--help`` start quickly."""
    from .data import DataUnavailable
    from .serialization import ModelFileError
    return ValueError, DataUnavailable, ModelFileError, TrainingError


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "presets":
            for p in PRESETS.values():
                print(f"{p.name:18} {p.title}  [{p.expectation}]")
            return 0
        if args.command == "train":
            return _train(args)
        if args.command == "export":
            return _export(args)
        return _evaluate(args)
    except _user_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:   # e.g. --save into a folder that does not exist
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
