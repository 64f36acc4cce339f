"""The coworking inventory: read any common table format, map its headers, validate every row.

This package owns the inventory's schema and its quality report. It reads CSV (comma, semicolon,
tab or pipe; UTF-8, UTF-8 with BOM, UTF-16, Latin-1/cp1252; decimal comma), XLSX, GeoJSON (or a
plain JSON list of records or rows) and GeoPackage/Shapefile/FlatGeobuf, maps English, Spanish and
Catalan headers onto the canonical columns, and collects *every* problem with its file, row and
column instead of stopping at the first one. Nothing here geocodes or writes files.

Modules
-------
``model`` (:class:`Problem`, :class:`Inventory`, :func:`format_problems`), ``limits``
(:class:`ReadLimits`: bounds on size and shape, checked before parsing), ``readers`` (format
sniffing, decoding, CSV/XLSX/JSON/GeoJSON/vector readers), ``headers`` (header row, synonyms,
mapping), ``values`` (cleaning; coordinate, postcode and innovation-type parsing), ``cells``
(row shapes and oversized cells), ``checks`` and ``coordinates`` (the named validation checks)
and ``api`` (:func:`check_inventory`, :func:`read_inventory`).

Canonical columns
-----------------
``id`` (required, unique), ``name`` (required), ``address``, ``postcode``, ``lat``, ``lon``,
``innovation_type`` (1, 2, 3 or blank). Any other column is carried through (its values only
trimmed), under its header as written.

How a file is read
------------------
* **Format** is decided from the file's first bytes, not only from its name: an XLSX workbook
  renamed ``.csv`` is read as XLSX (with a ``wrong_extension`` warning); images, archives, PDF,
  HTML pages and old ``.xls`` workbooks are refused with a ``not_a_table`` error that says what
  the file is.
* **Text encoding**: BOMs are honoured (UTF-8, UTF-16, UTF-32); UTF-16 without a BOM is
  recognised from its NUL bytes; otherwise UTF-8 is tried, then cp1252/Latin-1 (``encoding``
  warning). A mostly-UTF-8 file with a few bad bytes is read as UTF-8, the bad bytes become
  ``�`` and every affected cell gets a ``bad_bytes`` warning.
* **Delimiter** (``,`` ``;`` tab ``|``) is the one that splits the first records into the most
  recognised headers, then the most consistent field counts.
* **Header row**: leading empty rows are skipped silently, and a few title lines above a
  recognisable header (one naming ``id`` and ``name``, or three canonical columns) are skipped
  with a ``rows_above_header`` warning. Trailing empty rows are dropped silently; empty rows in
  between get an ``empty_row`` warning.
* **Numbers in XLSX** keep their meaning as text: ``12`` (or ``12.0``) becomes ``"12"``, a postcode
  ``8001`` becomes ``"08001"``, coordinates keep full float precision. Formula cells are read as
  their formula text (``=HYPERLINK(...)``), never evaluated.

Rows are numbered as a spreadsheet shows them: the header is row 1 (or the row it is really
on), the first data row follows it, and a CSV record with a quoted newline counts as one row.
In GeoJSON/GeoPackage input, row N is the (N-1)-th feature.

Validation
----------
Errors exclude the row from :attr:`Inventory.data` (and make :func:`read_inventory` raise);
warnings keep it. The first 1,000 problems of each code are kept, the rest only counted
(:attr:`Inventory.omitted`), so that memory stays bounded on a file with a problem on every row.
Every problem names the file; row-level problems also name the row, and
cell-level ones the column as written in the header (``"geometry"`` for vector geometries).
Once a row is structurally broken (``extra_fields``, ``mixed_delimiter``, ``unbalanced_quote``)
its shifted cells are not checked further, so one mistake gives one message. Codes are stable:

===================== ======== ==========================================================
code                  severity meaning
===================== ======== ==========================================================
*file level (no row)*
not_found, not_a_file error    the path does not exist / is a folder
empty_file            error    0 bytes, only whitespace, or an empty worksheet
not_a_table           error    binary data (says what: image, ZIP, PDF, .xls, HTML page...)
bad_json, bad_crs     error    invalid JSON (with line and column) / unusable CRS
missing_sheet         error    the worksheet or layer asked for does not exist
no_rows               error    a header but no data rows
encoding              warning  not UTF-8 (cp1252/Latin-1, UTF-16 without BOM, bad bytes)
nul_bytes             warning  a few NUL characters removed
wrong_extension       warning  the content is read by what it is, not by its name
sheet_name            warning  worksheet found with a different case
*header row*
missing_column        error    ``id`` or ``name`` missing, or lat without lon
duplicate_column      error    two headers map to the same canonical column
bad_mapping           error    the explicit mapping names a wrong column (no row; a warning
                               for an unknown ``ignore_columns`` entry)
rows_above_header     warning  title lines above the header were skipped
duplicate_header,     warning  a repeated / blank header over values (carried through as
blank_header                   ``name_2`` / ``column_N``)
shadowed_column       warning  a synonym column displaced by the explicit mapping
unmapped_column       warning  a generic "Type" column whose values are not innovation types
*rows*
extra_fields          error    more fields than the header (a delimiter in an unquoted value)
mixed_delimiter       error    a row separated by another delimiter than the file
unbalanced_quote      error    an unclosed quote swallowed the following lines
bad_feature           error    a GeoJSON feature that is not an object
short_row             warning  fewer fields than the header (the rest read as blank)
empty_row             warning  an empty row between data rows
*cells*
missing_id,           error    blank id / id already used (the message names both rows)
duplicate_id
bad_coordinate        error    not a number, NaN, infinite, DMS, or a formula
half_coordinate       error    lat without lon or the reverse
coordinate_range      error    latitude outside -90..90 or longitude outside -180..180
null_island           error    the 0, 0 placeholder
bad_geometry          error    an invalid GeoJSON/vector geometry
unknown_type          error    an innovation type that is not 1/2/3 or a known word
huge_field            error    a value longer than 100,000 characters
too_large             error    the file goes over one of the :class:`ReadLimits` (size,
                               unpacked size or ratio of an XLSX, rows, columns, line length,
                               JSON depth, vertices, features); not read further
swapped_coordinates   warning  lat and lon exchanged: swapped back
outside_city          warning  a valid point outside ``settings.city_bbox`` (or outside the
                               ``boundary`` given): in the sea, another city; kept, flagged
not_a_point,          warning  a line/polygon (representative point used) / columns and
geometry_mismatch              geometry disagree by more than 100 m (columns used)
missing_name          warning  blank name: the id is shown instead
bad_postcode          warning  not a 5-digit postcode (ignored)
formula               warning  starts like a spreadsheet formula (``=``, or ``+ - @`` not
                               followed by a number/phone): kept as text, never evaluated;
                               :func:`cwsgeo._io.neutralise_formulas` defuses exports
markup, unsafe_url    warning  HTML tags / ``javascript:`` URLs, kept verbatim as text
mojibake, bad_bytes   warning  "CafÃ©"-style double decoding / invalid bytes shown as ``�``
possible_duplicate    warning  same name and address as an earlier row
*summary*
no_location           warning  one line for all rows with no address and no coordinates
===================== ======== ==========================================================

Examples
--------
>>> import cwsgeo
>>> inv = cwsgeo.check_inventory("coworking_spaces.csv")  # doctest: +SKIP
>>> print(inv.report())  # doctest: +SKIP
>>> inv.data[["id", "name", "innovation_type"]].head(2)  # doctest: +SKIP
"""

from .api import check_inventory, read_inventory
from .headers import HEADER_SYNONYMS
from .limits import ReadLimits
from .model import CANONICAL_COLUMNS, Inventory, Problem, format_problems
from .values import innovation_label, parse_innovation_type

__all__ = [
    "CANONICAL_COLUMNS",
    "HEADER_SYNONYMS",
    "Inventory",
    "Problem",
    "ReadLimits",
    "check_inventory",
    "format_problems",
    "innovation_label",
    "parse_innovation_type",
    "read_inventory",
]
