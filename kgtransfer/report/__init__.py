"""Batch reports: a self-contained HTML page, a tidy CSV, JSON and a Markdown summary.

Example:
    >>> import tempfile, pandas as pd
    >>> from kgtransfer.report import read_report, write_report
    >>> rows = pd.DataFrame({"target": ["t"], "model": ["a"], "predicted": [0.8]})
    >>> sorted(write_report(rows, tempfile.mkdtemp(), formats=("csv",)))
    ['csv', 'targets_csv']
"""

from kgtransfer.report._rows import CANDIDATE_COLUMNS, TARGET_FIELDS
from kgtransfer.report.batch import BatchReport, report_targets
from kgtransfer.report.writer import FORMATS, REPORT_FORMAT, read_report, write_report

__all__ = [
    "CANDIDATE_COLUMNS",
    "FORMATS",
    "REPORT_FORMAT",
    "TARGET_FIELDS",
    "BatchReport",
    "read_report",
    "report_targets",
    "write_report",
]
