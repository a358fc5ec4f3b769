"""REPORT.md (model card) and PNG plots for a trained artifact."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_curve

PLOTS = ("roc.png", "ks.png", "calibration.png", "score_distribution.png", "decision_surface.png", "fairness.png")


def _f(v: Any, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


def _plots(
    model: dict[str, Any], out_dir: Path, y: np.ndarray, oof_pd: np.ndarray, oof_score: np.ndarray, curves: dict
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8})
    kw: dict[str, Any] = {"dpi": 90, "bbox_inches": "tight", "pil_kwargs": {"optimize": True}}
    written = []

    fig, ax = plt.subplots(figsize=(4.5, 4))
    for label, p in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        from sklearn.metrics import roc_auc_score

        ax.plot(fpr, tpr, lw=1.2 if "candidate" in label else 0.8, label=f"{label}: AUC {roc_auc_score(y, p):.3f}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5, ls="--")
    ax.set(xlabel="false positive rate (goods declined)", ylabel="true positive rate (bads caught)",
           title="ROC, out-of-fold")  # fmt: skip
    ax.legend(loc="lower right", fontsize=6)
    fig.savefig(out_dir / "roc.png", **kw)
    plt.close(fig)
    written.append("roc.png")

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    s = np.sort(np.unique(oof_score))
    cg = np.searchsorted(np.sort(oof_score[y == 0]), s, side="right") / max(1, (y == 0).sum())
    cb = np.searchsorted(np.sort(oof_score[y == 1]), s, side="right") / max(1, (y == 1).sum())
    i = int(np.argmax(cb - cg))
    ax.plot(s, cb, label="bad", color="tab:red", lw=1)
    ax.plot(s, cg, label="good", color="tab:green", lw=1)
    ax.vlines(s[i], cg[i], cb[i], color="black", lw=1, label=f"KS {cb[i] - cg[i]:.3f} at score {s[i]:.0f}")
    ax.set(xlabel="score (out-of-fold)", ylabel="cumulative share", title="KS")
    ax.legend(fontsize=7)
    fig.savefig(out_dir / "ks.png", **kw)
    plt.close(fig)
    written.append("ks.png")

    fig, ax = plt.subplots(figsize=(4, 4))
    q = np.quantile(oof_pd, np.linspace(0, 1, 11))
    b = np.clip(np.searchsorted(q[1:-1], oof_pd, side="right"), 0, 9)
    mp = [oof_pd[b == k].mean() for k in range(10) if (b == k).any()]
    br = [y[b == k].mean() for k in range(10) if (b == k).any()]
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5, ls="--")
    ax.plot(mp, br, marker="o", ms=3, lw=1)
    ax.set(xlabel="mean predicted PD (decile)", ylabel="observed bad rate", title="Calibration, out-of-fold")
    fig.savefig(out_dir / "calibration.png", **kw)
    plt.close(fig)
    written.append("calibration.png")

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    bins = np.linspace(np.floor(oof_score.min() / 10) * 10, np.ceil(oof_score.max() / 10) * 10, 40).tolist()
    ax.hist(oof_score[y == 0], bins=bins, alpha=0.6, color="tab:green", label="good", density=True)
    ax.hist(oof_score[y == 1], bins=bins, alpha=0.6, color="tab:red", label="bad", density=True)
    ax.set(xlabel="score (out-of-fold)", ylabel="density", title="Score distribution by outcome")
    ax.legend(fontsize=7)
    fig.savefig(out_dir / "score_distribution.png", **kw)
    plt.close(fig)
    written.append("score_distribution.png")

    ds = model.get("decision_surface")
    if ds and ds["archetypes"]:
        names = list(ds["archetypes"])
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), sharey=True, squeeze=False)
        amounts = np.asarray(ds["amounts_minor"]) / 100
        for ax, name in zip(axes[0], names, strict=True):
            grid = ds["archetypes"][name]["grid"]
            for j, term in enumerate(ds["terms"]):
                ax.plot(amounts, [row[j]["pd"] for row in grid], marker="o", ms=2.5, lw=1, label=f"{term:g} months")
            pol = model["policy"]
            ax.axhline(pol["cutoff_pd"], color="tab:green", lw=0.6, ls="--")
            ax.axhline(pol["refer_pd"], color="tab:red", lw=0.6, ls="--")
            ax.set(xscale="log", xlabel="order amount (currency units)", title=name.replace("_", " "))
        axes[0][0].set_ylabel("PD (dashed: approve / refer cut-offs)")
        axes[0][0].legend(fontsize=6)
        fig.savefig(out_dir / "decision_surface.png", **kw)
        plt.close(fig)
        written.append("decision_surface.png")

    mit = model.get("mitigation")
    if mit:
        cands = model["selection"]["candidates"]
        fig, ax = plt.subplots(figsize=(4.8, 3.6))
        for fam in sorted({c["family"] for c in cands.values()}):
            pts = [(c["auc_mean"], c["lowest_air"]) for c in cands.values() if c["family"] == fam]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, label=fam)
        champ = cands[model["candidate"]]
        ax.scatter([champ["auc_mean"]], [champ["lowest_air"]], s=80, facecolors="none", edgecolors="black",
                   label="champion")  # fmt: skip
        ax.axhline(mit["target_air"], color="grey", lw=0.6, ls="--")
        ax.set(xlabel="mean fold AUC (selection CV)", ylabel=f"lowest AIR, {mit['attribute']}",
               title="Candidates: accuracy vs fairness")  # fmt: skip
        ax.legend(fontsize=6)
        fig.savefig(out_dir / "fairness.png", **kw)
        plt.close(fig)
        written.append("fairness.png")
    return written


def markdown(m: dict[str, Any], plots: list[str]) -> str:
    mt, sel, sc = m["metrics"], m["selection"], m["scaling"]
    derived = [f for f in m["model_features"] if f.get("expr")]
    L = [
        f"# Model card: {m['model_version']}",
        "",
        f"Champion: **{m['family']}**, {m['family_description']}. Package {m['package_version']}, "
        f"created {m['created_at']}.",
        "",
        "## Data and spec",
        "",
        f"- rows: {mt['n']}, bad rate {mt['bad_rate']:.3f}; target `{m['target']['column']}` = "
        f"`{m['target']['bad_value']}` is bad; PD = P(bad)",
        f"- data sha256 `{m['data_sha256'][:16]}...`, spec sha256 `{m['spec_sha256'][:16]}...`",
        f"- inputs: {', '.join(f['name'] + ' (' + f['type'] + ')' for f in m['input_features'])}",
        "- derived: " + (", ".join(f"{f['name']} = {f['expr']}" for f in derived) or "none"),
        f"- monotone: {', '.join(f['name'] + ' ' + f['monotone'] for f in m['model_features'] if f['monotone'])}"
        " (direction of the score as the value grows)",
        f"- excluded, never an input nor a reason: {', '.join(m['excluded']) or 'none'}",
        f"- money inputs in model units; one unit = {m['money_unit_minor']} minor units of the platform currency",
        f"- features with no effect in the champion: "
        f"{', '.join(f['name'] for f in m['model_features'] if not f['in_model']) or 'none'}",
        "",
        "## Metrics",
        "",
        f"Selection CV ({sel['procedure']}).",
        "",
        "| model | CV AUC | +/- | Gini | KS (OOF) | Brier (OOF) | lowest AIR |",
        "|---|---|---|---|---|---|---|",
    ]
    champ_name = m.get("candidate", m["family"])
    for fam, c in sel["candidates"].items():
        tag = " (**champion**)" if fam == champ_name else " (highest AUC)" if fam == sel.get("best_auc") else ""
        L.append(
            f"| {fam}{tag} | {c['auc_mean']:.4f} | {c['auc_std']:.4f} | {2 * c['auc_mean'] - 1:.3f} | "
            f"{c['ks']:.3f} | {c['brier']:.4f} | {_f(c.get('lowest_air'))} |"
        )
    for b, c in sel["baselines"].items():
        L.append(
            f"| {b} (baseline) | {c['auc_mean']:.4f} | {c['auc_std']:.4f} | {2 * c['auc_mean'] - 1:.3f} | "
            f"{c['ks']:.3f} | {c['brier']:.4f} | |"
        )
    if sel.get("always_candidate"):
        base = sel["candidates"].get(sel["always_candidate"])
        if base:
            L += [
                "",
                f"`{sel['always_candidate']}` (plain logistic regression on the model features: one-hot "
                "categoricals, median-imputed standardised numerics bounded far outside the training range, "
                "monotone signs) is always a candidate and the champion is never below it: champion "
                f"{sel['candidates'][champ_name]['auc_mean']:.4f} vs {base['auc_mean']:.4f}.",
            ]
    if sel["baselines"]:
        L += ["", "Baselines: " + "; ".join(f"`{k}` {v}" for k, v in sel["baseline_descriptions"].items()) + "."]
    ev = m.get("evaluation")
    if ev:
        L += [
            "",
            f"Nested evaluation (`evaluate --cv {ev['cv']}`: {ev['cv_description']}), means over {ev['folds']} "
            "outer test folds:",
            "",
            "| model | AUC | +/- | Gini | KS | Brier |",
            "|---|---|---|---|---|---|",
            f"| procedure (champion per fold: {ev['champion_by_fold']}) | {ev['auc']:.4f} | {ev['auc_std']:.4f} | "
            f"{ev['gini']:.3f} | {ev['ks']:.3f} | {ev['brier']:.4f} |",
        ]
        for name, c in [*ev["candidates"].items(), *ev["baselines"].items()]:
            L.append(
                f"| {name} | {c['auc']:.4f} | {c['auc_std']:.4f} | {c['gini']:.3f} | {c['ks']:.3f} | {c['brier']:.4f} |"
            )
        if ev.get("fairness"):
            fe = ev["fairness"]
            L += [
                "",
                f"Fairness in the nested evaluation ({fe['note']}): lowest AIR on {fe['attribute']} "
                f"{fe['lowest_air_before']:.3f} before mitigation, {fe['lowest_air_after']:.3f} after.",
            ]
    L += [
        "",
        f"In-sample AUC of the final model: {mt['train_auc']:.4f} (optimistic; the CV figures are the honest ones).",
        "",
        "## Calibration",
        "",
        f"Platt scaling on out-of-fold margins: `{m['calibration']['formula']}`, slope "
        f"{m['calibration']['slope']:.4f}, intercept {m['calibration']['intercept']:.4f}.",
        "",
        "| PD decile | n | mean PD | bad rate |",
        "|---|---|---|---|",
    ]
    for r in mt["calibration_oof"]:
        L.append(f"| {r['decile']} | {r['n']} | {r['mean_pd']:.3f} | {r['bad_rate']:.3f} |")
    L += [
        "",
        "## Scaling, grades and score bands",
        "",
        f"`score = {sc['offset']:.2f} - {sc['factor']:.4f} * z`: {sc['base_score']:.0f} points at "
        f"{sc['base_odds']:.0f}:1 good:bad odds, {sc['pdo']:.0f} points to double the odds.",
        "",
        "| grade | PD below | share (OOF) | n | bad rate | mean PD | score range |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in mt["grades_oof"]:
        rng = "-" if g["min_score"] is None else f"{g['min_score']:.0f}-{g['max_score']:.0f}"
        L.append(
            f"| {g['grade']} | {g['max_pd']:.2f} | {g['share']:.3f} | {g['n']} | {_f(g['bad_rate'])} | "
            f"{_f(g['mean_pd'])} | {rng} |"
        )
    cut = m["policy"]["cutoff_pd"]
    L += [
        "",
        f"At the policy cut-off (approve if PD <= {cut:.2f}): approval rate {mt['oof_approval_rate_at_cutoff']:.3f}, "
        f"bad rate among approved {_f(mt['oof_bad_rate_approved'])} (out-of-fold).",
        "",
        "## Fairness",
        "",
        f"Adverse impact ratio (AIR) = a group's approval rate at PD <= {cut:.2f} / the highest approval rate of a "
        "group with at least `min_group` rows; flagged below 0.8. Out-of-fold PDs.",
    ]
    for col, fr in m["fairness"].items():
        L += [
            "",
            f"### {col} ({'model input' if fr['is_model_input'] else 'not a model input'})",
            "",
            "| group | n | bad rate | mean PD | approval rate | bad rate approved | AIR | AIR before | flag |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in fr["groups"]:
            L.append(
                f"| {r['group']} | {r['n']} | {r['bad_rate']:.3f} | {r['mean_pd']:.3f} | {r['approval_rate']:.3f} | "
                f"{_f(r['bad_rate_approved'])} | {_f(r['air'])} | {_f(r.get('air_before', r['air']))} | "
                f"{'**< 0.8**' if r['flag'] else ''} |"
            )
    L += _mitigation(m)
    L += _surface(m)
    ps = m["psi_baseline"]
    L += [
        "",
        "## Population stability baseline",
        "",
        "Score deciles of the training data under the final model (`psi_baseline` in model.json); "
        "monitor with `bnpl_model.scorer.population_stability_index(model['psi_baseline'], scores)` "
        "(PSI < 0.1 stable, 0.1-0.25 watch, > 0.25 investigate).",
        "",
        f"- edges: {', '.join(f'{e:.0f}' for e in ps['edges'])}",
        f"- shares: {', '.join(f'{s:.3f}' for s in ps['shares'])}",
        "",
        "## Explanations",
        "",
        f"Up to {m['reasons']['max']} reasons: {m['reasons']['rule']} (min_points = {m['reasons']['min_points']:g}). "
        "The model is additive, so each feature's contribution is exact: "
        "`intercept + sum(contributions) = margin`.",
        "",
        "## Limitations",
        "",
        *(f"- {x}" for x in m.get("limitations", [])),
        f"- Sampling noise ({mt['n']} rows): the CV standard deviation of the AUC is {mt['cv_auc_std']:.3f}; "
        "differences between candidates smaller than that are not meaningful.",
        "- Explanations are exact for this additive model but describe association, not causation; "
        "derived features move with their inputs.",
    ]
    if plots:
        L += ["", "## Plots", ""] + [f"![{p[:-4]}]({p})" for p in plots if p in PLOTS[:4]]
    return "\n".join(L) + "\n"


def _mitigation(m: dict[str, Any]) -> list[str]:
    mit = m.get("mitigation")
    if not mit:
        return []
    cands = m["selection"]["candidates"]
    before, after = cands[mit["before"]], cands[mit["after"]]
    best_lowest = max(cands.values(), key=lambda c: c["lowest_air"])
    reach = [n for n, c in cands.items() if c["lowest_air"] >= mit["target_air"]]
    L = [
        "",
        f"### Mitigation ({mit['attribute']})",
        "",
        f"The least approved {mit['attribute']} group under the highest-AUC candidate is **{mit['group']}**. "
        f"How well each input alone picks out that group (ROC AUC folded to >= 0.5; 0.5 = carries nothing):",
        "",
        "| input | proxy strength |",
        "|---|---|",
        *(f"| {n} | {v:.3f} |" for n, v in mit["proxies"].items()),
        "",
        f"Every family was also cross-validated without {mit['attribute']} (when it is an input) and without it plus "
        f"each subset of the strongest proxies ({', '.join('+'.join(v) for v in mit['variants'])}). Rule: among the "
        f"candidates within {mit['auc_tolerance']:g} of the best mean fold AUC and not below the plain logistic "
        "regression, take the one with the highest lowest adverse impact ratio. The same rule applies to every "
        "applicant: a left-out input is left out for everyone; no threshold or adjustment depends on the attribute.",
        "",
        f"- before: `{mit['before']}`, AUC {before['auc_mean']:.4f}, lowest AIR {before['lowest_air']:.3f}",
        f"- after (champion): `{mit['after']}`, AUC {after['auc_mean']:.4f} "
        f"({after['auc_mean'] - before['auc_mean']:+.4f}), lowest AIR {after['lowest_air']:.3f}",
        f"- eligible under the AUC rule: {', '.join(f'`{n}`' for n in mit['eligible'])}",
        f"- the best lowest AIR of any candidate: `{max(cands, key=lambda n: cands[n]['lowest_air'])}`, "
        f"{best_lowest['lowest_air']:.3f} at AUC {best_lowest['auc_mean']:.4f} "
        f"({best_lowest['auc_mean'] - before['auc_mean']:+.4f})",
        "",
        (
            f"Target (lowest AIR >= {mit['target_air']:g} with at most 0.01 AUC lost): "
            + (
                "met."
                if after["lowest_air"] >= mit["target_air"]
                else f"**not met**. No candidate reaches {mit['target_air']:g}"
                + (f" (those that do: {', '.join(reach)})" if reach else "")
                + ": the groups' observed bad rates differ (see the table above), and removing the inputs that "
                "carry the attribute costs more AUC than it buys in approval parity. This is what the data can give."
            )
        ),
        "",
        "![fairness](fairness.png)" if "fairness.png" in m.get("_plots", []) else "",
    ]
    return L


def _surface(m: dict[str, Any]) -> list[str]:
    ds = m.get("decision_surface")
    if not ds:
        return []
    inp = ds["inputs"]
    shares = ", ".join(f"{s:g} at term {t:g}" for t, s in ds["financed_share_by_term"].items())
    L = [
        "",
        "## Decision surface",
        "",
        f"PD and outcome of archetype shoppers over order amount x term (model inputs `{inp['amount']}` = amount "
        f"financed, `{inp['price']}` = order total, `{inp['term']}` = term in months; share financed "
        f"{ds['financed_share']:g}{', ' + shares if shares else ''}). A = approved (PD <= "
        f"{m['policy']['cutoff_pd']:.2f}), R = referred (<= {m['policy']['refer_pd']:.2f}), D = declined. "
        "Reasons are the codes the shopper would see.",
    ]
    for name, a in ds["archetypes"].items():
        L += [
            "",
            f"### {name.replace('_', ' ')}",
            "",
            f"{a['description']}. Inputs: {', '.join(f'{k} {v}' for k, v in a['inputs'].items())}.",
            "",
            "| amount | " + " | ".join(f"{t:g} months" for t in ds["terms"]) + " |",
            "|---|" + "---|" * len(ds["terms"]),
        ]
        for amount, row in zip(ds["amounts_minor"], a["grid"], strict=True):
            cells = [f"{c['pd']:.3f} {c['outcome'][0].upper()}" for c in row]
            L.append(f"| {amount / 100:,.2f} | " + " | ".join(cells) + " |")
        reasons = sorted({r for row in a["grid"] for c in row for r in c["reasons"]})
        L += [
            "",
            f"Reasons anywhere on the grid: {', '.join(reasons) or 'none'}.",
            "Expected: "
            + "; ".join(
                f"{e['amount_minor'] / 100:,.2f} over {e['term']:g} months {e['outcome']} (PD {e['pd']:.3f}, "
                f"{'ok' if e['ok'] else '**FAILED**'})"
                for e in a["expect"]
            )
            + ".",
        ]
    L += ["", "![decision_surface](decision_surface.png)" if "decision_surface.png" in m.get("_plots", []) else ""]
    return L


def write(
    model: dict[str, Any],
    out_dir: Path,
    *,
    y: np.ndarray,
    oof_pd: np.ndarray,
    oof_score: np.ndarray,
    curves: dict[str, np.ndarray],
    plots: bool = True,
) -> list[str]:
    written: list[str] = []
    if plots:
        try:
            written = _plots(model, out_dir, y, oof_pd, oof_score, curves)
        except ImportError:  # matplotlib is a training-time extra: the artifact is complete without plots
            warnings.warn("matplotlib is not installed: REPORT.md written without plots", stacklevel=2)
    (out_dir / "REPORT.md").write_text(markdown({**model, "_plots": written}, written), encoding="utf-8")
    return ["REPORT.md", *written]
