"""Station congestion: a graph convolutional network predicts crowding on Tokyo's railway from boardings alone."""

import time
from functools import partial

import numpy as np
import streamlit as st

from core.railway.congestion_models import DEFAULT_HIDDEN, DEFAULT_LAYERS, MODELS, NEURAL_MODELS
from core.railway.exploration import (
    KIPF_WIDTHS,
    World,
    closable_together,
    hop_distances,
    scenario_boardings,
    scenario_truth,
    sensitivity_to_rise,
    spread,
)
from core.railway.network import BUNDLED_DIR, RailwayNetwork
from core.railway.training import EVALUATIONS, TEST_SHARE, TRAINED_FOR, fraction_text, what_if
from figures.railway_map import (
    INTERCHANGE,
    MAP_WIDTH_PX,
    PRESENTING_MAP_WIDTH_PX,
    congestion_map,
    embedding_figure,
    receptive_field_map,
    spread_figure,
    station_lines,
    station_value_map,
)
from figures.railway_results import change_figure, loss_figure, md_plain, results_figure, results_reading
from figures.theme import figure_config
from ui.bound_widgets import always_drawn
from ui.presentation import presenting, text_scale
from ui.stations import (
    MAX_STATIONS,
    MIN_STATIONS,
    NetworkChoice,
    TrainedRun,
    TrainingSettings,
    cached_world,
    choose_network,
    day_label,
    karate_embedding,
    railway_embedding,
    raise_boardings,
    reset_scenario,
    shown_scores,
    stored_run,
    train_run,
)

FEATURED = "gcn_skip"  # the model the page shows first and explains
MODEL_ORDER = (FEATURED, *(kind for kind in NEURAL_MODELS if kind != FEATURED))  # in the colour choice and the bars
COLOUR_LABELS = {"truth": "Simulator (truth)", **{kind: MODELS[kind].name for kind in MODEL_ORDER}}
SHIBUYA = "JY20"
CONCERT_FACTOR = 3.0
MAX_DEPTH = 5
CHANGED_STATIONS = 8  # bars in the what-if's effect
TIMED = TrainingSettings(days=200, epochs=200)  # the settings TRAINING_TIME was measured with, on 2 CPU cores
TRAINING_TIME = "about 20 s (17–23 s measured)"


def map_width() -> int:
    """The narrowest the maps' station names are placed for."""
    return PRESENTING_MAP_WIDTH_PX if presenting() else MAP_WIDTH_PX


def spoken_list(words: list[str]) -> str:
    """Words joined for a sentence: "GCN, MLP and ridge"."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def link_name(network: RailwayNetwork, names: list[str], link: tuple[str, str]) -> str:
    """A link by its stations' names: "Shinjuku – Yoyogi"."""
    return " – ".join(names[network.index[station]] for station in link)


def introduction() -> None:
    """The title, the question the page asks, and the graph convolution as message passing."""
    st.title("🚉 Station congestion: a GCN on Tokyo's railway")
    intro, equation = st.columns([3, 2], gap="large")
    with intro:
        st.markdown(
            "A **graph convolution** updates every station from its neighbours. Here the graph is a railway: "
            "stations are nodes, links between neighbouring stations are edges. A traffic simulator plays the world "
            "— passengers board at each station (JR East's published counts), ride to destinations picked by a "
            "gravity model along the quickest route — and a station's **crowding** (混雑率, % of train capacity on "
            "its busiest link) comes from *every trip that passes through it*, so it depends on the neighbours' "
            "boardings, not just its own.  \n"
            "**Can a GCN predict each station's crowding from the day's boardings alone?** Train it below, then "
            "break the network and see whether it still knows."
        )
    with equation:
        st.latex(r"h_i' = \sigma\Big(b + \sum_{j \in N(i)} \tfrac{1}{c_{ij}}\, h_j W\Big)")
        st.markdown(
            r"**Message** — *board at a neighbour*: station $j$'s state $h_j W$ gets on, weighted by "
            r"$1/c_{ij} = 1/\sqrt{\tilde d_i \tilde d_j}$ ($\tilde d_i$: station $i$'s links + 1), so busy junctions "
            "share theirs out.  \n"
            r"**Update** — *alight here*: station $i$ adds up what arrives (its own state included), adds $b$, "
            r"applies $\sigma$. Stack $k$ layers and a station hears from every station within $k$ stops."
        )


