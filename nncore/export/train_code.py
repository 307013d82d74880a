"""The run's sections of an exported script: settings, loss, optimizer, training loop, test.

Each mirrors its counterpart in the engine line for line — ``nncore.losses``,
``nncore.optimizers`` (Adam as the paper writes it, which the engine's fused form equals
to float32 rounding), ``nncore.schedules`` and ``Network.fit``'s loop: the batch order is
drawn from a generator seeded with the run's seed, a new permutation every epoch, and
only when there is more than one batch; dropout masks come from the same generator.
"""

from __future__ import annotations

import textwrap

from ..network import EVAL_BATCH
from .document import Section, code
from .model_code import line, returns_delta
from .plan import Plan


def settings_section(plan: Plan) -> Section:
    drawn = ["the initial weights"] if plan.model_file is None else []
    drawn += ["the batch order"] if plan.shuffle and plan.batch_size is not None else []
    drawn += ["dropout"] if any(s.dropout for s in plan.stages) else []
    seeds = ", ".join(drawn[:-1]) + " and " + drawn[-1] if len(drawn) > 1 else "".join(drawn)
    rows = [("SEED", plan.seed, f"seeds {seeds}")] if drawn else []
    rows += [("EPOCHS", plan.epochs, ""), ("LEARNING_RATE", plan.optimizer["lr"], "η")]
    if plan.batch_size is not None:
        rows.append(("BATCH_SIZE", plan.batch_size, "samples per step"))
    if plan.l2:
        rows.append(("L2", plan.l2, "λ of the weight decay ½·λ·ΣW² (biases are not decayed)"))
    if plan.model_file is not None:
        rows.append(("MODEL_FILE", plan.model_file, "the trained model to start from"))
    text = "\n".join(line(f"{name} = {value!r}", comment, 0) if comment else f"{name} = {value!r}"
                     for name, value, comment in rows)
    return Section("", "", text)


# ---------------------------------------------------------------------- the loss
_LOSSES = {
    "softmax_cross_entropy": (
        "Softmax cross-entropy (seed 002), and δ = ∂ℓ/∂z of the output layer.",
        ["p = np.clip(a, 1e-7, 1.0 - 1e-7)", "probabilities kept off 0: no log(0)"],
        ["loss = -float(np.sum(Y * np.log(p))) / len(a)", "L = −(1/m)·Σ ln p_y"],
        ["a - Y", "δ = p − y: the softmax's Jacobian and the log's derivative cancel"]),
    "binary_cross_entropy": (
        "Binary cross-entropy (seed 003), and dA = ∂ℓ/∂ŷ for every sample.",
        ["p = np.clip(a, 1e-7, 1.0 - 1e-7)", "ŷ kept off 0 and 1: no log(0), no ÷0"],
        ["loss = float(-np.mean(Y * np.log(p) + (1.0 - Y) * np.log(1.0 - p)))",
         "L = −mean(y·ln ŷ + (1 − y)·ln(1 − ŷ))"],
        ["-(Y / p - (1.0 - Y) / (1.0 - p))", "∂ℓ/∂ŷ = −(y/ŷ − (1 − y)/(1 − ŷ))"]),
    "mse": (
        "Mean squared error (seed 001), and dA = ∂ℓ/∂a for every sample.",
        None,
        ["loss = float(np.mean((a - Y) ** 2))", "L = mean over samples and outputs of (a − y)²"],
        ["2.0 * (a - Y) / a.shape[1]", "∂ℓ/∂a = 2·(a − y)/k, k outputs"]),
    "mse_sum": (
        "Squared error summed over the outputs (seed 000), and dA = ∂ℓ/∂a.",
        None,
        ["loss = float(np.sum((a - Y) ** 2)) / len(a)", "L = (1/m)·Σ (a − y)²"],
        ["2.0 * (a - Y)", "∂ℓ/∂a = 2·(a − y)"]),
}


