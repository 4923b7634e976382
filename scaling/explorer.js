/* The frontier explorer: renders the JSON in #explorer-data with the inlined plotly.js.
   Every name, unit and label comes from the data: strategies from the registry (label, title,
   deployable, adaptive), the cost unit per data set. */
(function () {
  'use strict';
  const START_MS = performance.now(); // plotly.js is evaluated by now
  const DATA = JSON.parse(document.getElementById('explorer-data').textContent);
  const LEVEL = `${Math.round(100 * DATA.level)}%`;
  // marker shapes, given to the page's strategies in registry order
  const SHAPES = [
    'circle',
    'square',
    'diamond',
    'triangle-up',
    'triangle-down',
    'pentagon',
    'hexagon',
    'star',
    'hourglass',
    'bowtie',
    'cross',
    'x',
  ];
  const GLYPHS = {
    circle: '\u25CF',
    square: '\u25A0',
    diamond: '\u25C6',
    'triangle-up': '\u25B2',
    'triangle-down': '\u25BC',
    pentagon: '\u2B1F',
    hexagon: '\u2B22',
    star: '\u2605',
    hourglass: '\u29D7',
    bowtie: '\u22C8',
    cross: '\u271A',
    x: '\u2716',
  };
  const CEILING = '#6b7280';
  const GOLD = '#f2b705';
  const LAW_COLORS = ['#2f5bd3', '#0f8a6c', '#b5179e', '#c2410c', '#6c757d'];
  const SOURCE_TEXT = {
    exact: 'exact replay',
    interpolated: 'interpolated (fitted law)',
    extrapolated: 'extrapolated (fitted law)',
  };
  const SOURCE_SHORT = { exact: 'exact', interpolated: 'interp.', extrapolated: 'extrap.' };
  const PLOT_CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ['lasso2d', 'select2d', 'autoScale2d'],
    toImageButtonOptions: { format: 'png', scale: 2 },
  };
  const FONT = {
    family: '-apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    size: 12.5,
    color: '#1d2330',
  };
  const AXIS = { gridcolor: '#eef0f4', zeroline: false, showline: true, linecolor: '#c4cad4' };
  const STRATEGIES = {};
  DATA.strategies.forEach((s, i) => {
    STRATEGIES[s.key] = Object.assign({ shape: SHAPES[i % SHAPES.length] }, s);
  });
  const state = {
    ds: 0,
    y: 'acc',
    x: 'cost',
    xPref: 'cost',
    intervals: 'selected',
    strategies: null,
    models: null,
    budget: 0,
    selected: null,
  };

  // ---------- formatting ----------
  const SUP = {
    '-': '\u207B',
    0: '\u2070',
    1: '\u00B9',
    2: '\u00B2',
    3: '\u00B3',
    4: '\u2074',
    5: '\u2075',
    6: '\u2076',
    7: '\u2077',
    8: '\u2078',
    9: '\u2079',
  };
  function sci(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2013';
    if (v === 0) return '0';
    const e = Math.floor(Math.log10(Math.abs(v)));
    const m = v / Math.pow(10, e);
    const sup = String(e)
      .split('')
      .map((c) => SUP[c])
      .join('');
    return m.toFixed(digits === undefined ? 2 : digits) + '\u00D710' + sup;
  }
  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2013';
    const a = Math.abs(v);
    return a >= 1e4 || (a < 1e-2 && a > 0) ? sci(v, digits) : String(+v.toPrecision(3));
  }
  function params(p) {
    if (p === null || p === undefined) return 'size unknown';
    const units = [
      [1e12, 'T'],
      [1e9, 'B'],
      [1e6, 'M'],
      [1e3, 'K'],
    ];
    for (const [u, s] of units) {
      if (p >= u) return +(p / u).toPrecision(3) + s;
    }
    return String(p);
  }
  function pct(a, d) {
    return a === null || a === undefined
      ? '\u2013'
      : (100 * a).toFixed(d === undefined ? 1 : d) + '%';
  }
  function tokens(t) {
    return t === null || t === undefined ? 'n/a' : Math.round(t).toLocaleString('en-US');
  }
  function esc(s) {
    return String(s).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  }
  function rgba(color, alpha) {
    if (color[0] === '#') {
      const n = parseInt(color.slice(1), 16);
      return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
    }
    const m = color.match(/\d+(\.\d+)?/g);
    return `rgba(${m[0]},${m[1]},${m[2]},${alpha})`;
  }

  // ---------- data helpers ----------
  function ds() {
    return DATA.datasets[state.ds];
  }
  function strat(key) {
    return STRATEGIES[key] || { key, text: key, label: key, title: key, shape: 'circle' };
  }
  function text(key) {
    return strat(key).text;
  }
  function glyph(key) {
    return GLYPHS[strat(key).shape] || '\u25CF';
  }
  function name(c) {
    return `${c.model} \u00B7 ${text(c.strategy)}`;
  }
  // the data set's cost unit ("samples" where the cost is unknown)
  function unit() {
    return ds().unit;
  }
  function inSamples() {
    return unit() === 'samples';
  }
  function costText(v, digits) {
    return inSamples() ? `${num(v, digits)} samples` : `${num(v, digits)} ${unit()}`;
  }
  function oracleNames() {
    const keys = ds().strategies.filter((s) => !strat(s).deployable);
    return keys.map(text).join(', ') || 'oracle';
  }
  function hasCost(c) {
    return c.points.cost.some((v) => v !== null);
  }
  function visible(c) {
    return state.strategies.has(c.strategy) && state.models.has(c.model);
  }
  function shown(c) {
    return visible(c) && (state.x === 'samples' || hasCost(c));
  }
  function onCostAxis() {
    return state.x === 'cost' || inSamples();
  }
  function yv(a) {
    return a === null ? null : state.y === 'acc' ? a : 1 - a;
  }
  function ylo(lo, hi) {
    return state.y === 'acc' ? lo : hi === null ? null : 1 - hi;
  }
  function yhi(lo, hi) {
    return state.y === 'acc' ? hi : lo === null ? null : 1 - lo;
  }
  // piecewise linear through (xs, ys), xs increasing; beyond the last point along the last
  // segment (a fixed-size strategy draws one more sample per unit of k)
  function interp(x, xs, ys) {
    const n = xs.length;
    if (!n) return null;
    if (x <= xs[0]) return ys[0];
    for (let i = 1; i < n; i++) {
      if (x <= xs[i])
        return ys[i - 1] + ((ys[i] - ys[i - 1]) * (x - xs[i - 1])) / (xs[i] - xs[i - 1]);
    }
    const slope = n > 1 ? (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2]) : 1;
    return ys[n - 1] + (x - xs[n - 1]) * slope;
  }
  // expected samples drawn by a configuration at k (its replayed points; k beyond them for a
  // fixed-size strategy)
  function samplesAt(c, k) {
    return interp(k, c.points.k, c.points.samples);
  }
  // where an option (configuration, k, cost) sits on the current x axis
  function optionX(c, k, cost) {
    return onCostAxis() ? cost : samplesAt(c, k);
  }
  function frontierAt(i) {
    const f = ds().frontier;
    if (!f) return null;
    const cfg = (id) => (id === null || id === undefined ? null : ds().configs[id]);
    const pick = (arr) => (arr ? arr[i] : null);
    return {
      budget: f.budget[i],
      config: cfg(f.config[i]),
      k: f.k[i],
      cost: pick(f.cost),
      acc: f.acc[i],
      lo: f.lo[i],
      hi: f.hi[i],
      source: f.source[i],
      runnerUp: f.runner_up[i],
      runner: cfg(f.runner_config[i]),
      margin: f.margin[i],
      marginLo: pick(f.margin_low),
      marginHi: pick(f.margin_high),
      pBest: pick(f.p_best),
      ceiling: pick(f.ceiling),
      ceilingLo: pick(f.ceiling_lo),
      ceilingHi: pick(f.ceiling_hi),
      ceilingConfig: cfg(pick(f.ceiling_config)),
      ceilingK: pick(f.ceiling_k),
      ceilingCost: pick(f.ceiling_cost),
      ceilingSource: pick(f.ceiling_source),
    };
  }
  // configurations whose intervals are drawn: the best at the budget (where nothing is ranked,
  // the ceiling's configuration) and a clicked one
  function selectedIds(best) {
    const ids = new Set();
    if (state.intervals === 'none') return ids;
    if (best && best.config) ids.add(best.config.id);
    else if (best && best.ceilingConfig) ids.add(best.ceilingConfig.id);
    if (state.selected) ids.add(state.selected.config.id);
    return ids;
  }
  function withIntervals(c, best) {
    return state.intervals === 'all' || selectedIds(best).has(c.id);
  }
  // the staircase of the best exact point at <= x among configurations ``keep`` accepts
  function staircase(keep) {
    const pts = [];
    for (const c of ds().configs) {
      if (!keep(c)) continue;
      c.points.k.forEach((k, j) => {
        const x = onCostAxis() ? c.points.cost[j] : c.points.samples[j];
        if (x !== null && c.points.acc[j] !== null) pts.push({ c, j, x, a: c.points.acc[j] });
      });
    }
    pts.sort((p, q) => p.x - q.x || q.a - p.a);
    const front = [];
    let top = -Infinity;
    for (const p of pts) {
      if (p.a > top) {
        front.push(p);
        top = p.a;
      }
    }
    return front;
  }
  function rankedStaircase() {
    return staircase(
      (c) => c.ranked && state.models.has(c.model) && state.strategies.has(c.strategy),
    );
  }
  function ceilingStaircase() {
    return staircase((c) => !c.ranked && !c.deployable && state.models.has(c.model));
  }
  function xMax() {
    let top = -Infinity;
    for (const c of ds().configs) {
      if (!shown(c)) continue;
      const xs = onCostAxis() ? c.points.cost : c.points.samples;
      for (const v of xs) if (v !== null && v > top) top = v;
    }
    return top;
  }
  function stairTrace(front, extra) {
    const last = front[front.length - 1];
    const right = Math.max(last.x, xMax());
    return Object.assign(
      {
        type: 'scatter',
        mode: 'lines',
        x: front.map((q) => q.x).concat([right]),
        y: front.map((q) => yv(q.a)).concat([yv(last.a)]),
        line: { shape: 'hv' },
        hoverinfo: 'skip',
      },
      extra,
    );
  }
  function pointHover(c, j) {
    const p = c.points;
    const drawn = strat(c.strategy).adaptive
      ? ` (${num(p.samples[j])} samples drawn on average, adaptive)`
      : '';
    return [
      c.model,
      params(c.params),
      text(c.strategy),
      `${p.k[j]}${drawn}`,
      tokens(p.tokens[j]),
      p.cost[j] === null ? 'unknown' : costText(p.cost[j]),
      pct(p.acc[j], 2),
      pct(p.lo[j], 2),
      pct(p.hi[j], 2),
      c.ranked ? '' : ' \u2014 oracle, part of the ceiling',
    ];
  }
  const POINT_TEMPLATE =
    '<b>%{customdata[0]}</b> (%{customdata[1]} params) \u00B7 %{customdata[2]}%{customdata[9]}' +
    '<br>k = %{customdata[3]}<br>tokens / problem: %{customdata[4]}<br>' +
    'cost / problem: %{customdata[5]}<br>accuracy: <b>%{customdata[6]}</b> ' +
    `(${LEVEL} CI %{customdata[7]} \u2013 %{customdata[8]}), exact replay<extra></extra>`;

  // ---------- frontier view ----------
  function configTraces(c, best, out) {
    const grp = 'c' + c.id;
    const hot = best && best.config && best.config.id === c.id;
    const oracle = !c.ranked;
    const cv = c.curve;
    const cx = cv && (onCostAxis() ? cv.cost : cv.samples);
    const intervals = withIntervals(c, best);
    if (cv && cx && cx.some((v) => v !== null)) {
      if (intervals) {
        const lo = cv.lo.map((l, i) => ylo(l, cv.hi[i]));
        const hi = cv.lo.map((l, i) => yhi(l, cv.hi[i]));
        out.bands.push({
          type: 'scatter',
          x: cx.concat(cx.slice().reverse()),
          y: hi.concat(lo.slice().reverse()),
          fill: 'toself',
          mode: 'lines',
          line: { width: 0 },
          fillcolor: rgba(oracle ? CEILING : c.color, hot ? 0.14 : 0.07),
          hoverinfo: 'skip',
          showlegend: false,
          legendgroup: grp,
          meta: { role: 'band', config: c.id },
        });
      }
      const custom = cv.pred.map((p, i) => [
        name(c),
        cv.cost[i] === null ? 'unknown' : costText(cv.cost[i]),
        cv.k[i] === null ? '\u2013' : num(cv.k[i]),
        pct(p, 2),
        pct(cv.lo[i], 2),
        pct(cv.hi[i], 2),
        cv.extrap[i] ? 'extrapolated beyond the samples' : 'interpolated',
      ]);
      const tmpl =
        '<b>%{customdata[0]}</b><br>fitted law, %{customdata[6]}' +
        '<br>C = %{customdata[1]}, k \u2248 %{customdata[2]}<br>' +
        `predicted accuracy %{customdata[3]} (${LEVEL} %{customdata[4]} \u2013 %{customdata[5]})` +
        '<extra></extra>';
      const width = hot ? 3.2 : oracle ? 1 : 1.5;
      const line = { color: oracle ? rgba(c.color, 0.6) : c.color, width };
      const layer = oracle ? out.oracle : out.curves;
      layer.push({
        type: 'scatter',
        mode: 'lines',
        x: cx,
        y: cv.pred.map(yv),
        customdata: custom,
        hovertemplate: tmpl,
        line: Object.assign({}, line, { dash: oracle ? 'dot' : 'dash' }),
        showlegend: false,
        legendgroup: grp,
        meta: { role: 'curve-extrapolated', config: c.id },
      });
      layer.push({
        type: 'scatter',
        mode: 'lines',
        x: cx,
        y: cv.pred.map((p, i) => (cv.extrap[i] ? null : yv(p))),
        customdata: custom,
        hovertemplate: tmpl,
        line: Object.assign({}, line, { dash: oracle ? 'dot' : 'solid' }),
        showlegend: false,
        legendgroup: grp,
        meta: { role: 'curve', config: c.id },
      });
    }
    const p = c.points;
    const shape = strat(c.strategy).shape;
    const trace = {
      type: 'scatter',
      mode: cv ? 'markers' : 'lines+markers',
      name: name(c),
      showlegend: false,
      x: onCostAxis() ? p.cost : p.samples,
      y: p.acc.map(yv),
      legendgroup: grp,
      marker: {
        symbol: oracle ? shape + '-open' : shape,
        color: c.color,
        size: hot ? 10 : oracle ? 5.5 : 7,
        opacity: oracle ? 0.75 : 1,
        line: oracle
          ? { color: c.color, width: 1.2 }
          : { color: hot ? '#111' : '#fff', width: hot ? 1.4 : 0.6 },
      },
      line: { color: c.color, width: 1, dash: 'dot' },
      customdata: p.k.map((_, j) => pointHover(c, j)),
      hovertemplate: POINT_TEMPLATE,
      meta: { role: 'points', config: c.id, oracle },
    };
    if (intervals) {
      trace.error_y = {
        type: 'data',
        symmetric: false,
        thickness: 1,
        width: 2,
        color: rgba(oracle ? CEILING : c.color, 0.6),
        array: p.acc.map((a, j) => yhi(p.lo[j], p.hi[j]) - yv(a)),
        arrayminus: p.acc.map((a, j) => yv(a) - ylo(p.lo[j], p.hi[j])),
      };
    }
    (oracle ? out.oraclePoints : out.points).push(trace);
  }

  // the frontier's choice at each budget, one trace per source (exact, interpolated, extrapolated)
  function choiceTraces() {
    const f = ds().frontier;
    if (!f) return [];
    const out = [];
    for (const source of ['exact', 'interpolated', 'extrapolated']) {
      const idx = f.budget.map((_, i) => i).filter((i) => f.source[i] === source);
      const at = idx
        .map((i) => ({ i, c: ds().configs[f.config[i]] }))
        .filter((o) => o.c && (onCostAxis() ? hasCost(o.c) : true));
      if (!at.length) continue;
      const open = source === 'exact' ? '' : source === 'interpolated' ? '-open-dot' : '-open';
      out.push({
        type: 'scatter',
        mode: 'markers',
        name: `chosen at a budget: ${SOURCE_TEXT[source]}`,
        legendgroup: 'chosen-' + source,
        x: [null],
        y: [null],
        marker: {
          symbol: 'circle' + open,
          size: 11,
          color: '#4b5563',
          line: { color: '#111', width: source === 'exact' ? 1.5 : 2 },
        },
        hoverinfo: 'skip',
        meta: { role: 'frontier-key', source },
      });
      out.push({
        type: 'scatter',
        mode: 'markers',
        name: `chosen at a budget: ${SOURCE_TEXT[source]}`,
        showlegend: false,
        legendgroup: 'chosen-' + source,
        x: at.map((o) => optionX(o.c, f.k[o.i], f.cost ? f.cost[o.i] : f.budget[o.i])),
        y: at.map((o) => yv(f.acc[o.i])),
        marker: {
          symbol: at.map((o) => strat(o.c.strategy).shape + open),
          size: 12,
          color: at.map((o) => o.c.color),
          line: { color: source === 'exact' ? '#111' : at.map((o) => o.c.color), width: 2 },
        },
        customdata: at.map((o) => [
          costText(f.budget[o.i]),
          name(o.c),
          f.k[o.i],
          pct(f.acc[o.i], 2),
          pct(f.lo[o.i], 2),
          pct(f.hi[o.i], 2),
          SOURCE_TEXT[source],
        ]),
        hovertemplate:
          '<b>chosen at C \u2264 %{customdata[0]}</b><br>%{customdata[1]}, k = %{customdata[2]}' +
          `<br>accuracy %{customdata[3]} (${LEVEL} %{customdata[4]} \u2013 %{customdata[5]})` +
          '<br>%{customdata[6]}<extra></extra>',
        meta: { role: 'frontier', source, budgets: at.map((o) => f.budget[o.i]) },
      });
    }
    return out;
  }

  // the oracle ceiling at each budget of the grid: grey markers, hollow where fitted
  function ceilingChoices() {
    const f = ds().frontier;
    if (!f || !f.ceiling) return null;
    const at = f.budget
      .map((_, i) => i)
      .filter((i) => f.ceiling[i] !== null && f.ceiling_config[i] !== null)
      .map((i) => ({ i, c: ds().configs[f.ceiling_config[i]] }))
      .filter((o) => state.models.has(o.c.model) && (onCostAxis() ? hasCost(o.c) : true));
    if (!at.length) return null;
    const shape = (o) =>
      'circle' +
      { exact: '', interpolated: '-open-dot', extrapolated: '-open' }[f.ceiling_source[o.i]];
    return {
      type: 'scatter',
      mode: 'markers',
      name: `oracle ceiling at a budget`,
      showlegend: false,
      legendgroup: 'ceiling',
      x: at.map((o) => optionX(o.c, f.ceiling_k[o.i], f.ceiling_cost[o.i])),
      y: at.map((o) => yv(f.ceiling[o.i])),
      marker: {
        symbol: at.map(shape),
        size: 8,
        color: CEILING,
        line: { color: CEILING, width: 1.5 },
      },
      customdata: at.map((o) => [
        costText(f.budget[o.i]),
        name(o.c),
        f.ceiling_k[o.i],
        pct(f.ceiling[o.i], 2),
        SOURCE_TEXT[f.ceiling_source[o.i]],
      ]),
      hovertemplate:
        '<b>oracle ceiling at C \u2264 %{customdata[0]}</b><br>%{customdata[1]}, ' +
        'k = %{customdata[2]}: %{customdata[3]}<br>%{customdata[4]}; not ranked<extra></extra>',
      meta: { role: 'ceiling-point', sources: at.map((o) => f.ceiling_source[o.i]) },
    };
  }

  function frontierTraces(best) {
    const out = { bands: [], oracle: [], curves: [], oraclePoints: [], points: [] };
    for (const c of ds().configs) if (shown(c)) configTraces(c, best, out);
    const traces = out.bands.concat(out.oracle, out.oraclePoints, out.curves, out.points);
    const ceiling = ceilingStaircase();
    if (ceiling.length) {
      traces.push(
        stairTrace(ceiling, {
          name: `oracle ceiling (${oracleNames()})`,
          legendgroup: 'ceiling',
          line: { color: CEILING, width: 1.8, dash: 'dash', shape: 'hv' },
          meta: { role: 'ceiling', n: ceiling.length, configs: ceiling.map((q) => q.c.id) },
        }),
      );
    }
    const ceilingAt = ceilingChoices();
    if (ceilingAt) traces.push(ceilingAt);
    const front = rankedStaircase();
    if (front.length) {
      traces.push(
        stairTrace(front, {
          showlegend: false,
          line: { color: 'rgba(255,255,255,0.9)', width: 6, shape: 'hv' },
          meta: { role: 'pareto-halo' },
        }),
      );
      traces.push(
        stairTrace(front, {
          name: DATA.include_oracle
            ? 'frontier: best exact point at \u2264 cost (all strategies)'
            : 'deployable frontier: best exact point at \u2264 cost',
          line: { color: '#111', width: 2.2, shape: 'hv' },
          meta: { role: 'pareto', n: front.length, configs: front.map((q) => q.c.id) },
        }),
      );
    }
    traces.push(...choiceTraces());
    if (best && best.config && (onCostAxis() ? hasCost(best.config) : true)) {
      traces.push({
        type: 'scatter',
        mode: 'markers',
        x: [optionX(best.config, best.k, best.cost === null ? best.budget : best.cost)],
        y: [yv(best.acc)],
        name: 'best at the slider budget',
        marker: { symbol: 'star', size: 22, color: GOLD, line: { color: '#111', width: 1.5 } },
        error_y: {
          type: 'data',
          symmetric: false,
          color: '#111',
          thickness: 1.6,
          width: 6,
          array: [yhi(best.lo, best.hi) - yv(best.acc)],
          arrayminus: [yv(best.acc) - ylo(best.lo, best.hi)],
        },
        customdata: [
          [
            name(best.config),
            best.k,
            pct(best.acc, 2),
            pct(best.lo, 2),
            pct(best.hi, 2),
            costText(best.budget),
            SOURCE_TEXT[best.source],
          ],
        ],
        hovertemplate:
          '<b>best at C \u2264 %{customdata[5]}</b><br>%{customdata[0]}, k = %{customdata[1]}' +
          `<br>%{customdata[2]} (${LEVEL} %{customdata[3]} \u2013 %{customdata[4]}), ` +
          '%{customdata[6]}<extra></extra>',
        meta: { role: 'best', config: best.config.id, k: best.k, budget: best.budget },
      });
    } else if (best && best.ceilingConfig && (onCostAxis() ? hasCost(best.ceilingConfig) : true)) {
      traces.push({
        type: 'scatter',
        mode: 'markers',
        x: [optionX(best.ceilingConfig, best.ceilingK, best.ceilingCost)],
        y: [yv(best.ceiling)],
        name: 'oracle ceiling at the slider budget',
        marker: { symbol: 'circle-open', size: 20, color: GOLD, line: { width: 3 } },
        hoverinfo: 'skip',
        meta: { role: 'ceiling-at-budget', config: best.ceilingConfig.id, budget: best.budget },
      });
    }
    return traces;
  }

  function axisTitleX() {
    if (onCostAxis() && !inSamples()) return `Inference cost C (${unit()} per problem, log scale)`;
    return 'Samples drawn per problem (expected, for adaptive strategies; log scale)';
  }
  function axisTitleY() {
    return state.y === 'acc'
      ? 'Accuracy (% of problems solved)'
      : 'Error rate, 1 \u2212 accuracy (%, log scale)';
  }

  // the log range of error rates drawn (with their interval bars), capped at 100%
  function errorRange(traces) {
    const ys = [];
    for (const t of traces) {
      (t.y || []).forEach((y, i) => {
        if (y === null) return;
        ys.push(y);
        if (t.error_y) ys.push(y + t.error_y.array[i], y - t.error_y.arrayminus[i]);
      });
    }
    const [lo, hi] = logRange(ys, 1.1);
    return [Math.log10(lo), Math.log10(Math.min(hi, 1.02))];
  }

  // the selected budget: a dotted vertical line across the plot
  function budgetLine(budget) {
    return {
      type: 'line',
      xref: 'x',
      yref: 'paper',
      x0: budget,
      x1: budget,
      y0: 0,
      y1: 1,
      line: { color: GOLD, width: 2, dash: 'dot' },
    };
  }

  function frontierLayout(best, traces) {
    const shapes = [],
      annotations = [];
    if (best && onCostAxis()) {
      shapes.push(budgetLine(best.budget));
      annotations.push({
        xref: 'x',
        yref: 'paper',
        x: Math.log10(best.budget),
        y: 1,
        yanchor: 'bottom',
        text: `budget ${costText(best.budget)}`,
        showarrow: false,
        font: { size: 11.5, color: '#8a6700' },
      });
    }
    const low = state.y === 'err';
    return {
      font: FONT,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      height: 600,
      margin: { l: 70, r: 16, t: 40, b: 58 },
      hovermode: 'closest',
      title: {
        text:
          `Frontier: ${state.y === 'acc' ? 'accuracy' : 'error'} against ` +
          (onCostAxis() && !inSamples() ? 'inference cost' : 'samples drawn per problem'),
        x: 0.01,
        y: 0.985,
        font: { size: 14 },
      },
      xaxis: Object.assign(
        { type: 'log', title: { text: axisTitleX() }, exponentformat: 'power' },
        AXIS,
      ),
      yaxis: Object.assign(
        {
          type: low ? 'log' : 'linear',
          title: { text: axisTitleY() },
          tickformat: low ? '.2~%' : '.0%',
        },
        low ? { range: errorRange(traces) } : {},
        AXIS,
      ),
      legend: {
        x: 0.01,
        y: low ? 0.01 : 0.99,
        xanchor: 'left',
        yanchor: low ? 'bottom' : 'top',
        font: { size: 11.5 },
        bgcolor: 'rgba(255,255,255,0.88)',
        bordercolor: '#dfe3ea',
        borderwidth: 1,
      },
      shapes,
      annotations,
    };
  }

  // ---------- compute-optimal view ----------
  function lawAt(law, budget) {
    const b = law.band;
    if (!b) return null;
    const i = b.budget.indexOf(budget);
    return i < 0 ? null : { n: b.n[i], lo: b.lo[i], hi: b.hi[i] };
  }
  function noptTraces(best) {
    const traces = [];
    (ds().laws || []).forEach((law, i) => {
      const color = LAW_COLORS[i % LAW_COLORS.length];
      const b = law.band;
      const grp = 'law' + i;
      const head =
        `${esc(law.label)}: N_opt = ${sci(law.G, 2)} \u00B7 C^${law.a.toFixed(3)} ` +
        `[a: ${law.a_low.toFixed(3)}, ${law.a_high.toFixed(3)}]` +
        (law.reliable ? '' : ' \u2014 unreliable');
      if (b) {
        traces.push({
          type: 'scatter',
          mode: 'lines',
          x: b.budget.concat(b.budget.slice().reverse()),
          y: b.hi.concat(b.lo.slice().reverse()),
          fill: 'toself',
          fillcolor: rgba(color, law.reliable ? 0.14 : 0.08),
          line: { width: 0 },
          hoverinfo: 'skip',
          showlegend: false,
          legendgroup: grp,
          meta: { role: 'law-band', law: law.label },
        });
        traces.push({
          type: 'scatter',
          mode: 'lines',
          x: b.budget,
          y: b.n,
          name: head,
          line: { color, width: 2.5, dash: law.reliable ? 'solid' : 'dash' },
          legendgroup: grp,
          customdata: b.budget.map((v, j) => [
            costText(v),
            params(b.n[j]),
            params(b.lo[j]),
            params(b.hi[j]),
          ]),
          hovertemplate:
            'C = %{customdata[0]}<br>N_opt = <b>%{customdata[1]}</b> ' +
            `(${LEVEL} %{customdata[2]} \u2013 %{customdata[3]})<extra>${esc(law.label)}</extra>`,
          meta: { role: 'law', law: law.label, reliable: law.reliable },
        });
      }
      const d = law.diagnostic;
      if (d && d.budget.length) {
        const slope =
          law.slope === null
            ? ''
            : ` (slope ${law.slope.toFixed(3)} [${num(law.slope_low)}, ${num(law.slope_high)}])`;
        traces.push({
          type: 'scatter',
          mode: 'markers',
          x: d.budget,
          y: d.params,
          name: `diagnostic: best replayed size per budget${slope}`,
          legendgroup: grp,
          marker: { symbol: 'diamond-open', size: 11, color, line: { width: 2 } },
          customdata: d.budget.map((v, j) => [costText(v), d.model[j], params(d.params[j])]),
          hovertemplate:
            '<b>diagnostic</b> at C \u2264 %{customdata[0]}: the best exact replayed point is ' +
            `%{customdata[1]} (%{customdata[2]})<extra>${esc(law.label)}</extra>`,
          meta: { role: 'diagnostic', law: law.label },
        });
      }
      const at = best && lawAt(law, best.budget);
      if (at) {
        traces.push({
          type: 'scatter',
          mode: 'markers',
          x: [best.budget],
          y: [at.n],
          name: 'at the slider budget',
          showlegend: i === 0,
          marker: { size: 18, color: 'rgba(0,0,0,0)', line: { color: GOLD, width: 3 } },
          hoverinfo: 'skip',
          meta: { role: 'at-budget', law: law.label },
        });
      }
    });
    return traces;
  }

  // ticks labelled like model cards (100M, 200M, 1B): 1-2-5 per decade, every digit when the
  // range spans less than a decade
  function sizeTicks(lo, hi) {
    const digits = hi / lo < 10 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : [1, 2, 5];
    const vals = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of digits) {
        const v = m * Math.pow(10, e);
        if (v >= lo && v <= hi) vals.push(v);
      }
    }
    return { tickvals: vals, ticktext: vals.map(params) };
  }
  function logRange(values, pad) {
    const vs = values.filter((v) => v !== null && v > 0);
    const lo = Math.min(...vs),
      hi = Math.max(...vs);
    return [lo / pad, hi * pad];
  }

  function noptLayout(best, traces) {
    const rows = traces.filter((t) => t.showlegend !== false && t.name).length;
    const ys = traces.filter((t) => t.meta.role !== 'at-budget').flatMap((t) => t.y);
    const xs = traces.flatMap((t) => t.x);
    const [ylo_, yhi_] = logRange(ys, 1.35);
    const [xlo, xhi] = logRange(xs, 2);
    const shapes = [];
    const annotations = [];
    (ds().laws || []).forEach((law, i) => {
      if (law.slope_from === null || law.slope_to === null || !(law.slope_to > law.slope_from))
        return;
      const color = LAW_COLORS[i % LAW_COLORS.length];
      shapes.push({
        type: 'rect',
        xref: 'x',
        yref: 'paper',
        x0: law.slope_from,
        x1: law.slope_to,
        y0: 0,
        y1: 1,
        fillcolor: rgba(color, 0.05),
        line: { width: 0 },
        layer: 'below',
      });
      annotations.push({
        xref: 'x',
        yref: 'paper',
        x: Math.log10(Math.sqrt(law.slope_from * law.slope_to)),
        y: 0,
        yanchor: 'bottom',
        text: 'diagnostic slope range',
        showarrow: false,
        font: { size: 10.5, color: '#5f6b7a' },
      });
    });
    if (best) {
      shapes.push(budgetLine(best.budget));
    }
    return {
      font: FONT,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      height: 420 + 22 * rows,
      margin: { l: 70, r: 16, t: 40 + 22 * rows, b: 56 },
      hovermode: 'closest',
      shapes,
      annotations,
      title: {
        text: 'Compute-optimal model size N_opt against budget',
        x: 0.01,
        y: 0.975,
        font: { size: 14 },
      },
      xaxis: Object.assign(
        {
          type: 'log',
          title: { text: `Inference budget C (${unit()} per problem, log scale)` },
          exponentformat: 'power',
          range: [Math.log10(xlo), Math.log10(xhi)],
        },
        AXIS,
      ),
      yaxis: Object.assign(
        {
          type: 'log',
          title: { text: 'Model size N (parameters, log scale)' },
          range: [Math.log10(ylo_), Math.log10(yhi_)],
        },
        sizeTicks(ylo_, yhi_),
        AXIS,
      ),
      legend: { orientation: 'h', x: 0, y: 1.01, yanchor: 'bottom', font: { size: 11.5 } },
    };
  }

  // ---------- drill-down ----------
  function selection(best) {
    if (state.selected) return state.selected;
    if (best && best.config) return { config: best.config, k: best.k, from: 'budget' };
    if (best && best.ceilingConfig)
      return { config: best.ceilingConfig, k: best.ceilingK, from: 'ceiling' };
    // no frontier: the most accurate observed point, preferring runs that record levels
    let pick = null;
    for (const c of ds().configs) {
      if (!visible(c)) continue;
      c.points.acc.forEach((a, j) => {
        const score = [c.levels ? 1 : 0, a];
        if (
          !pick ||
          score[0] > pick.score[0] ||
          (score[0] === pick.score[0] && score[1] > pick.score[1])
        ) {
          pick = { config: c, k: c.points.k[j], from: 'top', score };
        }
      });
    }
    return pick;
  }
  function levelsView(sel) {
    const el = document.getElementById('levels-note');
    if (!sel) {
      el.textContent = 'Click a point to select a configuration.';
      return null;
    }
    const lv = sel.config.levels;
    if (!lv) {
      el.innerHTML = `${esc(name(sel.config))}: this run records no difficulty levels.`;
      return null;
    }
    const ks = Array.from(new Set(lv.k));
    const k = ks.reduce((a, b) =>
      Math.abs(Math.log(b / sel.k)) < Math.abs(Math.log(a / sel.k)) ? b : a,
    );
    const traces = [];
    const bars = (kk, color, nm) => {
      const idx = lv.k.map((v, i) => i).filter((i) => lv.k[i] === kk);
      return {
        type: 'bar',
        name: nm,
        x: idx.map((i) => 'L' + lv.level[i]),
        y: idx.map((i) => lv.acc[i]),
        marker: { color },
        error_y: lv.lo
          ? {
              type: 'data',
              symmetric: false,
              color: '#333',
              thickness: 1,
              width: 3,
              array: idx.map((i) => lv.hi[i] - lv.acc[i]),
              arrayminus: idx.map((i) => lv.acc[i] - lv.lo[i]),
            }
          : undefined,
        customdata: idx.map((i) => [lv.level[i], kk, pct(lv.acc[i], 1)]),
        hovertemplate:
          'level %{customdata[0]}, k = %{customdata[1]}: %{customdata[2]}<extra></extra>',
        meta: { role: 'levels', config: sel.config.id, k: kk },
      };
    };
    if (ks.includes(1) && k !== 1) traces.push(bars(1, '#c9ced8', 'k = 1'));
    traces.push(bars(k, sel.config.color, `k = ${k}`));
    el.innerHTML =
      `<b>${esc(name(sel.config))}</b>, k = ${k}` +
      (k !== sel.k ? ` <span class="muted">(nearest simulated to k = ${sel.k})</span>` : '') +
      {
        budget: ' <span class="muted">\u2014 best at the budget</span>',
        ceiling: ' <span class="muted">\u2014 the oracle ceiling at the budget</span>',
        top: ' <span class="muted">\u2014 most accurate point; click a point to choose</span>',
        click:
          ' <span class="muted">\u2014 clicked</span> <button class="linkbtn" id="follow">' +
          'follow budget</button>',
      }[sel.from];
    const layout = {
      font: FONT,
      height: 230,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      margin: { l: 50, r: 10, t: 10, b: 40 },
      barmode: 'group',
      bargap: 0.25,
      xaxis: { title: { text: 'Difficulty level' } },
      yaxis: {
        title: { text: 'Accuracy (%)' },
        tickformat: '.0%',
        range: [0, 1.05],
        gridcolor: '#eef0f4',
      },
      legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom' },
    };
    return { traces, layout };
  }

  // ---------- panels ----------
  function badge(source) {
    return source ? `<span class="badge src-${source}">${SOURCE_TEXT[source]}</span>` : '';
  }
  function ceilingLine(best) {
    if (DATA.include_oracle || !best || best.ceiling === null || !best.ceilingConfig) return '';
    const c = best.ceilingConfig;
    return (
      `<div class="row ceil"><b>Oracle ceiling (${esc(oracleNames())})</b>: ` +
      `${pct(best.ceiling, 1)} <span class="muted">(${LEVEL} ${pct(best.ceilingLo, 1)} \u2013 ` +
      `${pct(best.ceilingHi, 1)})</span><br><span class="muted">${esc(c.model)}, ` +
      `k = ${best.ceilingK}, ${SOURCE_TEXT[best.ceilingSource] || ''}; picks the correct sample ` +
      'with the reference answer, so it is a bound, not a competitor</span></div>'
    );
  }
  function bestPanel(best) {
    const el = document.getElementById('best');
    if (!best) {
      el.innerHTML =
        '<h2>Best at budget</h2><div class="muted">No frontier for this data set: no ' +
        'configuration has a known cost, so configurations are compared at equal samples.</div>';
      return;
    }
    const at = `${costText(best.budget)} / problem`;
    if (!best.config) {
      const why = ds().ranked
        ? 'No ranked configuration affords this budget.'
        : 'Nothing is ranked: these runs have no deployable strategy (only ' +
          `${esc(oracleNames())}, which needs the reference answer to pick a sample).`;
      el.innerHTML = `<h2>At C = ${at}</h2><div class="why">${why}</div>` + ceilingLine(best);
      return;
    }
    const c = best.config;
    const hidden = visible(c) ? '' : '<span class="badge hid">hidden by filters</span>';
    const drawn = strat(c.strategy).adaptive
      ? `, ${num(samplesAt(c, best.k))} samples drawn on average`
      : '';
    el.innerHTML =
      `<h2>Best ${DATA.include_oracle ? '' : 'deployable '}at C = ${at}</h2>` +
      `<div class="cfg" id="best-config"><span class="sw" style="background:${c.color}"></span>` +
      `<span>${esc(name(c))}, k = ${best.k}${hidden}</span></div>` +
      `<div class="muted">${c.params === null ? 'size unknown' : params(c.params)}` +
      (c.params === null ? '' : ' parameters') +
      `${drawn}</div>` +
      `<div class="acc">${pct(best.acc, 1)}${badge(best.source)}</div>` +
      `<div class="ci">accuracy, ${LEVEL} interval ${pct(best.lo, 1)} \u2013 ${pct(best.hi, 1)}` +
      '</div>' +
      `<div class="row"><b>Runner-up:</b> ` +
      esc(best.runner ? name(best.runner) : best.runnerUp || 'none') +
      (best.margin !== null
        ? `<br><span class="muted">margin ${(100 * best.margin).toFixed(2)} points` +
          (best.marginLo !== null && best.marginHi !== null
            ? ` (${LEVEL} CI ${(100 * best.marginLo).toFixed(2)} to ` +
              `${(100 * best.marginHi).toFixed(2)})`
            : '') +
          '</span>'
        : '') +
      (best.pBest !== null
        ? `<br><span class="muted">best in ${pct(best.pBest, 0)} of bootstrap replicates</span>`
        : '') +
      '</div>' +
      ceilingLine(best);
  }

  function lawPanel(best) {
    const d = ds(),
      el = document.getElementById('law');
    if (!d.laws) {
      el.innerHTML =
        '<h2>Compute-optimal model size</h2><div class="note">No N_opt law for this data set: ' +
        'it needs one model family with three or more known sizes, replayed with one ' +
        `sampling strategy${inSamples() ? ', and a known cost' : ''}.</div>`;
      return;
    }
    el.innerHTML =
      '<h2>Compute-optimal model size</h2>' +
      d.laws
        .map((l, i) => {
          const at = best && lawAt(l, best.budget);
          const color = LAW_COLORS[i % LAW_COLORS.length];
          const oracle = l.strategy && !strat(l.strategy).deployable;
          return (
            `<div class="law" data-law="${esc(l.label)}"><b style="color:${color}">` +
            `${esc(l.label)}</b>${oracle ? ' <span class="badge hid">oracle</span>' : ''}<br>` +
            '<code>N_opt(C) = G \u00B7 C<sup>a</sup></code>, ' +
            `G = ${sci(l.G, 3)}, <b>a = ${l.a.toFixed(3)}</b> ` +
            `(${LEVEL} CI ${l.a_low.toFixed(3)} \u2013 ${l.a_high.toFixed(3)})` +
            (l.reliable
              ? ''
              : `<div class="warn">joint law misfits (RMS ${num(l.misfit)} SE), unreliable</div>`) +
            (at
              ? `<div>at C = ${costText(best.budget)}: N_opt = <b>${params(at.n)}</b> ` +
                `<span class="muted">(${LEVEL} ${params(at.lo)} \u2013 ${params(at.hi)})` +
                '</span></div>'
              : '') +
            (l.slope !== null
              ? '<div class="muted diag"><b>diagnostic</b> (\u25C7): best replayed size per ' +
                `budget; slope of log N on log C ${l.slope.toFixed(3)} (${LEVEL} CI ` +
                `${num(l.slope_low)} \u2013 ${num(l.slope_high)}) over C = ` +
                `${costText(l.slope_from, 1)} \u2013 ${costText(l.slope_to, 1)}</div>`
              : '') +
            '</div>'
          );
        })
        .join('');
  }

  function chosenTable() {
    const d = ds(),
      el = document.getElementById('chosen');
    const f = d.frontier;
    if (!f) {
      el.innerHTML = '';
      return;
    }
    const ranked = f.config.some((c) => c !== null);
    const rows = f.budget.map((b, i) => {
      const id = ranked ? f.config[i] : f.ceiling_config ? f.ceiling_config[i] : null;
      const c = id === null || id === undefined ? null : d.configs[id];
      const acc = ranked ? f.acc[i] : f.ceiling[i];
      const k = ranked ? f.k[i] : f.ceiling_k[i];
      const source = ranked ? f.source[i] : f.ceiling_source[i];
      const lo = ranked ? f.lo[i] : f.ceiling_lo && f.ceiling_lo[i];
      const hi = ranked ? f.hi[i] : f.ceiling_hi && f.ceiling_hi[i];
      if (!c) {
        return (
          `<tr data-i="${i}"><td>${num(b, 1)}</td><td colspan="5" class="muted">` +
          'nothing affordable</td></tr>'
        );
      }
      return (
        `<tr data-i="${i}" title="${LEVEL} interval ${pct(lo, 1)} \u2013 ${pct(hi, 1)}, ` +
        `${SOURCE_TEXT[source]}"><td>${num(b, 1)}</td>` +
        `<td title="${esc(c.model)}"><span class="sw" style="background:${c.color}"></span>` +
        `${esc(c.model)}</td>` +
        `<td title="${esc(strat(c.strategy).title)}">${glyph(c.strategy)} ` +
        `${esc(strat(c.strategy).label)}</td><td>${k}</td><td>${pct(acc, 1)}</td>` +
        `<td><span class="src src-${source}">${SOURCE_SHORT[source]}</span></td></tr>`
      );
    });
    const keys = Array.from(
      new Set(f.budget.map((_, i) => (ranked ? f.config[i] : f.ceiling_config[i]))),
    )
      .filter((id) => id !== null && id !== undefined)
      .map((id) => d.configs[id].strategy);
    const legend = Array.from(new Set(keys))
      .map((s) => `${esc(strat(s).label)} = ${esc(strat(s).title)}`)
      .join('; ');
    el.innerHTML =
      `<h2>${ranked ? 'Chosen configuration' : 'Oracle ceiling (not ranked)'} per budget</h2>` +
      '<div class="tablewrap"><table class="chosen"><thead><tr>' +
      `<th>C (${esc(inSamples() ? 'samples' : unit())})</th><th>model</th>` +
      '<th>strategy</th><th>k</th><th>accuracy</th><th>value</th></tr></thead><tbody>' +
      rows.join('') +
      '</tbody></table></div>' +
      `<div class="note">${legend}. Value: exact replay, or the fitted law interpolated ` +
      'between or extrapolated beyond the replayed k. Hover a row for its interval, click it ' +
      'to move the budget.</div>';
    el.querySelectorAll('tr[data-i]').forEach((tr) =>
      tr.addEventListener('click', () => {
        setBudget(+tr.dataset.i);
      }),
    );
  }

  function markTableRow() {
    document.querySelectorAll('table.chosen tr[data-i]').forEach((tr) => {
      const cur = +tr.dataset.i === state.budget;
      tr.classList.toggle('cur', cur);
      if (cur) {
        const wrap = tr.closest('.tablewrap');
        const top = tr.offsetTop - wrap.clientHeight / 2;
        wrap.scrollTop = Math.max(0, top);
      }
    });
  }

  // ---------- rendering ----------
  function render() {
    const best = frontierAt(state.budget);
    const traces = frontierTraces(best);
    const nopt = noptTraces(best);
    const out = [Plotly.react('frontier-plot', traces, frontierLayout(best, traces), PLOT_CONFIG)];
    const noptPlot = document.getElementById('nopt-plot');
    noptPlot.style.display = nopt.length ? '' : 'none';
    document.getElementById('nopt-card').classList.toggle('empty', !nopt.length);
    if (nopt.length) out.push(Plotly.react(noptPlot, nopt, noptLayout(best, nopt), PLOT_CONFIG));
    else Plotly.purge(noptPlot);
    const lv = levelsView(selection(best));
    const levelsPlot = document.getElementById('levels-plot');
    levelsPlot.style.display = lv ? '' : 'none';
    if (lv) {
      out.push(
        Plotly.react(
          levelsPlot,
          lv.traces,
          lv.layout,
          Object.assign({}, PLOT_CONFIG, { displayModeBar: false }),
        ),
      );
    } else Plotly.purge(levelsPlot);
    const follow = document.getElementById('follow');
    if (follow)
      follow.addEventListener('click', () => {
        state.selected = null;
        render();
      });
    const missing = ds().configs.filter((c) => visible(c) && !hasCost(c));
    document.getElementById('frontier-note').textContent =
      onCostAxis() && !inSamples() && missing.length
        ? `Not on the ${unit()} axis (cost unknown): ${missing.map(name).join(', ')}. ` +
          'Switch the x axis to samples to see them.'
        : '';
    bestPanel(best);
    lawPanel(best);
    budgetLabel(best);
    markTableRow();
    return Promise.all(out).then(() => undefined);
  }

  function budgetLabel(best) {
    document.getElementById('budget-value').textContent = best
      ? `C = ${costText(best.budget)} / problem`
      : 'no frontier';
  }

  function setBudget(i) {
    state.budget = i;
    state.selected = null;
    document.getElementById('budget').value = i;
    return render();
  }

  function chipsStrategies() {
    const box = document.getElementById('strategies');
    box.innerHTML = '';
    for (const s of ds().strategies) {
      const info = strat(s);
      const b = document.createElement('button');
      const oracle = !info.deployable;
      b.className = 'chip' + (state.strategies.has(s) ? '' : ' off') + (oracle ? ' oracle' : '');
      b.dataset.strategy = s;
      b.title =
        info.title +
        (info.adaptive ? '; adaptive: drawn at its expected samples' : '') +
        (oracle && !DATA.include_oracle ? '; an oracle: drawn as the ceiling, not ranked' : '');
      const sw = ds().strategy_colors
        ? `<span class="sw" style="background:${ds().strategy_colors[s]}"></span>`
        : '';
      b.innerHTML =
        `${sw}<span class="sym">${glyph(s)}</span>${esc(info.text)}` +
        (oracle ? '<span class="np">oracle</span>' : '');
      b.addEventListener('click', () => {
        if (state.strategies.has(s)) state.strategies.delete(s);
        else state.strategies.add(s);
        b.classList.toggle('off');
        render();
      });
      box.appendChild(b);
    }
  }

  function chipsModels() {
    const box = document.getElementById('models');
    box.innerHTML = '';
    const d = ds();
    for (const m of d.models) {
      const b = document.createElement('button');
      b.className = 'chip' + (state.models.has(m.model) ? '' : ' off');
      b.dataset.model = m.model;
      b.title = `family ${m.family}`;
      const color = d.color_by === 'strategy' ? '#9ca3af' : m.color;
      b.innerHTML =
        `<span class="sw" style="background:${color}"></span>${esc(m.model)}` +
        `<span class="np">${params(m.params)}</span>`;
      b.addEventListener('click', () => {
        if (state.models.has(m.model)) state.models.delete(m.model);
        else state.models.add(m.model);
        b.classList.toggle('off');
        render();
      });
      box.appendChild(b);
    }
    const all = (on) => () => {
      state.models = new Set(on ? d.models.map((m) => m.model) : []);
      chipsModels();
      render();
    };
    for (const [txt, on] of [
      ['all', true],
      ['none', false],
    ]) {
      const a = document.createElement('button');
      a.className = 'linkbtn';
      a.textContent = txt;
      a.addEventListener('click', all(on));
      box.appendChild(a);
    }
  }

  function banner() {
    const d = ds();
    const el = document.getElementById('banner');
    let why = '';
    if (!d.ranked && d.frontier) {
      why =
        '<b>No deployable strategy in these runs.</b> They hold ' +
        `${esc(oracleNames())} only, which picks the correct sample with the reference ` +
        'answer (an oracle a deployment does not have): it is drawn as the oracle ceiling ' +
        '(grey, dashed) and nothing is ranked.';
    } else if (DATA.include_oracle && d.strategies.some((s) => !strat(s).deployable)) {
      why =
        `<b>${esc(oracleNames())} is ranked with the deployable strategies</b> ` +
        '(include_oracle): it picks the correct sample with the reference answer, so the ' +
        'frontier is an upper bound where it wins.';
    }
    const notes = d.notes.length
      ? `<details><summary>Notes from the fit (${d.notes.length})</summary>` +
        d.notes.map((n) => `<div>${esc(n)}</div>`).join('') +
        '</details>'
      : '';
    el.innerHTML = (why ? `<div class="why">${why}</div>` : '') + notes;
    el.classList.toggle('quiet', !why);
    el.style.display = why || notes ? '' : 'none';
  }

  function selectDataset(i) {
    state.ds = i;
    const d = ds();
    // oracle configurations are summarised by the ceiling; shown when nothing else is
    state.strategies = new Set(
      d.strategies.filter((s) => strat(s).deployable || DATA.include_oracle || !d.ranked),
    );
    state.models = new Set(d.models.map((m) => m.model));
    state.selected = null;
    const costOk = !inSamples() && d.configs.some(hasCost);
    state.x = costOk ? state.xPref : 'samples';
    const costButton = document.querySelector('#xmode button[data-value=cost]');
    costButton.disabled = !costOk;
    costButton.textContent = inSamples() ? 'Cost' : unit();
    syncSegments();
    const nb = d.frontier ? d.frontier.budget.length : 1;
    const slider = document.getElementById('budget');
    slider.max = nb - 1;
    state.budget = Math.floor((nb - 1) / 2);
    slider.value = state.budget;
    slider.disabled = !d.frontier;
    document.getElementById('dataset').value = i;
    document.getElementById('budget-min').textContent = d.frontier
      ? costText(d.frontier.budget[0], 1)
      : '';
    document.getElementById('budget-max').textContent = d.frontier
      ? costText(d.frontier.budget[nb - 1], 1)
      : '';
    document.getElementById('models-name').textContent =
      d.color_by === 'strategy'
        ? 'Model (colour: strategy)'
        : d.models.length > 1 && new Set(d.models.map((m) => m.family)).size === 1
          ? 'Models (colour: size, darker = larger)'
          : 'Models (colour: family, darker = larger)';
    document.getElementById('title').textContent = `${DATA.title} \u2014 ${d.title}`;
    const models = d.models.length,
      strategies = d.strategies.length;
    document.getElementById('subtitle').innerHTML =
      `Cost model: <b>${esc(DATA.cost.name)}</b>` +
      (DATA.cost.title ? ` (${esc(DATA.cost.title)})` : '') +
      (inSamples()
        ? ' \u2014 unknown for this data set: budgets are samples drawn per problem'
        : `; budgets in ${esc(unit())} per problem`) +
      (d.n_problems ? ` \u00B7 ${d.n_problems} problems` : '') +
      ` \u00B7 ${d.configs.length} configurations (${models} model${models > 1 ? 's' : ''} ` +
      `\u00D7 ${strategies} strateg${strategies > 1 ? 'ies' : 'y'})`;
    document.getElementById('provenance').innerHTML =
      `<b>Data:</b> ${esc(d.provenance || 'provenance not recorded')}`;
    document.title = `${DATA.title} \u2014 ${d.title}`;
    banner();
    chipsStrategies();
    chipsModels();
    chosenTable();
    return render();
  }

  function syncSegments() {
    for (const [id, key] of [
      ['ymode', 'y'],
      ['xmode', 'x'],
      ['intervals', 'intervals'],
    ]) {
      document.querySelectorAll(`#${id} button`).forEach((b) => {
        b.classList.toggle('on', b.dataset.value === state[key]);
      });
    }
  }

  function segmented(id, key, options) {
    const box = document.getElementById(id);
    for (const [value, label] of options) {
      const b = document.createElement('button');
      b.textContent = label;
      b.dataset.value = value;
      b.className = state[key] === value ? 'on' : '';
      b.addEventListener('click', () => {
        state[key] = value;
        if (key === 'x') state.xPref = value;
        box.querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
        render();
      });
      box.appendChild(b);
    }
  }

  function build() {
    const app = document.getElementById('app');
    app.innerHTML = `
      <header><h1 id="title">${esc(DATA.title)}</h1><div class="sub" id="subtitle"></div></header>
      <div class="banner" id="banner"></div>
      <div class="card controls">
        <div class="control"><label for="dataset">Data set</label>
          <select id="dataset"></select></div>
        <div class="control"><span class="name">Y axis</span>
          <div class="seg" id="ymode"></div></div>
        <div class="control"><span class="name">X axis</span>
          <div class="seg" id="xmode"></div></div>
        <div class="control"><span class="name">Intervals</span>
          <div class="seg" id="intervals"></div></div>
        <div class="control"><span class="name">Strategies</span>
          <div class="chips" id="strategies"></div></div>
        <div class="control grow"><span class="name" id="models-name">Models</span>
          <div class="chips" id="models"></div></div>
      </div>
      <div class="card budget">
        <span class="name">Budget</span><span class="ends" id="budget-min"></span>
        <input type="range" id="budget" min="0" max="0" step="1" value="0"
          aria-label="inference budget">
        <span class="ends" id="budget-max"></span><span class="value" id="budget-value"></span>
      </div>
      <div class="grid">
        <div class="card plot"><div id="frontier-plot"></div>
          <div class="note" id="frontier-note"></div></div>
        <div class="side">
          <div class="card panel" id="best"></div>
          <div class="card section" id="chosen"></div>
        </div>
        <div class="card plot" id="nopt-card"><div id="nopt-plot"></div>
          <div class="section" id="law"></div></div>
        <div class="side">
          <div class="card section"><h2>Drill-down: accuracy by difficulty level</h2>
            <div class="note" id="levels-note"></div><div id="levels-plot"></div></div>
        </div>
      </div>
      <footer><div id="provenance"></div>
        <div><b>Reading the plots:</b> markers are exact replays (the expectation over all
        k-subsets) with ${LEVEL} intervals on hover, drawn as bars and bands for the selected
        configurations (the best at the budget and a clicked one) or for all; lines are fitted
        laws, dashed where they extrapolate beyond the samples. The black staircase is the best
        exact point at no more than each cost among the ranked configurations; the grey dashed
        one is the oracle ceiling (hollow markers: oracle configurations, not ranked). Large
        markers are the configuration chosen at each budget of the grid: filled = exact replay,
        dotted = interpolated, hollow = extrapolated; the gold star is the choice at the slider's
        budget. Adaptive strategies sit at their expected samples drawn. Click a point to drill
        into it.</div>
        <div>Made with scaling ${esc(DATA.version)}; cost model <b>${esc(DATA.cost.name)}</b>
        (${esc(DATA.cost.unit)})${DATA.cost.title ? ': ' + esc(DATA.cost.title) : ''}.</div>
      </footer>`;
    const sel = document.getElementById('dataset');
    DATA.datasets.forEach((d, i) => {
      const o = document.createElement('option');
      o.value = i;
      o.textContent = d.title;
      sel.appendChild(o);
    });
    sel.disabled = DATA.datasets.length < 2;
    sel.addEventListener('change', () => selectDataset(+sel.value));
    segmented('ymode', 'y', [
      ['acc', 'Accuracy'],
      ['err', 'Error'],
    ]);
    segmented('xmode', 'x', [
      ['cost', 'Cost'],
      ['samples', 'Samples'],
    ]);
    segmented('intervals', 'intervals', [
      ['selected', 'Selected'],
      ['all', 'All'],
      ['none', 'None'],
    ]);
    document.getElementById('budget').addEventListener('input', (e) => setBudget(+e.target.value));
    const plot = document.getElementById('frontier-plot');
    return selectDataset(0).then(() => {
      plot.on('plotly_click', (ev) => {
        const pt = ev.points[0];
        const m = pt.data.meta;
        if (!m || m.role !== 'points') return;
        const c = ds().configs[m.config];
        state.selected = { config: c, k: c.points.k[pt.pointIndex], from: 'click' };
        render();
      });
    });
  }

  window.explorer = {
    data: DATA,
    state,
    render,
    setBudget,
    selectDataset,
    ready: false,
    startMs: START_MS,
  };
  // ready once the plots are drawn and the next frame has been laid out and painted
  build().then(() =>
    requestAnimationFrame(() =>
      setTimeout(() => {
        window.explorer.renderMs = performance.now();
        window.explorer.ready = true;
      }, 0),
    ),
  );
})();
