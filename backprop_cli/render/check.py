"""`backprop check` as text: one answer's claims, a batch summary, the JSON report, JUnit XML."""

from __future__ import annotations

import json
import re
from typing import TextIO

from ..check import CODES, Graded, Report, Verdict, line_label
from ..i18n import _
from ..numeric import fmt
from .console import print_titled, table_box


def describe_codes() -> dict[str, str]:
    """One line per diagnosis code, for the summary table (and docs/check.md)."""
    return {
        "sign": _("the claim is the negative of the answer (a minus sign dropped)"),
        "local-only": _("a gate's local gradient alone: the upstream gradient was not multiplied in"),
        "missed-accumulation": _("a value feeds several paths and not all of them were added up"),
        "missing-local": _("a gate's local gradient left out (taken as 1): the chain stopped at that gate"),
        "mul-not-swapped": _("a mul gate passed each input its own value instead of the other one"),
        "output-as-local-grad": _("a gate's output used as its local gradient (s instead of s*(1-s))"),
        "max-routing": _("a max/min (or relu) gate sent the gradient to the wrong input or split it"),
        "rounding": _("right to the digits written, not to the tolerance"),
        "precedence": _("the same symbols grouped with other parentheses"),
        "unknown": _("no common mistake explains the claim"),
    }


def _verdict_text(verdict: Verdict) -> str:
    if verdict.ok:
        return f"[green]{_('ok')}[/]"
    return f"[bold red]{_('wrong')}[/]"


def render_answer(graded: Graded, console, *, digits: int = 6) -> None:
    """One answer: a row per claim with the verdict, and for a wrong one the diagnosis."""
    from rich.table import Table

    if graded.error:
        console.print(f"[bold red]{_('error')}:[/] {_escape(graded.error)}")
        return
    console.print(f"[bold]{_('Parsed')}:[/] {_escape(graded.parsed)}")
    table = Table(box=table_box(console))
    for column in (_("claim"), _("claimed"), _("expected"), _("verdict"), _("diagnosis")):
        table.add_column(column, justify="right" if column in (_("claimed"), _("expected")) else "left")
    for verdict in graded.verdicts:
        table.add_row(
            _escape(verdict.what),
            _escape(verdict.claim.text),
            fmt(verdict.expected, digits),
            _verdict_text(verdict),
            _diagnosis_cell(verdict),
        )
    print_titled(console, _("Claims"), table)
    right = sum(1 for verdict in graded.verdicts if verdict.ok)
    console.print(_("claims right: {right} of {total}").format(right=right, total=len(graded.verdicts)))
    _check_line(graded, console)


def _diagnosis_cell(verdict: Verdict) -> str:
    """``code at node: message`` and, dimmed, the row of `backprop grad` to look at."""
    found = verdict.diagnosis
    if found is None:
        return ""
    return (
        f"[bold]{found.code}[/] {_('at')} {_escape(found.node)}: {_escape(found.message)}\n"
        f"[dim]{_('see')} {_escape(found.step)}[/]"
    )


def _check_line(graded: Graded, console) -> None:
    if graded.check is not None:
        status = _("agrees") if graded.check.ok else _("DISAGREES")
        note = f" ({graded.check.note})" if graded.check.note else ""
        line = _("check: {method}{note}: {status}").format(method=graded.check.method, note=note, status=status)
        console.print(_escape(line))


