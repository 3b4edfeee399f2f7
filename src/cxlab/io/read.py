"""Find a table's files and read them onto an engine, raw (before typing)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import narwhals as nw

from cxlab.engine import Engine
from cxlab.exceptions import InputDataError
from cxlab.io.config import TableConfig

_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")
_DELIMITERS = ",;\t|"


def find_table(root: Path | None, name: str, table: TableConfig) -> Path | None:
    """The path of table ``name``: configured, or ``NAME.parquet``, ``NAME/``, ``NAME.csv``."""
    if table.path is not None:
        if not table.path.exists():
            raise InputDataError(
                f"{table.path}: file for table '{name}' does not exist. "
                "Fix 'tables.{name}.path' in the project file."
            )
        return table.path
    if root is None:
        return None
    found = [c for c in (root / name, *(root / f"{name}{s}" for s in _SUFFIXES)) if c.exists()]
    if len(found) > 1:
        raise InputDataError(
            f"{root}: table '{name}' is given twice ({', '.join(p.name for p in found)}); "
            "keep one of them, or name the one to use in data.tables."
            f"{name}.path of the project file."
        )
    return found[0] if found else None


def _check_unique_names(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    twice = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if twice:
        raise InputDataError(
            f"{path}: column name {', '.join(map(repr, twice[:5]))} occurs more than once in the header; "
            "rename the copies so that each column has its own name."
        )


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            raise InputDataError(
                f"{path}: cannot decode the file as {encoding!r} ({err}). "
                "Give the right 'csv: {encoding: ...}' for this table in the project file."
            ) from err
    for candidate in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _sniff_delimiter(path: Path, text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)  # type: ignore[arg-type]
        return best if counts[best] else ","


def _header(path: Path, text: str, table: TableConfig) -> tuple[str, list[str]]:
    """The delimiter (given, or sniffed) and the column names of a CSV's text."""
    delimiter = table.csv.delimiter or ("\t" if path.suffix == ".tsv" else _sniff_delimiter(path, text))
    return delimiter, [h.strip() for h in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]


def table_columns(path: Path, table: TableConfig) -> list[str]:
    """A table's column names from its Parquet schema or its CSV header, without reading its rows."""
    if path.is_dir() or path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path if path.is_file() else min(path.rglob("*.parquet"))).names)
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "rb") as fh:
            data = fh.read(1 << 16)
    else:
        with path.open("rb") as fh:
            data = fh.read(1 << 16)
    data = data[: data.rfind(b"\n") + 1] or data  # whole lines: no character cut in two
    return _header(path, _decode(path, data, table.csv.encoding)[0], table)[1]


def read_csv(path: Path, engine: Engine, table: TableConfig) -> nw.LazyFrame:
    """Read a CSV file as strings (types come later, so bad values are seen per row)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if path.is_dir():
        raise InputDataError(f"{path}: is a folder; a .csv table is one file (a folder holds Parquet parts).")
    data = path.read_bytes()
    if path.suffix == ".gz":
        import gzip
        import zlib

        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise InputDataError(f"{path}: cannot decompress as gzip ({err}).") from err
    if data.startswith(b"PAR1"):
        raise InputDataError(f"{path}: this is a Parquet file with a CSV name; rename it to .parquet.")
    if not data.strip():
        raise InputDataError(
            f"{path}: file is empty; a table needs at least a header row with its columns."
        )
    text, _ = _decode(path, data, table.csv.encoding)
    delimiter, names = _header(path, text, table)
    _check_unique_names(path, names)
    try:
        arrow = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True,
                null_values=["", "NA", "N/A", "null", "NULL", "None", "NaN", "nan"],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as err:
        raise InputDataError(
            f"{path}: cannot parse as CSV with delimiter {delimiter!r}: {err}. "
            "Give 'csv: {delimiter: ...}' for this table in the project file."
        ) from err
    return engine.from_arrow(arrow)


def _looks_like_text(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(512)
    return bool(head) and b"\0" not in head and not head.startswith(b"PAR1")


def read_table(path: Path, engine: Engine, table: TableConfig) -> nw.LazyFrame:
    """Read one table from a Parquet file, a folder of parts, or a CSV file."""
    name = path.name.lower()
    if path.is_dir() or name.endswith(".parquet"):
        if path.is_file() and path.stat().st_size == 0:
            raise InputDataError(f"{path}: file is empty; expected a Parquet file.")
        if path.is_dir() and not any(path.rglob("*.parquet")):
            raise InputDataError(
                f"{path}: folder holds no .parquet parts; a table folder holds the Parquet parts of one table."
            )
        try:
            import pyarrow.parquet as pq

            first = path if path.is_file() else min(path.rglob("*.parquet"))
            _check_unique_names(path, list(pq.read_schema(first).names))
            lf = engine.read_parquet(path)
            lf.collect_schema()
        except InputDataError:
            raise
        except Exception as err:  # engines raise their own error types here
            reason = " ".join(str(err).split())[:300]
            hint = " It looks like a CSV file: name it .csv." if _looks_like_text(path) else ""
            raise InputDataError(
                f"{path}: cannot read as Parquet ({type(err).__name__}: {reason}).{hint}"
            ) from err
        return lf
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        return read_csv(path, engine, table)
    raise InputDataError(
        f"{path}: unsupported file type; expected .parquet, a folder of Parquet parts, or .csv."
    )
