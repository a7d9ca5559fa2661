"""CSV import: flexible header, every bad row reported with its line number."""

import io
from decimal import Decimal as D

import pytest

from core.backtest.csv_data import read_csv
from core.errors import InvalidInput

HEADER = "date,open,high,low,close,volume\n"


def parse(text: str, timeframe: str = "1h"):
    return read_csv(io.StringIO(text), timeframe)


def test_header_in_any_case_unnamed_date_and_extra_columns():
    text = ",VOLUME,Close,Low,High,Open,trades\n2024-01-01T00:00:00Z,5,10.5,9,11,10,7\n2024-01-01T01:00:00Z,6,11,10,11.5,10.5,8\n"
    c = parse(text)
    assert (
        c.open.tolist() == [10, 10.5]
        and c.close.tolist() == [10.5, 11]
        and c.volume.tolist() == [5, 6]
    )
    assert c.ts.tolist() == [1704067200000, 1704070800000]
    assert c.rows()[0] == [1704067200000, "10", "11", "9", "10.5", "5"]


def test_dates_as_days_and_epoch_numbers():
    assert (
        parse(HEADER + "2024-01-01,1,1,1,1,0\n2024-01-02,1,1,1,1,0\n", "1d").ts[1] == 1704153600000
    )
    assert parse(HEADER + "1704067200,1,1,1,1,0\n1704070800,1,1,1,1,0\n").ts[1] == 1704070800000
    assert (
        parse(HEADER + "1704067200000,1,1,1,1,0\n1704070800000,1,1,1,1,0\n").ts[0] == 1704067200000
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2024-01-01 00:00,1,1,1,1,1\nyesterday,1,1,1,1,1\n", "line 3: 'yesterday' is not a date"),
        (
            "2024-01-01 00:00,1,1,1,1,1\n2024-01-01 01:00,1,abc,1,1,1\n",
            "line 3: high 'abc' is not a number",
        ),
        ("2024-01-01 00:00,1,1,1,1\n", "line 2: expected 6 fields like the header, found 5"),
        (
            "2024-01-01 00:00,1,0.5,1,1,1\n",
            "line 2: high 0.5 / low 1 don't contain open 1 and close 1",
        ),
        ("2024-01-01 00:00,0,1,0,1,1\n", "line 2: prices must be above 0"),
        ("2024-01-01 00:00,1,1,1,1,-1\n", "line 2: volume can't be negative"),
        ("2024-01-01 01:00,1,1,1,1,1\n2024-01-01 00:00,1,1,1,1,1\n", "line 3: dates must increase"),
        ("2024-01-01 00:00,1,1,1,1,1\n2024-01-01 00:00,1,1,1,1,1\n", "line 3: dates must increase"),
        (
            "2024-01-01 00:00,1.23456789012345678,2,1,1,1\n",
            "line 2: open 1.23456789012345678 has more precision",
        ),
        ("2024-01-01 00:00,nan,1,1,1,1\n", "line 2: open 'nan' is not a number"),
    ],
)
def test_bad_rows_name_their_line(rows, message):
    with pytest.raises(InvalidInput) as err:
        parse(HEADER + rows)
    assert message in str(err.value)


def test_several_bad_rows_are_all_reported():
    text = HEADER + "2024-01-01 00:00,1,1,1,1,1\nx,1,1,1,1,1\n\n2024-01-01 02:00,1,1,1,z,1\n"
    with pytest.raises(InvalidInput) as err:
        parse(text)
    assert "line 3:" in str(err.value) and "line 5:" in str(err.value)


def test_bad_files():
    with pytest.raises(InvalidInput, match="empty"):
        parse("")
    with pytest.raises(InvalidInput, match="no candles"):
        parse(HEADER)
    with pytest.raises(InvalidInput, match="header has no volume"):
        parse("date,open,high,low,close\n")
    with pytest.raises(InvalidInput, match="line 1: the first row must be a header"):
        parse("2024-01-01,1,1,1,1,1\n")
    with pytest.raises(InvalidInput, match="mostly 1d apart, but the timeframe is 1h"):
        parse(HEADER + "2024-01-01,1,1,1,1,1\n2024-01-02,1,1,1,1,1\n2024-01-03,1,1,1,1,1\n")
    with pytest.raises(InvalidInput, match="Can't read"):
        read_csv("/nonexistent/file.csv", "1h")


def test_prices_come_back_as_the_exact_decimals_given():
    from core.strategies.candles import to_decimal

    c = parse(HEADER + "2024-01-01 00:00,0.00001234,0.0000125,0.0000120,0.00001241,123456.789\n")
    assert to_decimal(c.open[0]) == D("0.00001234") and to_decimal(c.close[0]) == D("0.00001241")
