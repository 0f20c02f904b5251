"""French typography for what the channel shows (cards, ticker, weather corner). Pure.

Numbers group thousands with a narrow no-break space and use a decimal comma ("1 234,5"); a unit
follows its number after a no-break space ("12 °C", "80 %"); a colon has a no-break space before
it ("Cathédrale : 117"); hours read "15 h" or "15 h 30" in Europe/Paris.
"""

import datetime as dt
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: thousands, before ; ! ?
PARIS = ZoneInfo("Europe/Paris")
UNITS = {  # UCUM-like symbols of ``city_feeds.items.Value`` → what a viewer reads
    "Cel": "°C",
    "%": "%",
    "m/s": "m/s",
    "km/h": "km/h",
    "mm": "mm",
    "ug/m3": "µg/m³",
    "kWh": "kWh",
    "s": "s",
}


def number(value: float | int, *, decimals: int = 0) -> str:
    """``1234.5`` → ``"1 234,5"`` (``decimals`` places, French separators)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def quantity(value: float | int, unit: str, *, decimals: int = 0) -> str:
    """A number and its unit: ``quantity(12.4, "Cel")`` → ``"12 °C"``."""
    shown = UNITS.get(unit, unit)
    return f"{number(value, decimals=decimals)}{NBSP}{shown}" if shown else number(value)


def labelled(label: str, value: str) -> str:
    """``"Cathédrale"``, ``"117 places"`` → ``"Cathédrale : 117 places"``."""
    return f"{label}{NBSP}: {value}"


def hour(at: dt.datetime) -> str:
    """An instant as a French hour in Europe/Paris: ``"15 h"``, ``"15 h 05"``."""
    local = at.astimezone(PARIS)
    return f"{local.hour}{NBSP}h" + (f"{NBSP}{local.minute:02d}" if local.minute else "")


def kilometres_per_hour(metres_per_second: float) -> float:
    return metres_per_second * 3.6
