"""The vectorised CSV read gives exactly the row parser's candles, and leaves to the row parser
every file it can't vouch for (which then names the bad line, or reads the unusual form)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from core.backtest.csv_data import _parse, read_csv
from core.backtest.csv_fast import read_fast
from core.errors import InvalidInput

HOUR = 3_600_000
COLUMNS = ("ts", "open", "high", "low", "close", "volume")


def _rows(n: int, date) -> list[str]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    out = []
    for i, c in enumerate(close.tolist()):
        o = round(c * 0.999, 2)
        out.append(f"{date(i)},{o},{round(c * 1.01, 2)},{round(o * 0.99, 2)},{c},{i % 7}.5")
    return out


def _iso(i: int) -> str:
    return f"2024-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _rows_parser(text: str):  # type: ignore[no-untyped-def]
    return _parse(io.StringIO(text.removeprefix("\ufeff")), HOUR, "1h")


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in COLUMNS)


VALID = {
    "iso with Z": "date,open,high,low,close,volume\n" + "\n".join(_rows(200, _iso)) + "\n",
    "epoch seconds, CRLF": "time,open,high,low,close,volume\r\n"
    + "\r\n".join(_rows(200, lambda i: str(1_704_067_200 + i * 3600)))
    + "\r\n",
    "epoch ms, columns reordered and extra": "ts,Volume,CLOSE,low,High,open,note\n"
    + "\n".join(
        ",".join([r.split(",")[0], *reversed(r.split(",")[1:]), "x"])
        for r in _rows(150, lambda i: str(1_704_067_200_000 + i * HOUR))
    ),
    "date and minutes, slashes": "date,open,high,low,close,volume\n"
    + "\n".join(_rows(48, lambda i: f"2024/02/{1 + i // 24:02d} {i % 24:02d}:00")),
    "spaces and +00:00": "date , open , high , low , close , volume\n"
    + "\n".join(" " + r.replace(",", " , ").replace("Z", "+00:00") for r in _rows(100, _iso)),
}


@pytest.mark.parametrize("name", VALID)
def test_the_fast_read_equals_the_row_parser(tmp_path: Path, name: str) -> None:
    text = VALID[name]
    path = _write(tmp_path / "c.csv", text)
    fast = read_fast(path, HOUR)
    assert fast is not None, "the fast reader vouches for this file"
    assert _same(fast, _rows_parser(text))


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    text = "\ufeff" + VALID["iso with Z"]
    path = _write(tmp_path / "bom.csv", text)
    assert _same(read_csv(path, "1h"), _rows_parser(text))


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        (lambda r: r.replace("Z", "+02:00"), True),  # an offset: the row parser converts it
        (lambda r: r.replace(",0.5", ",1_000.5"), True),  # Decimal reads underscores
        (lambda r: r.replace(",0.5", ",0.30000000000000004"), True),  # 17 digits, exact float
        (lambda r: r.replace(",0.5", ",1e-400"), False),  # too small for a float
        (lambda r: r.replace(",0.5", ",0.1234567890123456"), True),  # 16 digits, exact
        (lambda r: r.replace(",0.5", ",0.12345678901234567"), False),  # not a float's digits
        (lambda r: r.replace("2024-01-01T00", "2024-1-01T00"), False),  # not ISO
    ],
)
def test_forms_the_fast_reader_declines_are_read_by_the_row_parser(
    tmp_path: Path, change, accepted: bool
) -> None:  # type: ignore[no-untyped-def]
    lines = VALID["iso with Z"].splitlines()
    lines[1] = change(lines[1])  # the first candle (its volume is 0.5)
    text = "\n".join(lines) + "\n"
    path = _write(tmp_path / "odd.csv", text)
    assert read_fast(path, HOUR) is None
    if accepted:
        assert _same(read_csv(path, "1h"), _rows_parser(text))
    else:
        with pytest.raises(InvalidInput, match=r"^line 2: "):
            read_csv(path, "1h")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda r: r.replace(r.split(",")[4], "-1", 1), "prices must be above 0"),
        (lambda r: r.rsplit(",", 1)[0] + ",-2", "volume can't be negative"),
        (lambda r: r + ",7", "expected 6 fields like the header, found 7"),
        (lambda r: r.replace(r.split(",")[1], "abc", 1), "open 'abc' is not a number"),
        (lambda r: "2023-12-31T00:00:00Z" + r[20:], "dates must increase"),
    ],
)
def test_a_bad_row_deep_in_a_file_is_named_with_its_line(tmp_path: Path, bad, message: str) -> None:  # type: ignore[no-untyped-def]
    lines = VALID["iso with Z"].splitlines()
    lines[150] = bad(lines[150])
    path = _write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    assert read_fast(path, HOUR) is None
    with pytest.raises(InvalidInput, match=f"^line 151: .*{message}"):
        read_csv(path, "1h")


def test_a_timeframe_that_does_not_match_the_spacing_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", VALID["iso with Z"])
    assert read_fast(path, 4 * HOUR) is None
    with pytest.raises(InvalidInput, match=r"mostly 1h apart, but the timeframe is 4h"):
        read_csv(path, "4h")


def test_missing_and_non_utf8_files_keep_their_messages(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Can't read"):
        read_csv(tmp_path / "none.csv", "1h")
    latin = _write(tmp_path / "latin.csv", "date,open,high,low,close,volume,né\n", "latin-1")
    with pytest.raises(InvalidInput, match="is not a UTF-8 text file"):
        read_csv(latin, "1h")
