"""
Many series and covariates: one global model over a panel
=========================================================

Grunfeld's investment data (public domain) follows 11 US firms from 1935 to
1954: each year's gross investment, the firm's market value and its stock
of plant and equipment. Twenty points a firm are too few to train a network
per firm; one *global* model over the whole panel sees eleven times as
much. This example reads the long table with :func:`seqforecast.from_frame`,
trains a GRU over all firms at once (a :class:`~seqforecast.PanelStream`
gives each lane its own firm and state), with and without the two
covariates, and scores one-year-ahead forecasts of 1951-1954 beside one
model per firm and the naive forecast.

The tutorial :doc:`/tutorials/many-series` explains each step.
"""

# sphinx_gallery_thumbnail_number = 1
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

import seqforecast as sf
from seqforecast.backtesting import backtest

data = Path(__file__).parent / "data" if "__file__" in globals() else Path("data")
df = pd.read_csv(data / "grunfeld.csv")  # invest, value, capital, firm, year
df["year"] = pd.to_datetime(df["year"].astype(str))
panel = sf.from_frame(df, id="firm", time="year", target="invest", past=["value", "capital"])
print(f"{len(panel)} firms, {len(panel.targets[0])} years each, input_size {panel.input_size}")

# %%
# Growth rates, on one scale
# --------------------------
# General Motors invests a thousand times more than Diamond Match. A global
# model needs its series on one scale: the yearly change of the logarithm
# (the growth rate), divided by each firm's spread over the training years.
# The naive forecast ("as last year") is then a forecast of zero growth.

split = 15  # growth rates 1936-1950 to train on; 1951-1954 to score


def growth(values: np.ndarray) -> np.ndarray:
    rates = np.diff(np.log(values), axis=0)  # (19, columns)
    return rates / rates[:split].std(axis=0)


rates = sf.Panel.from_series(
    {key: growth(y) for key, y in zip(panel.ids, panel.targets, strict=True)},
    past={key: growth(p) for key, p in zip(panel.ids, panel.past, strict=True)},
    times={key: t[1:] for key, t in zip(panel.ids, panel.times or (), strict=True)},
    target_names=["invest"],
    past_names=["value", "capital"],
)


def without_covariates(p: sf.Panel) -> sf.Panel:
    return sf.Panel.from_series(dict(zip(p.ids, p.targets, strict=True)))


# %%
# One model for all firms
# -----------------------
# ``Panel.stream`` packs the firms into lanes; each window's inputs are a
# firm's growth of investment, value and capital at year ``t`` and its
# target the growth of investment at ``t + 1``. The model reads three
# inputs and forecasts one: ``input_size=3, output_size=1``.


def train(p: sf.Panel, seed: int) -> sf.RecurrentForecaster:
    model = sf.RecurrentForecaster(p.input_size, 1, hidden_size=8, num_layers=1, cell="gru", seed=seed)
    sf.Trainer(model, sf.TrainerConfig(device="cpu", seed=seed, lr=0.01)).fit(p.stream(50, batch_size=len(p)), steps=50)
    return model


def one_year_ahead(model: sf.RecurrentForecaster, p: sf.Panel, covariates: bool) -> np.ndarray:
    """Backtest forecasts of 1951-1954 for every firm: ``(firms, 4)``."""
    rows = [p.inputs(i) if covariates else p.targets[i] for i in range(len(p))]
    return np.stack(
        [
            backtest(model, torch.as_tensor(r, dtype=torch.float32), 1, start=split, past=r.shape[1] - 1)
            .forecasts[:, 0, 0]
            .numpy()
            for r in rows
        ]
    )


def mase(forecasts: np.ndarray) -> float:
    scores = [
        np.abs(f - y[split:, 0]).mean() / np.abs(y[:split, 0]).mean()
        for f, y in zip(forecasts, rates.targets, strict=True)
    ]
    return float(np.mean(scores))


seeds = range(3)
scores = {
    "global, with covariates": [mase(one_year_ahead(train(rates.head(split), s), rates, True)) for s in seeds],
    "global, no covariates": [
        mase(one_year_ahead(train(without_covariates(rates.head(split)), s), rates, False)) for s in seeds
    ],
}
per_firm = []
for s in seeds:
    forecasts = [
        one_year_ahead(train(sf.Panel.from_series([y[:split]]), s), sf.Panel.from_series([y]), False)[0]
        for y in rates.targets
    ]
    per_firm.append(mase(np.stack(forecasts)))
scores["one model per firm"] = per_firm
scores["naive (as last year)"] = [mase(np.zeros((len(rates), 4)))]
for name, values in scores.items():
    print(f"{name:24} MASE {np.mean(values):.2f}  (seeds: {', '.join(f'{v:.2f}' for v in values)})")

# %%
# The next year, with its stamp
# -----------------------------
# :func:`seqforecast.forecast_panel` forecasts every firm after its last
# year. With past covariates a one-year forecast needs nothing more (two
# years would need the covariates' values in 1955 as a scenario). The result
# carries the firms' ids and the year it forecasts, and ``to_frame()`` writes
# the long format.

model = train(rates, 0)
result = sf.forecast_panel(model, rates, 1)
print(result.to_frame().head(3).to_string(index=False))

# %%
# What the forecasts looked like
# ------------------------------
# Four firms' growth of investment, the global model's one-year-ahead
# forecasts of 1951-1954 (trained on the years before) and its forecast of
# 1955.

final = train(rates.head(split), 0)
backtested = one_year_ahead(final, rates, True)
figure = Figure(figsize=(9, 5), layout="constrained")
for k, firm in enumerate(("General Motors", "IBM", "Chrysler", "Goodyear")):
    axes = figure.add_subplot(2, 2, k + 1)
    i = rates.index(firm)
    years = (rates.times or ())[i]
    axes.plot(years, rates.targets[i][:, 0], color="black", marker=".", label="observed")
    axes.plot(years[split:], backtested[i], color="tab:blue", marker="o", label="one year ahead")
    axes.plot(
        result.times[i] if result.times is not None else [],
        result.mean[i, :, 0],
        color="tab:orange",
        marker="s",
        label="1955",
    )
    axes.axhline(0.0, color="grey", linewidth=0.5)
    axes.set_title(firm)
    axes.grid(alpha=0.3)
figure.axes[3].legend(loc="upper right", fontsize="small")
figure.supylabel("growth of investment (scaled)")
