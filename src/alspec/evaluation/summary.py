"""One line per iteration: the numbers an astronomer watches, as `alspec evaluate`,
`alspec report` and the workflow's log print them."""

from __future__ import annotations


def summary_line(report: dict) -> str:
    """One line per iteration: the numbers an astronomer watches."""
    if report.get("mode") == "anomaly":
        return anomaly_summary_line(report)
    catalogue = report["catalogue"]
    line = f"iteration {report['iteration']}: {report['training_set_size']} labels; "
    line += (
        f"catalogue of {catalogue['size']} ({catalogue['answered']} answered,"
        f" {catalogue['predicted']} predicted): {estimate_text(catalogue, 'precision')},"
        f" {estimate_text(catalogue, 'completeness')}"
        f" from an estimate sample of {catalogue['sample']['size']}"
    )
    if "validation_f1" in report:
        line += f"; {validation_f1_text(report)}"
    if report.get("scarce"):
        few = ", ".join(f"{c} {n}" for c, n in report["scarce"].items())
        line += f"; too few labels to trust yet: {few}"
    if report.get("batch"):
        asked = ", ".join(
            f"{reason} {b['of_interest']}/{b['asked']}" for reason, b in report["batch"].items()
        )
        line += f"; batch (of interest/asked): {asked}"
    for key, against in (("held_out", "the held-out set"), ("truth", "the truth")):
        if report.get(key):
            scores = report[key]
            f1 = ", ".join(f"{c} {scores['per_class'][c]['f1']:.2f}" for c in scores["interest"])
            line += f"; F1 on {against}: {f1}"
    return line


def estimate_text(catalogue: dict, name: str) -> str:
    """ "precision 0.97 [0.93, 1.00]", or why it is not measurable yet."""
    estimate = catalogue[name]
    if estimate["estimate"] is None:
        return f"{name} not measurable yet ({estimate['why']})"
    low, high = estimate["interval"]
    return f"{name} {estimate['estimate']:.2f} [{low:.2f}, {high:.2f}]"


def anomaly_summary_line(report: dict) -> str:
    """An anomaly-mode iteration: the batch's relevance, each class's RWS before/after."""
    mean = report["batch_relevance"]["mean"]
    line = f"iteration {report['iteration']}: {report['training_set_size']} relevance answers"
    line += f", batch relevance {'n/a' if mean is None else f'{mean:.1f}'}"
    if "after" in report:
        rws = ", ".join(
            f"{c} {report['before'][c]['rws']:.2f} -> {s['rws']:.2f}"
            for c, s in report["after"].items()
            if s["rws"] is not None
        )
        line += f"; RWS(N = class size) before -> after relevance learning: {rws}"
    return line


def validation_f1_text(report: dict) -> str:
    """ "validation F1 0.93", or why it is not measurable yet."""
    if report.get("not_measurable"):
        return (
            f"validation F1 not measurable yet (no {', '.join(report['not_measurable'])}"
            " in the validation split)"
        )
    f1 = report.get("validation_f1")
    return "no validation F1 (no validation split)" if f1 is None else f"validation F1 {f1:.2f}"