def network_choice() -> NetworkChoice:
    """Two CSV files for the user's own network, and the network the page works on: theirs if it is usable."""
    with st.expander("📂 Use your own network (two CSV files)"):
        st.markdown(
            "**stations.csv**: `id, name_en, x, y, daily_boardings` (x, y in km on your map; optional `name_ja`, "
            "`boardings_source`).  \n**links.csv**: `source, target, km` (station ids; optional `lines` separated by "
            "`;`, `approximate` yes/no). One row per station pair, the network connected, "
            f"{MIN_STATIONS} to {MAX_STATIONS} stations. Start from the bundled files:"
        )
        with st.container(horizontal=True):
            for name in ("stations.csv", "links.csv"):
                st.download_button(
                    f"Bundled {name}", (BUNDLED_DIR / name).read_bytes(), name, "text/csv", key=f"download_{name}"
                )
        upload_stations, upload_links = st.columns(2)
        stations_file = upload_stations.file_uploader("Stations CSV", type="csv", key="stations_csv")
        links_file = upload_links.file_uploader("Links CSV", type="csv", key="links_csv")
        if (stations_file is None) != (links_file is None):
            st.info("Upload both files to switch to your network.", icon="📎")
    choice, problem = choose_network(stations_file, links_file)
    with always_drawn():
        if problem is not None:
            st.error(
                f"**Your network could not be used** — {md_plain(str(problem))}  \nShowing the bundled Tokyo "
                "network instead; fix the file and upload it again.",
                icon="⚠️",
            )
    return choice