def loss_section(plan: Plan) -> Section:
    doc, clip, loss, grad = _LOSSES[plan.loss]
    body = [line(*clip)] if clip else []
    body.append(line(*loss))
    if plan.l2:
        weights = ", ".join(f"W{s.k}" for s in plan.weighted)
        body.append(line(f"loss += 0.5 * L2 * float(sum(np.sum(W * W) for W in ({weights},)))",
                         "+ ½·λ·ΣW² (seed 002's L2)"))
    body.append(line(f"return loss, {grad[0]}", grad[1]))
    labels = ("(outputs[:, 0] > 0.5)" if plan.n_outputs == 1 else "outputs.argmax(axis=1)")
    name = "loss_and_delta" if returns_delta(plan) else "loss_and_gradient"
    rows = EVAL_BATCH
    text = (f'def {name}(a, Y):\n    """{doc}"""\n' + "\n".join(body) + "\n\n\n" + code(f'''
        def evaluate(X, Y, y):
            """Loss and accuracy on (X, y), predicting {rows:,} rows at a time as the lab does."""
            outputs = np.concatenate([forward(X[i:i + {rows}])[0] for i in range(0, len(X), {rows})])
            predicted = {labels}
            return {name}(outputs, Y)[0], float(np.mean(predicted == y))
        '''))
    words = "The batch's mean loss" + (" with the L2 penalty" if plan.l2 else "") + \
        ", the gradient that starts backpropagation, and the test."
    return Section("The loss", words, text, ("import numpy as np",))


# ---------------------------------------------------------------------- the optimizer
def optimizer_section(plan: Plan) -> Section:
    o, imports = plan.optimizer, ()
    if o["name"] == "adam":
        b1, b2, eps = o["beta1"], o["beta2"], o["eps"]
        text = code('''
            moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in params.items()}
            t = 0


            def update(grads, lr):
                """Adam (Kingma & Ba, 2015) at step t, θ ← θ − η·m̂/(√v̂ + ε), in the lab's form: m and v
                kept as m' = m/(1 − β₁), v' = v/(1 − β₂), every constant folded into η_t and ε_t."""
                global t
                t += 1
        ''') + "\n" + "\n".join([
            line(f"v_scale = math.sqrt((1.0 - {b2!r}) / (1.0 - {b2!r} ** t))",
                 "√((1 − β₂)/(1 − β₂ᵗ))"),
            line(f"lr_t, eps_t = lr * (1.0 - {b1!r}) / (1.0 - {b1!r} ** t) / v_scale, "
                 f"{eps!r} / v_scale", "η_t = η·(1 − β₁)/(1 − β₁ᵗ)/√…, ε_t = ε/√…"),
            "    for name, p in params.items():",
            "        (m, v), g = moments[name], grads[name]",
            line(f"m[...] = {b1!r} * m + g", "m' ← β₁·m' + g, i.e. m ← β₁·m + (1 − β₁)·g", 8),
            line(f"v[...] = {b2!r} * v + g * g", "v' ← β₂·v' + g², i.e. v ← β₂·v + (1 − β₂)·g²", 8),
            line("p -= lr_t * (m / (np.sqrt(v) + eps_t))", "θ ← θ − η_t·m'/(√v' + ε_t)", 8),
            line("if t % 100 == 0:", "moments that decayed below 1e-30 are subnormal", 8),
            line("m[np.abs(m) < 1e-30], v[v < 1e-30] = 0, 0", "floats, slow to compute: 0",
                 12)])
        words = "Adam: the gradient's running mean over the root of its running mean square."
        imports = ("import math",)
    elif o.get("momentum"):
        mu = o["momentum"]
        step = (line(f"p += {mu!r} * v - lr * grads[name]", "Nesterov: θ ← θ + μ·v − η·g", 8)
                if o.get("nesterov") else line("p += v", "θ ← θ + v", 8))
        text = code(f'''
            velocity = {{name: np.zeros_like(p) for name, p in params.items()}}


            def update(grads, lr):
                """Gradient descent with momentum μ = {mu!r}, for every parameter θ, in place."""
                for name, p in params.items():
                    v = velocity[name]
        ''') + "\n" + "\n".join([line(f"v *= {mu!r}", "v ← μ·v − η·g", 8),
                                 line("v -= lr * grads[name]", indent=8), step])
        words = "Momentum: a velocity remembers past gradients, so steps build up speed."
    else:
        text = code('''
            def update(grads, lr):
                """Gradient descent: θ ← θ − η·g for every parameter θ, in place."""
                for name, p in params.items():
                    p -= lr * grads[name]
            ''')
        words = "Plain gradient descent: every parameter takes a step against its gradient."
    return Section("The optimizer", words, text, ("import numpy as np",) + imports)


