"""Fairness audits: per-group accuracy/MAE or FMR/FNMR, worst/best ratio, 95% intervals, reports.

mien does not predict race or ethnicity; group columns come from the labelled set.
"""

from .core import (AuditReport, GroupResult, MetricAudit, add_bands, audit_attribute, audit_verification,
                   band_label, read_csv)
from .report import to_html, to_markdown, write_report
from .stats import bootstrap, wilson

__all__ = ["AuditReport", "GroupResult", "MetricAudit", "add_bands", "audit_attribute", "audit_verification",
           "band_label", "bootstrap", "read_csv", "to_html", "to_markdown", "wilson", "write_report"]