def scenario_section(choice: NetworkChoice, names: list[str], world: World, trained: TrainedRun | None) -> int:
    """The network on one day: the map coloured by the simulator's or a model's crowding, what-ifs beside it, and
    their effect. Returns the day shown."""
    network = choice.network
    links = [(link.source, link.target) for link in network.links]
    link_names = [link_name(network, names, link) for link in links]
    st.header("The network on one day")
    test_days = [int(day) for day in world.days_split.test_days]
    if st.session_state.get("stations_day") not in test_days:
        st.session_state["stations_day"] = next((d for d in test_days if d % 7 < 5), test_days[0])
    colours = [kind for kind in COLOUR_LABELS if kind == "truth" or trained and kind in trained.experiment.models]
    if st.session_state.get("stations_colour") not in colours:
        st.session_state["stations_colour"] = "truth"
    for key in ("stations_raise", "stations_close"):  # drop choices that belong to another network
        limit = len(names) if key == "stations_raise" else len(links)
        kept = [i for i in st.session_state.get(key, []) if isinstance(i, int) and 0 <= i < limit]
        if kept != st.session_state.get(key):  # assign only then: it rewrites the address bar (ui/bound_widgets.py)
            st.session_state[key] = kept
    # The box of closed links shows only what the map applies: a link that would cut stations off stays open, and is
    # taken out of the box (before the box is drawn) with the reason.
    closures = closable_together(network, [links[k] for k in st.session_state.get("stations_close", [])])
    if closures.left_open:
        st.session_state["stations_close"] = [links.index(link) for link in closures.closed]

    map_column, controls = st.columns([5, 4], gap="large")
    with controls:
        day = st.select_slider(
            "Day (a test day: no model trained on it)",
            test_days,
            key="stations_day",
            bind="query-params",
            format_func=day_label,
        )
        colour = st.segmented_control(
            "Colour the stations by the crowding of",
            colours,
            key="stations_colour",
            bind="query-params",
            format_func=COLOUR_LABELS.get,
            help="The simulator's crowding is the truth; a model's is its prediction from that day's boardings alone.",
        )
        colour = colour or "truth"
        with always_drawn():
            if trained is None:
                st.info(
                    "The map shows the simulator's crowding. **Train the models** below to colour it by their "
                    "predictions.",
                    icon="🧪",
                )
        st.subheader("What if…")
        with st.container(horizontal=True):
            if choice.bundled:
                st.button(
                    f"🎤 A concert at Shibuya (boardings ×{CONCERT_FACTOR:g})",
                    on_click=partial(raise_boardings, [network.index[SHIBUYA]], CONCERT_FACTOR),
                    key="stations_concert",
                    help=f"{CONCERT_FACTOR:g} times the usual boardings at Shibuya; where those riders go is "
                    "the day's usual mix of destinations.",
                )
            st.button("↺ Back to normal", on_click=reset_scenario, key="stations_reset")
        effect = always_drawn()  # filled once the day is simulated: the effect shows under the buttons
        raised = st.multiselect(
            "Raise boardings at",
            range(len(names)),
            key="stations_raise",
            bind="query-params",
            format_func=names.__getitem__,
            placeholder="choose stations",
        )
        st.session_state.setdefault("stations_factor", 2.0)
        factor = st.slider(
            "…by a factor of", 1.0, 4.0, step=0.25, key="stations_factor", bind="query-params", format="×%.2f"
        )
        closing = st.multiselect(
            "Close links (remove one to reopen it)",
            range(len(links)),
            key="stations_close",
            bind="query-params",
            select_all=False,
            format_func=link_names.__getitem__,
            placeholder="choose links",
        )
        with always_drawn():
            for link, cut_off in closures.left_open:
                st.warning(
                    f"**{md_plain(link_name(network, names, link))} stays open**: closing it as well would "
                    f"cut {md_plain(', '.join(names[network.index[s]] for s in cut_off))} off from the rest "
                    "of the network.",
                    icon="🚧",
                )
        st.caption(
            "Boardings are where trips start; the riders go to that day's usual mix of destinations. The "
            "simulator re-routes every trip around closed links; the models only see the new edges."
        )

    base = world.demand.boardings[day]
    boardings = scenario_boardings(base, raised, factor)
    closed = [links[k] for k in closing]
    truth = scenario_truth(world, day, boardings, closed)
    scenario = bool(raised) and factor != 1.0 or bool(closed)
    predictions = normal = None
    if trained is not None:
        predictions = what_if(trained.experiment, day, boardings, closed)
        normal = what_if(trained.experiment, day, base)

    with map_column:
        if colour == "truth" or predictions is None:
            shown, what = truth, "simulator's crowding (truth)"
        else:
            shown, what = predictions.predicted[colour], f"{COLOUR_LABELS[colour]}'s predicted crowding"
        st.markdown(f"##### {day_label(day)[0].upper()}{day_label(day)[1:]}: {what}")
        figure = congestion_map(
            network,
            shown,
            truth=None if colour == "truth" else truth,
            closed_links=closed,
            raised={i: f"×{factor:g}" for i in raised} if factor != 1.0 else None,
            boardings=boardings,
            width_px=map_width(),
            text_scale=text_scale(),
        )
        st.plotly_chart(figure, key="stations_map", config=figure_config("png", "station-congestion"))
        st.caption(
            "Colour: crowding on the trains at each station that day, % of capacity on its busiest link. The "
            "transport ministry's guide: 100 % = every seat and strap taken, 150 % = room to open a newspaper, "
            "200 % = bodies touch. Marker area: the day's boardings. Line colours: JR's. Hover a station for "
            "its exact numbers and its Japanese name; drag to pan, double-click to reset."
        )

    with effect:
        if scenario:
            change = truth - world.intact.crowding[day]
            biggest = int(np.argmax(np.abs(change)))
            st.metric(
                f"Biggest change (simulator): {names[biggest]}",
                f"{truth[biggest]:.0f} %",
                f"{change[biggest]:+.0f} percentage points",
            )
            if predictions is not None and normal is not None:
                predicted_change = {kind: predictions.predicted[kind] - normal.predicted[kind] for kind in MODEL_ORDER}
                st.plotly_chart(
                    change_figure(names, change, predicted_change, top=CHANGED_STATIONS, text_scale=text_scale()),
                    key="stations_change",
                    config=figure_config("png", "what-if-change"),
                )
                st.caption(
                    f"The {CHANGED_STATIONS} stations whose crowding changed most in the simulator, and what "
                    "each model predicted for them (percentage points, against the same day without the "
                    "change)."
                )
            else:
                st.caption("Train the models to compare their predicted change with the simulator's.")
    return day


