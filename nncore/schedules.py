"""Learning-rate schedules: the learning rate to use in a given epoch (0-based)."""

from __future__ import annotations

import math


class Schedule:
    name = "constant"

    def __call__(self, base_lr: float, epoch: int, epochs: int) -> float:
        return base_lr

    def get_config(self) -> dict:
        return {"name": self.name}


class ConstantLR(Schedule):
    """η_e = η."""


class StepLR(Schedule):
    """η_e = η · γ^⌊e / step_size⌋: divide the rate by 1/γ every ``step_size`` epochs."""

    name = "step"

    def __init__(self, step_size: int = 10, gamma: float = 0.5):
        if int(step_size) < 1 or not 0 < gamma <= 1:
            raise ValueError(f"Step schedule needs step_size ≥ 1 and 0 < gamma ≤ 1, "
                             f"got step_size={step_size!r}, gamma={gamma!r}.")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def __call__(self, base_lr, epoch, epochs):
        return base_lr * self.gamma ** (epoch // self.step_size)

    def get_config(self):
        return {"name": self.name, "step_size": self.step_size, "gamma": self.gamma}


class CosineLR(Schedule):
    """η_e = η_min + ½(η − η_min)(1 + cos(π·e/E)): a smooth decay over the E epochs."""

    name = "cosine"

    def __init__(self, min_lr_fraction: float = 0.0):
        if not 0 <= min_lr_fraction <= 1:
            raise ValueError(f"Cosine schedule needs 0 ≤ min_lr_fraction ≤ 1, got {min_lr_fraction!r}.")
        self.min_lr_fraction = float(min_lr_fraction)

    def __call__(self, base_lr, epoch, epochs):
        low = base_lr * self.min_lr_fraction
        return low + 0.5 * (base_lr - low) * (1 + math.cos(math.pi * epoch / max(epochs, 1)))

    def get_config(self):
        return {"name": self.name, "min_lr_fraction": self.min_lr_fraction}


SCHEDULES = {"constant": ConstantLR, "step": StepLR, "cosine": CosineLR}


def get_schedule(spec) -> Schedule:
    if isinstance(spec, Schedule):
        return spec
    if spec is None:
        return ConstantLR()
    if isinstance(spec, str):
        spec = {"name": spec}
    name = str(spec.get("name", "")).lower()
    if name not in SCHEDULES:
        raise ValueError(f"Unknown schedule {spec!r}: expected one of {', '.join(SCHEDULES)}.")
    try:
        return SCHEDULES[name](**{k: v for k, v in spec.items() if k != "name"})
    except TypeError as exc:
        raise ValueError(f"Schedule {name!r} got unexpected settings: {exc}") from None
