"""Write an ``AuditReport`` as markdown, HTML and JSON, with one bar chart per metric and column."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..errors import MienError, StorageError
from .core import AuditReport, MetricAudit

LABELS = {"accuracy": "accuracy", "coverage": "coverage (answered)", "mae": "MAE (years)", "fmr": "FMR", "fnmr": "FNMR",
          "interval": "inside the predicted range"}
SHARES = ("accuracy", "coverage", "interval")  # higher is better; shown with two decimals, ratios of 1 - value


def _fmt(metric: str, v: float) -> str:
    if metric == "mae":
        return f"{v:.2f}"
    return f"{100 * v:.2f}%" if metric in SHARES else f"{100 * v:.3f}%"


def chart(audit: MetricAudit, path: Path) -> Path:
    """Bar chart of one metric per group with 95% intervals and the overall value as a line."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MienError("audit charts need matplotlib: pip install 'mien[audit]'") from exc
    groups = list(audit.groups)
    names = [f"{g.group}\n(n={g.n})" for g in groups]
    values = [g.value for g in groups]
    err = [[max(0.0, g.value - g.low) for g in groups], [max(0.0, g.high - g.value) for g in groups]]
    scale = 1.0 if audit.metric == "mae" else 100.0
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(groups) + 1.5), 3.4), dpi=110)
    colours = ["#c0392b" if g is audit.worst else ("#27ae60" if g is audit.best else "#5d6d7e") for g in groups]
    ax.bar(names, [v * scale for v in values], yerr=[[e * scale for e in err[0]], [e * scale for e in err[1]]],
           color=colours, capsize=4)
    ax.axhline(audit.overall.value * scale, color="black", linestyle="--", linewidth=1,
               label=f"all: {_fmt(audit.metric, audit.overall.value)}")
    ax.set_ylabel(LABELS[audit.metric] + ("" if audit.metric == "mae" else " (%)"))
    ax.set_title(f"{LABELS[audit.metric]} by {audit.column} (worst/best {_ratio_text(audit)})", fontsize=10)
    if audit.metric in SHARES:
        low = min(g.low for g in groups) * 100
        ax.set_ylim(max(0.0, low - 5), 100)
    ax.legend(fontsize=8, loc="lower right" if audit.metric in SHARES else "upper right")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _ratio_text(audit: MetricAudit) -> str:
    """'1.52x (1.31-1.77)': the ratio and its bootstrap 95% interval where there is one."""
    if audit.ratio_ci is None:
        return f"{audit.ratio:.2f}x"
    return f"{audit.ratio:.2f}x ({audit.ratio_ci[0]:.2f}-{audit.ratio_ci[1]:.2f})"


def _standardised(audit: MetricAudit) -> bool:
    return "raw" in audit.overall.extra


def _header(audit: MetricAudit) -> list[str]:
    label = LABELS[audit.metric]
    if _standardised(audit):
        return ["group", "n", f"{label}, standardised", "95% interval", f"{label}, raw"]
    return ["group", "n", label, "95% interval"]


def _rows(audit: MetricAudit) -> list[list[str]]:
    rows = []
    for g in (*audit.groups, audit.overall):
        mark = " (worst)" if g is audit.worst else (" (best)" if g is audit.best else "")
        row = [f"{g.group}{mark}", str(g.n), _fmt(audit.metric, g.value),
               f"{_fmt(audit.metric, g.low)} - {_fmt(audit.metric, g.high)}"]
        if _standardised(audit):
            row.append(_fmt(audit.metric, g.extra["raw"]))
        rows.append(row)
    return rows