def training_caption() -> str:
    """What the models read, their size and what training them takes, from core's table and defaults."""
    reads = "; ".join(f"the {model.name} {model.reads}" for model in MODELS.values())
    panels = " · ".join(EVALUATIONS[evaluation].name for evaluation in TRAINED_FOR)
    return (
        f"{reads[0].upper()}{reads[1:]}. The neural models have {DEFAULT_LAYERS} layers (a GCN reads up to "
        f"{DEFAULT_LAYERS} stops away) of {DEFAULT_HIDDEN} hidden units, and each trains once for each panel of the "
        f"loss curves ({panels}). With {TIMED.days} days and {TIMED.epochs} epochs that takes {TRAINING_TIME} on "
        "this app's two CPU cores, and up to twice as long while other visitors keep them busy; twice the epochs "
        "take twice as long. The bar below follows it."
    )


def training_section(
    choice: NetworkChoice, names: list[str], settings: TrainingSettings, trained: TrainedRun | None
) -> None:
    """The training form, live progress and loss curves, then the results table and its reading."""
    scale = text_scale()
    st.header("Train the models")
    form_column, loss_column = st.columns([2, 3], gap="large")
    with form_column:
        with st.form("stations_training"):
            seed = st.number_input(
                "Seed (the simulated world and the initial weights)",
                0,
                999,
                settings.seed,
                key="stations_seed",
                bind="query-params",
            )
            days = st.slider(
                f"Simulated days ({fraction_text(1 - TEST_SHARE)} train, {fraction_text(TEST_SHARE)} test)",
                60,
                400,
                settings.days,
                20,
                key="stations_days",
                bind="query-params",
            )
            epochs = st.slider(
                "Epochs per model (full-batch Adam)",
                10,
                600,
                settings.epochs,
                10,
                key="stations_epochs",
                bind="query-params",
            )
            submitted = st.form_submit_button(
                f"🚂 Train {spoken_list([model.name for model in MODELS.values()])}",
                type="primary",
                key="stations_train",
            )
        st.caption(training_caption())
        status_area = st.empty()
    with loss_column:
        loss_chart = st.empty()

    if submitted:
        settings = TrainingSettings(int(seed), int(days), int(epochs))
        st.session_state["stations_settings"] = settings
        with status_area.container():
            with st.status("Training…", expanded=True) as status:
                bar = st.progress(0.0, text="simulating the days")
                shown_at = [0.0, 0]

                def show_progress(history) -> None:
                    """Move the bar; redraw the loss curves at most every 0.4 s (and at the end)."""
                    bar.progress(history.fraction(), text=history.current())
                    if time.monotonic() - shown_at[0] > 0.4 or history.fraction() >= 1.0:
                        shown_at[0], shown_at[1] = time.monotonic(), shown_at[1] + 1
                        loss_chart.plotly_chart(
                            loss_figure(history.curves, history.epochs, text_scale=scale),
                            key=f"stations_loss_live_{shown_at[1]}",
                        )

                try:
                    run = train_run(choice, settings, show_progress)
                except (ValueError, RuntimeError) as error:
                    status.update(label="Training failed", state="error")
                    st.error(f"Training failed: {md_plain(str(error))}", icon="⚠️")
                else:
                    status.update(label=f"Trained in {run.seconds:.0f} s", state="complete", expanded=False)
                    st.rerun()

    with always_drawn():
        if trained is None:
            with loss_column:
                loss_chart.info("The loss curves appear here while the models train.", icon="📉")
            return
        with loss_column:
            loss_chart.plotly_chart(
                loss_figure(trained.history.curves, trained.history.epochs, text_scale=scale),
                key="stations_loss",
                config=figure_config("png", "loss-curves"),
            )
            st.caption(
                "Mean squared error of crowding / 100 on the test days (solid) and the training days "
                "(dotted), log scale. Each panel is one way of testing."
            )
        with form_column:
            st.success(
                f"Trained in {trained.seconds:.1f} s ({settings.epochs} epochs, {settings.days} days, seed "
                f"{settings.seed}). The map above can now show the predictions.",
                icon="✅",
            )
        results_section(choice, names, trained)


