"""Colours for make-up and frames, parsed from names, hex or rgb(); a typed error lists the forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ColourError

NAMED = {
    # lipsticks
    "red": (190, 20, 40), "ruby": (155, 17, 30), "cherry": (210, 30, 50), "coral": (240, 110, 90),
    "pink": (230, 110, 150), "rose": (200, 90, 110), "nude": (190, 130, 110), "plum": (120, 40, 80),
    "berry": (140, 30, 70), "wine": (110, 20, 40), "mauve": (170, 100, 120), "orange": (235, 95, 40),
    "brown": (120, 60, 40), "purple": (110, 40, 130),
    # hair and frames
    "black": (20, 20, 22), "blonde": (220, 190, 120), "auburn": (140, 50, 30), "copper": (184, 90, 45),
    "silver": (190, 190, 195), "gold": (200, 160, 60), "tortoise": (110, 60, 25), "blue": (40, 70, 170),
    "green": (30, 120, 60), "white": (245, 245, 245), "grey": (128, 128, 128), "gray": (128, 128, 128),
}
FORMS = "a name, #rgb, #rrggbb, rgb(R, G, B) or R,G,B with values 0-255"
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_TRIPLE = re.compile(r"^(?:rgb\()?\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Colour:
    """An sRGB colour and what the user called it."""

    rgb: tuple[int, int, int]
    text: str

    @property
    def hex(self) -> str:
        return "#" + "".join(f"{c:02x}" for c in self.rgb)

    def to_dict(self) -> dict[str, str]:
        return {"colour": self.text, "hex": self.hex}


def parse_colour(text: str | Colour | tuple) -> Colour:
    """``"red"``, ``"#c0ffee"``, ``"#fab"``, ``"rgb(200, 30, 60)"``, ``"200,30,60"`` or an (r, g, b) tuple."""
    if isinstance(text, Colour):
        return text
    if isinstance(text, tuple):
        text = ",".join(str(v) for v in text)
    raw = str(text).strip()
    key = raw.lower().replace("_", "-")
    if key in NAMED:
        return Colour(NAMED[key], key)
    match = _HEX.match(raw)
    if match and (raw.startswith("#") or not key.isalpha()):
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return Colour(tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4)), raw)  # type: ignore[arg-type]
    match = _TRIPLE.match(raw)
    if match:
        values = tuple(int(v) for v in match.groups())
        if all(0 <= v <= 255 for v in values):
            return Colour(values, raw)  # type: ignore[arg-type]
    raise ColourError(f"cannot read the colour {raw!r}: give {FORMS}; names: {', '.join(sorted(NAMED))}")