def _method(report: AuditReport) -> str:
    text = ("Intervals are 95%: Wilson for rates, percentile bootstrap (1000 rounds, fixed seed) for MAE. "
            "For accuracy the ratio compares error rates (1 - accuracy); its interval is a bootstrap over the "
            "worst and the best group's rows.")
    if report.meta.get("interval"):
        text += (f" 'Inside the predicted range' is the share of rows whose label lies in {report.meta['interval']}; "
                 "its ratio compares the shares outside.")
    if report.meta.get("withheld"):
        text += (f" The model withheld {report.meta['withheld']} of {report.meta['rows']} predictions as unsure: "
                 "accuracy is over the answered rows, coverage is the share answered, and its ratio compares "
                 "the shares withheld.")
    column = report.meta.get("standardized_by")
    if column:
        text += (f" Values by every column but {column} are standardised to the whole set's mix of {column} "
                 f"(direct standardisation: the group's value within each {column}, averaged with the shares "
                 f"of all rows; their intervals bootstrap within each cell); the raw value is beside them, and "
                 f"the worst / best ratio compares standardised values.")
    return text


def to_markdown(report: AuditReport, charts: dict[int, str] | None = None, intro: str = "") -> str:
    lines = [f"# {report.title}", ""]
    if intro:
        lines += [intro.strip(), ""]
    meta = ", ".join(f"{k}: {v}" for k, v in report.meta.items())
    lines += [f"_{meta}_", "", "| metric | by | worst | best | worst / best (95% interval) |", "|---|---|---|---|---|"]
    for a in report.audits:
        lines.append(f"| {LABELS[a.metric]} | {a.column} | {a.worst.group} ({_fmt(a.metric, a.worst.value)}) | "
                     f"{a.best.group} ({_fmt(a.metric, a.best.value)}) | {_ratio_text(a)} |")
    lines.append("")
    lines.append(_method(report))
    for i, a in enumerate(report.audits):
        lines += ["", f"## {LABELS[a.metric]} by {a.column}", ""]
        if charts and i in charts:
            lines += [f"![{LABELS[a.metric]} by {a.column}]({charts[i]})", ""]
        head = _header(a)
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in _rows(a)]
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def to_html(report: AuditReport, charts: dict[int, str] | None = None, intro: str = "") -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(report.title)}</title>",
             "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>",
             f"</head><body><h1>{esc(report.title)}</h1>"]
    if intro:
        parts.append(f"<p>{esc(intro)}</p>")
    parts.append("<table><tr><th>metric</th><th>by</th><th>worst</th><th>best</th><th>worst / best (95% interval)</th></tr>")
    for a in report.audits:
        parts.append(f"<tr><td>{LABELS[a.metric]}</td><td>{esc(a.column)}</td><td>{esc(a.worst.group)} "
                     f"({_fmt(a.metric, a.worst.value)})</td><td>{esc(a.best.group)} ({_fmt(a.metric, a.best.value)})"
                     f"</td><td>{_ratio_text(a)}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p>{esc(_method(report))}</p>")
    for i, a in enumerate(report.audits):
        parts.append(f"<h2>{LABELS[a.metric]} by {esc(a.column)}</h2>")
        if charts and i in charts:
            parts.append(f"<img src='{esc(charts[i])}' alt='{LABELS[a.metric]} by {esc(a.column)}'>")
        parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in _header(a)) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in _rows(a)]
        parts.append("</table>")
    if report.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in report.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(report: AuditReport, out_dir: str | Path, intro: str = "", name: str = "report",
                 charts: bool = True) -> dict[str, Any]:
    """Write ``<name>.md``, ``<name>.html``, ``<name>.json`` and ``charts/*.png`` under ``out_dir``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        chart_paths: dict[int, str] = {}
        if charts:
            for i, a in enumerate(report.audits):
                rel = f"charts/{name}_{a.metric}_{a.column}.png"
                chart(a, out / rel)
                chart_paths[i] = rel
        # atomic: a report read while an audit is killed is the old one or the new one, never half
        write_atomic(out / f"{name}.md", to_markdown(report, chart_paths, intro).encode())
        write_atomic(out / f"{name}.html", to_html(report, chart_paths, intro).encode())
        write_atomic(out / f"{name}.json", json.dumps(report.to_dict(), indent=2).encode())
    except OSError as exc:
        raise StorageError(f"cannot write the audit report to {out}: {exc}") from exc
    return {"markdown": out / f"{name}.md", "html": out / f"{name}.html", "json": out / f"{name}.json",
            "charts": [out / p for p in chart_paths.values()]}