def results_section(choice: NetworkChoice, names: list[str], trained: TrainedRun) -> None:
    """The scores as a table, and what they say."""
    network = choice.network
    closed_name = "" if choice.closed_link is None else "–".join(names[network.index[s]] for s in choice.closed_link)
    scores, evaluations = shown_scores(trained, choice.closed_link is not None)
    st.subheader("Results")
    st.plotly_chart(
        results_figure(scores, evaluations, closed_link=closed_name, text_scale=text_scale()),
        key="stations_results",
        config=figure_config("png", "results"),
    )
    st.caption(
        "R²: share of the day-to-day and station-to-station variation in crowding explained (1 = "
        "perfect, 0 = no better than always guessing the average, below 0 = worse than that; the colour "
        "stops at 0, so such cells stay white). MAE: mean absolute error in percentage points of crowding. "
        "One seed: numbers move by a few hundredths between seeds."
    )
    sentences = results_reading(scores, closed_link=closed_name)
    for row in range(0, len(sentences), 2):  # the reading, two evaluations side by side
        for column, sentence in zip(st.columns(2, gap="large"), sentences[row : row + 2], strict=False):
            column.markdown(sentence)


def receptive_field_section(
    network: RailwayNetwork, names: list[str], world: World, trained: TrainedRun | None, day: int
) -> None:
    """How far a k-layer GCN sees from a station, a signal spreading layer by layer, and what the trained featured
    model reads on the day shown."""
    scale = text_scale()
    st.header("Receptive field: what a k-layer GCN can see")
    default_station = network.index.get(SHIBUYA, int(np.argmax(network.boardings())))
    if st.session_state.get("stations_focus") not in range(len(names)):
        st.session_state["stations_focus"] = default_station
    pick_column, field_column = st.columns([2, 3], gap="large")
    with pick_column:
        focus = st.selectbox(
            "Station", range(len(names)), key="stations_focus", bind="query-params", format_func=names.__getitem__
        )
        depth = st.slider("Layers (k)", 0, MAX_DEPTH, 2, key="stations_depth", bind="query-params")
        hops = hop_distances(network, focus)
        seen = int((hops <= depth).sum())
        st.metric(f"Stations a {depth}-layer GCN reads to predict {names[focus]}", f"{seen} of {len(names)}")
        st.markdown(
            f"Each layer passes messages one stop further, so after **k layers** {md_plain(names[focus])}'s "
            "prediction depends on the boardings within k stops — and on nothing farther. The models above have "
            f"**{DEFAULT_LAYERS} layers**. A closed link changes who is within reach: that is how a GCN can re-predict "
            "a changed network without retraining."
        )
    with field_column:
        st.plotly_chart(
            receptive_field_map(network, hops, focus, depth, height_px=620, width_px=map_width(), text_scale=scale),
            key="stations_field",
            config=figure_config("png", "receptive-field"),
        )

    st.subheader("Layer by layer: a signal spreading from the station")
    st.plotly_chart(
        spread_figure(network, spread(network, focus, max(depth, 1)), focus, text_scale=scale),
        key="stations_spread",
        config=figure_config("png", "spread"),
    )
    st.caption(
        f"A unit signal starts at {md_plain(names[focus])}; each panel applies one more graph convolution "
        r"with $W = 1$ and no bias ($\hat A h$). Colour: the signal at each station, relative to that panel's "
        r"largest; hollow: not reached yet. Because $\hat A$ is symmetric, the same numbers say how much each "
        f"station contributes to {md_plain(names[focus])}'s own state after that many layers."
    )
    with always_drawn():
        if trained is None:
            return
        model = trained.experiment.models[FEATURED]
        gradient = sensitivity_to_rise(model, network, world.demand.boardings[day], focus, rise=0.1)
        largest = float(np.abs(gradient).max()) or 1.0
        with st.expander(f"What the trained {MODELS[FEATURED].name} actually reads for {names[focus]}", expanded=False):
            st.plotly_chart(
                station_value_map(
                    network,
                    gradient,
                    colorbar_title="pp per +10 % boardings",
                    colorscale="RdBu_r",
                    cmin=-largest,
                    cmax=largest,
                    ticks=None,
                    value_format="{:+.2f} pp",
                    height_px=620,
                    width_px=map_width(),
                    text_scale=scale,
                ),
                key="stations_sensitivity",
                config=figure_config("png", "sensitivity"),
            )
            st.caption(
                f"How many percentage points the predicted crowding at {md_plain(names[focus])} moves if one "
                f"station's boardings rise by 10 % ({day_label(day)}; a gradient, so exact for small changes). "
                f"Stations more than {len(model.layers)} stops away read exactly 0: outside the receptive "
                "field."
            )


