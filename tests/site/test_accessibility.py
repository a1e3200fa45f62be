"""The arm colours stay apart for readers with a colour-vision deficiency, and stand out on white.

Deficiencies are simulated with the matrices of Machado, Oliveira and Fernandes (2009, IEEE
TVCG 15:1291-8) at full severity, applied to linear RGB; colours are compared in CIELAB (D65).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from anrs119 import ARMS
from anrs119.report.figures import ARM_COLOURS

MACHADO = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}
VISION = {"typical": np.eye(3), **{k: np.array(v) for k, v in MACHADO.items()}}
MIN_DELTA_E = 20.0  # CIE76; about 2.3 is "just noticeable", 20 is plainly different hues
MIN_CONTRAST = 3.0  # WCAG 2.1, 1.4.11: graphical objects against their background
SRGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)
WHITE_XYZ = SRGB_TO_XYZ @ np.ones(3)


def linear_rgb(hex_colour: str) -> np.ndarray:
    srgb = np.array([int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab(linear: np.ndarray) -> np.ndarray:
    t = (SRGB_TO_XYZ @ np.clip(linear, 0, 1)) / WHITE_XYZ
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_difference(a: str, b: str, vision: str) -> float:
    m = VISION[vision]
    return float(np.linalg.norm(lab(m @ linear_rgb(a)) - lab(m @ linear_rgb(b))))


def contrast_with_white(colour: str) -> float:
    luminance = float(SRGB_TO_XYZ[1] @ linear_rgb(colour))
    return 1.05 / (luminance + 0.05)


def test_simulation_keeps_greys_and_merges_red_and_green() -> None:
    for name, matrix in MACHADO.items():
        assert np.allclose(np.array(matrix) @ np.ones(3), 1, atol=1e-5), f"{name}: white moved"
    typical = seen_difference("#FF0000", "#00FF00", "typical")
    for vision in ("protanopia", "deuteranopia"):
        assert seen_difference("#FF0000", "#00FF00", vision) < typical / 2, vision


def test_lab_of_known_colours() -> None:
    assert np.allclose(lab(linear_rgb("#FFFFFF")), [100, 0, 0], atol=0.1)
    assert np.allclose(lab(linear_rgb("#000000")), [0, 0, 0], atol=0.1)
    assert abs(lab(linear_rgb("#808080"))[0] - 53.6) < 0.2  # mid grey, L* 53.59


@pytest.mark.parametrize("vision", list(VISION))
def test_arm_colours_stay_distinct(vision: str) -> None:
    for a, b in itertools.combinations(ARMS, 2):
        difference = seen_difference(ARM_COLOURS[a], ARM_COLOURS[b], vision)
        assert difference >= MIN_DELTA_E, f"{a} vs {b} with {vision}: delta E {difference:.1f}"


@pytest.mark.parametrize("arm", ARMS)
def test_arm_colour_stands_out_on_white(arm: str) -> None:
    ratio = contrast_with_white(ARM_COLOURS[arm])
    assert ratio >= MIN_CONTRAST, f"{arm} {ARM_COLOURS[arm]}: contrast {ratio:.2f} with white"