def render_report(report: Report, console, *, digits: int = 6) -> None:
    """A batch: a row per entry, every wrong claim with its diagnosis, and counts per diagnosis."""
    from rich.table import Table

    box = table_box(console)
    entries = Table(box=box)
    for column in (_("id"), _("status"), _("claims right"), _("diagnoses or error")):
        entries.add_column(column)
    for entry in report.entries:
        if entry.error:
            status, detail = f"[bold yellow]{_('error')}[/]", _escape(_located(entry))
        elif entry.unanswered and all(verdict.ok for verdict in entry.verdicts):
            status = f"[bold yellow]{_('incomplete')}[/]"
            detail = ""
        else:
            status = f"[green]{_('correct')}[/]" if entry.ok else f"[bold red]{_('wrong')}[/]"
            detail = ", ".join(v.diagnosis.code for v in entry.verdicts if v.diagnosis)
        right = sum(1 for verdict in entry.verdicts if verdict.ok)
        shown = "" if entry.error else f"{right}/{len(entry.verdicts)}"
        if entry.unanswered:
            shown += " " + _("({count} unanswered)").format(count=entry.unanswered)
        entries.add_row(_escape(entry.id), status, shown, detail)
    print_titled(console, _("Entries"), entries)

    wrong = [(entry, verdict) for entry in report.entries for verdict in entry.verdicts if not verdict.ok]
    if wrong:
        table = Table(box=box)
        for column in (_("id"), _("claim"), _("claimed"), _("expected"), _("diagnosis")):
            table.add_column(column, justify="right" if column in (_("claimed"), _("expected")) else "left")
        for entry, verdict in wrong:
            table.add_row(
                _escape(entry.id),
                _escape(verdict.what),
                _escape(verdict.claim.text),
                fmt(verdict.expected, digits),
                _diagnosis_cell(verdict),
            )
        print_titled(console, _("Wrong claims"), table)

    summary = report.summary()
    counts = Table(box=box)
    counts.add_column(_("code"))
    counts.add_column(_("claims"), justify="right")
    counts.add_column(_("meaning"))
    meanings = describe_codes()
    for code in CODES:
        if summary["diagnoses"][code]:
            counts.add_row(code, str(summary["diagnoses"][code]), meanings[code])
    if counts.row_count:
        print_titled(console, _("Diagnoses"), counts)
    line = _(
        "entries: {entries} ({correct} correct, {wrong} wrong, {errors} not graded); "
        "claims right: {claims_correct} of {claims}"
    ).format(**summary)
    if summary.get("claims_unanswered"):
        line += _("; {count} claims unanswered ('?'), entries with one count as wrong").format(
            count=summary["claims_unanswered"]
        )
    console.print(line)


def _located(entry: Graded) -> str:
    if entry.line:
        return _("{line}: {error}").format(line=line_label(entry.line), error=entry.error)
    return entry.error or ""


def write_report_json(report: Report, stream: TextIO) -> None:
    """The `--json` report, one entry per line so that large batches stream."""
    stream.write('{"entries": [')
    for index, entry in enumerate(report.entries):
        stream.write(",\n " if index else "\n ")
        stream.write(json.dumps(entry.to_dict(), allow_nan=False, ensure_ascii=False))
    stream.write('],\n "summary": ')
    stream.write(json.dumps(report.summary(), ensure_ascii=False))
    stream.write("}\n")


def junit_xml(report: Report) -> str:
    """A JUnit XML report: one test case per claim (a failure for a wrong one), one error per bad entry."""
    import xml.etree.ElementTree as ET

    summary = report.summary()
    incomplete = sum(1 for entry in report.entries if entry.unanswered)
    tests = summary["claims"] + summary["errors"] + incomplete
    failures = summary["claims_wrong"] + incomplete
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(summary["errors"])}
    suites = ET.Element("testsuites", name="backprop check", **counts)
    suite = ET.SubElement(suites, "testsuite", name="backprop check", skipped="0", **counts)
    for entry in report.entries:
        if entry.error:
            case = ET.SubElement(suite, "testcase", classname=entry.id, name=_("entry"))
            ET.SubElement(case, "error", message=_located(entry), type="input").text = _located(entry)
            continue
        if entry.unanswered:
            case = ET.SubElement(suite, "testcase", classname=entry.id, name=_("unanswered"))
            message = _("{count} claims left as '?'").format(count=entry.unanswered)
            ET.SubElement(case, "failure", message=message, type="unanswered")
        for verdict in entry.verdicts:
            claim = verdict.claim
            case = ET.SubElement(suite, "testcase", classname=entry.id, name=f"{claim.kind} {verdict.name}")
            if verdict.ok:
                continue
            found = verdict.diagnosis
            message = _("{what}: claimed {claimed}, expected {expected}").format(
                what=verdict.what, claimed=claim.text, expected=fmt(verdict.expected)
            )
            failure = ET.SubElement(case, "failure", message=message, type=found.code if found else "wrong")
            if found:
                failure.text = f"{found.code} ({found.node}): {found.message}\n{found.step}"
    for element in suites.iter():  # characters XML 1.0 cannot hold (from a user's text) become '?'
        element.attrib.update({key: _xml_text(value) for key, value in element.attrib.items()})
        if element.text:
            element.text = _xml_text(element.text)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


#: characters XML 1.0 cannot hold
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("?", text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