def kipf_section(choice: NetworkChoice, names: list[str]) -> None:
    """An untrained GCN's 2-D embedding of this railway and of Zachary's karate club."""
    network, scale = choice.network, text_scale()
    st.header("Kipf's moment: structure before any training")
    st.markdown(
        f"Thomas Kipf's observation: a {len(KIPF_WIDTHS)}-layer GCN with **random, untrained** weights, fed nothing "
        "but each node's "
        "identity ($X = I$), already places nodes by their position in the graph — because every layer mixes a node "
        "with its neighbours. Below, its 2-D output for this railway and for Zachary's karate club (34 members whose "
        "club split in two)."
    )
    kipf_seed = st.number_input(
        "Random weights (seed)", 0, 999, 1, key="stations_kipf_seed", bind="query-params", width=220
    )
    rail_column, karate_column = st.columns(2, gap="large")
    with rail_column:
        points = railway_embedding(choice.key, int(kipf_seed), network)
        big = np.argsort(-network.boardings())[:6]
        st.markdown("##### This railway, coloured by line")
        st.plotly_chart(
            embedding_figure(
                points,
                station_lines(network, interchange=INTERCHANGE),
                labels={int(i): names[i] for i in big},
                edges=network.edge_index(),
                text_scale=scale,
            ),
            key="stations_kipf_railway",
            config=figure_config("png", "kipf-railway"),
        )
        st.caption(
            "Stations coloured by the line that serves them (dark: an interchange), the links drawn between "
            "them: stations next to each other on the map land next to each other here. The six busiest are "
            "named."
        )
    with karate_column:
        karate_points, clubs = karate_embedding(int(kipf_seed))
        st.markdown("##### Zachary's karate club, coloured by the club each member joined")
        st.plotly_chart(
            embedding_figure(karate_points, clubs, labels={0: "Mr. Hi", 33: "the officer"}, text_scale=scale),
            key="stations_kipf_karate",
            config=figure_config("png", "kipf-karate"),
        )
        st.caption(
            "Nobody told the network who joined which club, and no weight was trained; the two groups still "
            "mostly fall apart. Some random draws separate them better than others — try a few seeds."
        )


introduction()
choice = network_choice()
names = [station.name_en for station in choice.network.stations]
settings = st.session_state.get("stations_settings", TrainingSettings())
world = cached_world(choice.key, settings.seed, settings.days, choice.network)
trained = stored_run(choice.key, settings)
st.caption(
    f"Network: {md_plain(choice.label)} — {len(choice.network.stations)} stations, "
    f"{len(choice.network.links)} links; {settings.days} simulated days (seed {settings.seed}). Sources and "
    "approximations: assets/railway/SOURCES.md."
)
day = scenario_section(choice, names, world, trained)
training_section(choice, names, settings, trained)
receptive_field_section(choice.network, names, world, trained, day)
kipf_section(choice, names)