# ---------------------------------------------------------------------- training and test
def _learning_rate(plan: Plan) -> tuple[str | None, tuple]:
    """The line that sets this epoch's learning rate (None: it stays LEARNING_RATE)."""
    s = plan.schedule
    if s["name"] == "step":
        return (line(f"lr = LEARNING_RATE * {s['gamma']!r} ** ((epoch - 1) // {s['step_size']})",
                     "step decay: η·γ^⌊e/step⌋"), ())
    if s["name"] == "cosine":
        low = s["min_lr_fraction"]
        if low:
            expr = (f"LEARNING_RATE * {low!r} + 0.5 * (LEARNING_RATE - LEARNING_RATE * {low!r})"
                    " * (1 + math.cos(math.pi * (epoch - 1) / EPOCHS))")
        else:
            expr = "0.5 * LEARNING_RATE * (1 + math.cos(math.pi * (epoch - 1) / EPOCHS))"
        return line(f"lr = {expr}", "cosine decay: η_min + ½(η − η_min)(1 + cos(π·e/E))"), \
            ("import math",)
    return None, ()


def training_section(plan: Plan) -> Section:
    step_fn = "loss_and_delta" if returns_delta(plan) else "loss_and_gradient"
    lr_line, imports = _learning_rate(plan)
    lr = "lr" if lr_line else "LEARNING_RATE"
    uses_rng = any(s.dropout for s in plan.stages) or (plan.shuffle and plan.batch_size)
    lines = []
    if plan.model_file is not None:
        lines.append('print(f"the trained model: test accuracy {evaluate(X_test, Y_test, '
                     'y_test)[1]:.4f}")')
    if uses_rng:
        lines.append("rng = np.random.default_rng(SEED)   # the batch order and dropout, "
                     "drawn as the lab draws them")
    if plan.batch_size is None:
        lines.append("for epoch in range(1, EPOCHS + 1):")
        if lr_line:
            lines.append(lr_line)
        lines.append(_indent(code(f"""
            a, cache = forward(X_train, training=True)
            train_loss, dA = {step_fn}(a, Y_train)
            update(backward(dA, cache), {lr})
            """)))
    else:
        lines.append("m = len(X_train)")
        lines.append("for epoch in range(1, EPOCHS + 1):")
        if lr_line:
            lines.append(lr_line)
        if plan.shuffle:
            lines.append(line("rows = rng.permutation(m) if m > BATCH_SIZE else np.arange(m)",
                              "a new order every epoch (one batch: no need)"))
        lines.append(line("total = 0.0"))
        lines.append("    for start in range(0, m, BATCH_SIZE):")
        batch = ("rows[start:start + BATCH_SIZE]" if plan.shuffle
                 else "slice(start, start + BATCH_SIZE)")
        lines.append(_indent(code(f"""
            batch = {batch}
            a, cache = forward(X_train[batch], training=True)
            loss, dA = {step_fn}(a, Y_train[batch])
            update(backward(dA, cache), {lr})
            total += loss * len(a)
            """), 8))
        lines.append(line("train_loss = total / m", "the epoch's loss: the mean over its batches"))
    lines.append('    print(f"epoch {epoch}/{EPOCHS}: loss {train_loss:.9g}")')
    words = ("Every epoch: forward, loss, backward, update — "
             + ("on the whole training set at once." if plan.batch_size is None else
                "for each mini-batch" + (", in a new order." if plan.shuffle else ", in order.")))
    return Section("Training", words, "\n".join(lines), ("import numpy as np",) + imports)


def _indent(text: str, spaces: int = 4) -> str:
    return textwrap.indent(text, " " * spaces)


def test_section(plan: Plan) -> Section:
    text = code('''
        test_loss, test_accuracy = evaluate(X_test, Y_test, y_test)
        print(f"test accuracy {test_accuracy:.4f}, final train loss {train_loss:.6f}")
        print(json.dumps({"test_accuracy": test_accuracy, "train_loss": train_loss,
                          "test_loss": test_loss, "epochs": EPOCHS}))
        ''')
    return Section("The test", "Looked at once, at the end. The last line is JSON, as "
                   "`nncore train --json` prints it.", text, ("import json",))


__all__ = ["settings_section", "loss_section", "optimizer_section", "training_section",
           "test_section"]
