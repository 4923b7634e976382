/* The frontier explorer: renders the JSON in #explorer-data with the inlined plotly.js. */
(function () {
  'use strict';
  const START_MS = performance.now(); // plotly.js is evaluated by now
  const DATA = JSON.parse(document.getElementById('explorer-data').textContent);
  const SYMBOLS = {
    greedy: 'star',
    pass: 'circle',
    majority: 'square',
    best_of_n: 'diamond',
    weighted_majority: 'triangle-up',
  };
  const GLYPHS = {
    star: '\u2605',
    circle: '\u25CF',
    square: '\u25A0',
    diamond: '\u25C6',
    'triangle-up': '\u25B2',
    'triangle-down': '\u25BC',
    pentagon: '\u2B1F',
    hexagon: '\u2B22',
    cross: '\u271A',
    x: '\u2716',
  };
  const LAW_COLORS = ['#2f5bd3', '#0f8a6c', '#b5179e', '#6c757d'];
  const SPARE = ['triangle-down', 'pentagon', 'hexagon', 'cross', 'x'];
  const LABELS = {
    greedy: 'greedy',
    pass: 'pass@k (oracle)',
    majority: 'majority vote',
    best_of_n: 'best-of-n (ORM)',
    weighted_majority: 'weighted majority',
  };
  const SHORT = { majority: 'maj', best_of_n: 'bon', weighted_majority: 'wmaj' };
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
  const state = {
    ds: 0,
    y: 'acc',
    x: 'flops',
    xPref: 'flops',
    bands: 'all',
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
  function label(s) {
    return LABELS[s] || s;
  }
  function esc(s) {
    return String(s).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  }
  function rgba(color, alpha) {
    const m = color.match(/\d+(\.\d+)?/g);
    if (color[0] === '#') {
      const n = parseInt(color.slice(1), 16);
      return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
    }
    return `rgba(${m[0]},${m[1]},${m[2]},${alpha})`;
  }

  // ---------- data helpers ----------
  function ds() {
    return DATA.datasets[state.ds];
  }
  function symbolOf(strategy) {
    if (SYMBOLS[strategy]) return SYMBOLS[strategy];
    const others = ds().strategies.filter((s) => !SYMBOLS[s]);
    return SPARE[others.indexOf(strategy) % SPARE.length];
  }
  function hasFlops(c) {
    return c.points.flops.some((v) => v !== null);
  }
  function visible(c) {
    return state.strategies.has(c.strategy) && state.models.has(c.model);
  }
  function shown(c) {
    return visible(c) && (state.x === 'k' || hasFlops(c));
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
  function frontierAt(i) {
    const f = ds().frontier;
    if (!f) return null;
    return {
      budget: f.budget[i],
      config: ds().configs[f.config[i]],
      k: f.k[i],
      acc: f.acc[i],
      lo: f.lo[i],
      hi: f.hi[i],
      extrap: !!f.extrap[i],
      runner_up: f.runner_up[i],
      margin: f.margin[i],
      marginLo: f.margin_low ? f.margin_low[i] : null,
      marginHi: f.margin_high ? f.margin_high[i] : null,
      pBest: f.p_best ? f.p_best[i] : null,
    };
  }
  // the frontier's budget unit: FLOPs per problem, or samples per problem where FLOPs are unknown
  function unit() {
    return ds().frontier ? ds().frontier.unit : 'FLOPs';
  }
  function costAxis() {
    return unit() === 'FLOPs' ? 'flops' : 'k';
  }
  function budgetText(b, digits) {
    return unit() === 'FLOPs' ? `${sci(b, digits)} FLOPs` : `${+b.toPrecision(3)} samples`;
  }
  // where the budget sits on the current x axis (null: that axis does not show it)
  function budgetX(best) {
    return best && state.x === costAxis() ? best.budget : null;
  }
  function paretoPoints() {
    const pts = [];
    const axis = costAxis();
    for (const c of ds().configs) {
      if (!visible(c)) continue;
      c.points[axis].forEach((f, j) => {
        if (f !== null && c.points.acc[j] !== null) pts.push({ c, j, f, a: c.points.acc[j] });
      });
    }
    pts.sort((p, q) => p.f - q.f || q.a - p.a);
    const front = [];
    let best = -Infinity;
    for (const p of pts) {
      if (p.a > best) {
        front.push(p);
        best = p.a;
      }
    }
    return front;
  }
  function pointHover(c, j) {
    const p = c.points;
    return [
      c.model,
      params(c.params),
      label(c.strategy),
      p.k[j],
      tokens(p.tokens[j]),
      sci(p.flops[j]),
      pct(p.acc[j], 2),
      pct(p.lo[j], 2),
      pct(p.hi[j], 2),
    ];
  }
  const POINT_TEMPLATE =
    '<b>%{customdata[0]}</b> (%{customdata[1]} params)<br>' +
    'strategy: %{customdata[2]}, k = %{customdata[3]}<br>' +
    'tokens / problem: %{customdata[4]}<br>FLOPs / problem: %{customdata[5]}<br>' +
    'accuracy: <b>%{customdata[6]}</b> (95% CI %{customdata[7]} \u2013 %{customdata[8]})' +
    '<extra></extra>';

  // ---------- frontier view ----------
  function frontierTraces(best) {
    const bands = [],
      curves = [],
      points = [];
    const xs = state.x;
    for (const c of ds().configs) {
      if (!shown(c)) continue;
      const grp = 'c' + c.id;
      const name = `${c.model} \u00B7 ${label(c.strategy)}`;
      const hot = best && best.config.id === c.id;
      const cv = c.curve;
      const cx = cv && (xs === 'flops' ? cv.flops : cv.k);
      if (cv && cx) {
        if (state.bands === 'all' || (state.bands === 'best' && hot)) {
          const ylo_ = cv.lo.map((l, i) => ylo(l, cv.hi[i]));
          const yhi_ = cv.lo.map((l, i) => yhi(l, cv.hi[i]));
          bands.push({
            type: 'scatter',
            x: cx.concat(cx.slice().reverse()),
            y: yhi_.concat(ylo_.slice().reverse()),
            fill: 'toself',
            mode: 'lines',
            line: { width: 0 },
            fillcolor: rgba(c.color, hot ? 0.22 : 0.1),
            hoverinfo: 'skip',
            showlegend: false,
            legendgroup: grp,
            meta: { role: 'band', config: c.id },
          });
        }
        const custom = cv.pred.map((p, i) => [
          c.model,
          label(c.strategy),
          cv.flops ? sci(cv.flops[i]) : 'unknown',
          cv.k && cv.k[i] !== null ? cv.k[i].toFixed(1) : '\u2013',
          pct(p, 2),
          pct(cv.lo[i], 2),
          pct(cv.hi[i], 2),
          cv.extrap[i] ? 'extrapolated' : 'interpolated',
        ]);
        const tmpl =
          '<b>%{customdata[0]}</b> \u00B7 %{customdata[1]} (fit, %{customdata[7]})' +
          '<br>C = %{customdata[2]} FLOPs, k \u2248 %{customdata[3]}<br>' +
          'predicted accuracy %{customdata[4]} (95% %{customdata[5]} \u2013 %{customdata[6]})' +
          '<extra></extra>';
        const width = hot ? 3.5 : 1.8;
        curves.push({
          type: 'scatter',
          mode: 'lines',
          x: cx,
          y: cv.pred.map(yv),
          customdata: custom,
          hovertemplate: tmpl,
          line: { color: c.color, width, dash: 'dash' },
          showlegend: false,
          legendgroup: grp,
          meta: { role: 'curve-extrapolated', config: c.id },
        });
        curves.push({
          type: 'scatter',
          mode: 'lines',
          x: cx,
          y: cv.pred.map((p, i) => (cv.extrap[i] ? null : yv(p))),
          customdata: custom,
          hovertemplate: tmpl,
          line: { color: c.color, width },
          showlegend: false,
          legendgroup: grp,
          meta: { role: 'curve', config: c.id },
        });
      }
      const p = c.points;
      const y = p.acc.map(yv);
      points.push({
        type: 'scatter',
        mode: cv ? 'markers' : 'lines+markers',
        name,
        x: xs === 'flops' ? p.flops : p.k,
        y,
        legendgroup: grp,
        marker: {
          symbol: symbolOf(c.strategy),
          color: c.color,
          size: hot ? 11 : 8,
          line: { color: hot ? '#111' : '#fff', width: hot ? 1.5 : 0.8 },
        },
        line: { color: c.color, width: 1, dash: 'dot' },
        error_y: {
          type: 'data',
          symmetric: false,
          thickness: 1,
          width: 2,
          color: rgba(c.color, 0.55),
          array: p.acc.map((a, j) => yhi(p.lo[j], p.hi[j]) - yv(a)),
          arrayminus: p.acc.map((a, j) => yv(a) - ylo(p.lo[j], p.hi[j])),
        },
        customdata: p.k.map((_, j) => pointHover(c, j)),
        hovertemplate: POINT_TEMPLATE,
        meta: { role: 'points', config: c.id },
      });
    }
    const traces = bands.concat(curves);
    if (state.x === costAxis()) {
      const front = paretoPoints();
      if (front.length) {
        const last = front[front.length - 1];
        traces.push({
          type: 'scatter',
          mode: 'lines',
          name: 'Pareto frontier (observed)',
          x: front.map((q) => q.f).concat([last.f]),
          y: front.map((q) => yv(q.a)).concat([yv(last.a)]),
          line: { color: '#111', width: 2.2, shape: 'hv' },
          opacity: 0.75,
          hoverinfo: 'skip',
          meta: { role: 'pareto', n: front.length, configs: front.map((q) => q.c.id) },
        });
      }
    }
    traces.push(...points);
    const starX = state.x === 'k' ? best && best.k : budgetX(best);
    if (best && starX !== null) {
      traces.push({
        type: 'scatter',
        mode: 'markers',
        x: [starX],
        y: [yv(best.acc)],
        name: `Best at budget: ${best.config.model} \u00B7 ${label(best.config.strategy)}`,
        marker: { symbol: 'star', size: 21, color: '#f2b705', line: { color: '#111', width: 1.5 } },
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
            best.config.model,
            label(best.config.strategy),
            best.k,
            pct(best.acc, 2),
            pct(best.lo, 2),
            pct(best.hi, 2),
            sci(best.budget),
          ],
        ],
        hovertemplate:
          '<b>best at C = %{customdata[6]}</b><br>%{customdata[0]} \u00B7 ' +
          '%{customdata[1]}, k = %{customdata[2]}<br>predicted %{customdata[3]} ' +
          '(95% %{customdata[4]} \u2013 %{customdata[5]})<extra></extra>',
        meta: { role: 'best', config: best.config.id, k: best.k, budget: best.budget },
      });
    }
    return traces;
  }

  function axisTitleX() {
    return state.x === 'flops'
      ? 'Inference compute C (FLOPs per problem, log scale)'
      : 'Samples per problem k (log scale)';
  }
  function axisTitleY() {
    return state.y === 'acc'
      ? 'Accuracy (fraction of problems solved)'
      : 'Error rate, 1 \u2212 accuracy (log scale)';
  }

  function frontierLayout(best) {
    const shapes = [],
      annotations = [];
    const bx = budgetX(best);
    if (bx !== null) {
      shapes.push({
        type: 'line',
        xref: 'x',
        yref: 'paper',
        x0: bx,
        x1: bx,
        y0: 0,
        y1: 1,
        line: { color: '#f2b705', width: 2, dash: 'dot' },
      });
      annotations.push({
        xref: 'x',
        yref: 'paper',
        x: Math.log10(bx),
        y: 1,
        yanchor: 'bottom',
        text: `budget ${budgetText(bx)}`,
        showarrow: false,
        font: { size: 11.5, color: '#8a6700' },
      });
    }
    return {
      font: FONT,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      height: 640,
      margin: { l: 70, r: 10, t: 36, b: 58 },
      hovermode: 'closest',
      title: {
        text:
          `Frontier: ${state.y === 'acc' ? 'accuracy' : 'error'} against ` +
          (state.x === 'flops' ? 'inference compute' : 'samples per problem'),
        x: 0.01,
        y: 0.985,
        font: { size: 14 },
      },
      xaxis: {
        type: 'log',
        title: { text: axisTitleX() },
        exponentformat: 'power',
        gridcolor: '#eef0f4',
        zeroline: false,
        showline: true,
        linecolor: '#c4cad4',
      },
      yaxis: {
        type: state.y === 'acc' ? 'linear' : 'log',
        title: { text: axisTitleY() },
        tickformat: state.y === 'acc' ? '.0%' : '.3~%',
        gridcolor: '#eef0f4',
        zeroline: false,
        showline: true,
        linecolor: '#c4cad4',
      },
      legend: {
        x: 1.01,
        y: 1,
        xanchor: 'left',
        font: { size: 11.5 },
        itemsizing: 'constant',
        title: {
          text:
            'model \u00B7 strategy<br><span style="font-size:10.5px;color:#5f6b7a">' +
            'solid: fit \u00B7 dashed: extrapolated</span>',
        },
        bgcolor: 'rgba(255,255,255,0.9)',
        tracegroupgap: 2,
      },
      shapes,
      annotations,
    };
  }

  // ---------- compute-optimal view ----------
  function noptTraces(best) {
    const d = ds(),
      traces = [];
    (d.nopt || []).forEach((n, i) => {
      const color = LAW_COLORS[i % LAW_COLORS.length];
      const law = (d.law || []).find((l) => l.label === n.law);
      traces.push({
        type: 'scatter',
        mode: 'lines',
        x: n.budget.concat(n.budget.slice().reverse()),
        y: n.hi.concat(n.lo.slice().reverse()),
        fill: 'toself',
        fillcolor: rgba(color, 0.12),
        line: { width: 0 },
        hoverinfo: 'skip',
        name: '95% band',
        legendgroup: 'law' + i,
        showlegend: false,
        meta: { role: 'law-band', law: n.law },
      });
      const name = law
        ? `${esc(n.law)}: N_opt = ${sci(law.G, 2)} \u00B7 C^${law.a.toFixed(3)}`
        : esc(n.law);
      traces.push({
        type: 'scatter',
        mode: 'lines',
        x: n.budget,
        y: n.n,
        name: name + ' (95% band)',
        line: { color, width: 2.5, dash: i ? 'dash' : 'solid' },
        legendgroup: 'law' + i,
        customdata: n.budget.map((b, j) => [
          sci(b),
          params(n.n[j]),
          params(n.lo[j]),
          params(n.hi[j]),
        ]),
        hovertemplate:
          'C = %{customdata[0]} FLOPs<br>N_opt = <b>%{customdata[1]}</b> ' +
          `(95% %{customdata[2]} \u2013 %{customdata[3]})<extra>${esc(n.law)}</extra>`,
        meta: { role: 'law', law: n.law },
      });
    });
    const f = unit() === 'FLOPs' ? d.frontier : null; // this plot's x axis is FLOPs
    if (f) {
      for (const s of d.strategies) {
        const idx = f.budget
          .map((_, i) => i)
          .filter((i) => f.strategy[i] === s && d.configs[f.config[i]].params !== null);
        if (!idx.length) continue;
        traces.push({
          type: 'scatter',
          mode: 'markers',
          name: `chosen: ${label(s)}`,
          x: idx.map((i) => f.budget[i]),
          y: idx.map((i) => d.configs[f.config[i]].params),
          marker: {
            size: 10,
            color: idx.map((i) => d.configs[f.config[i]].color),
            symbol: idx.map((i) => symbolOf(s) + (f.extrap[i] ? '-open' : '')),
            line: { color: '#fff', width: 0.8 },
          },
          customdata: idx.map((i) => [
            sci(f.budget[i]),
            f.model[i],
            params(d.configs[f.config[i]].params),
            label(s),
            f.k[i],
            pct(f.acc[i], 2),
            pct(f.lo[i], 2),
            pct(f.hi[i], 2),
            f.extrap[i] ? 'extrapolated' : 'interpolated',
          ]),
          hovertemplate:
            'C = %{customdata[0]} FLOPs<br><b>%{customdata[1]}</b> ' +
            '(%{customdata[2]}) \u00B7 %{customdata[3]}, k = %{customdata[4]}<br>predicted ' +
            '%{customdata[5]} (95% %{customdata[6]} \u2013 %{customdata[7]}), %{customdata[8]}' +
            '<extra></extra>',
          meta: { role: 'chosen', strategy: s },
        });
      }
    }
    if (f && best && best.config.params !== null) {
      traces.push({
        type: 'scatter',
        mode: 'markers',
        x: [best.budget],
        y: [best.config.params],
        name: 'at the slider budget',
        marker: { size: 22, color: 'rgba(0,0,0,0)', line: { color: '#f2b705', width: 3 } },
        hoverinfo: 'skip',
        meta: { role: 'best', config: best.config.id },
      });
    }
    return traces;
  }

  // ticks labelled like model cards (100M, 200M, 1B): 1-2-5 per decade, every digit when the
  // sizes span less than a decade
  function sizeTicks(traces) {
    const ys = traces.flatMap((t) => t.y).filter((v) => v > 0);
    if (!ys.length) return {};
    const [min, max] = [Math.min(...ys), Math.max(...ys)];
    const digits = max / min < 10 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : [1, 2, 5];
    const vals = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of digits) vals.push(m * Math.pow(10, e));
    }
    return { tickvals: vals, ticktext: vals.map(params) };
  }

  function noptLayout(best, traces) {
    const shapes =
      best && unit() === 'FLOPs'
        ? [
            {
              type: 'line',
              xref: 'x',
              yref: 'paper',
              x0: best.budget,
              x1: best.budget,
              y0: 0,
              y1: 1,
              line: { color: '#f2b705', width: 2, dash: 'dot' },
            },
          ]
        : [];
    return {
      font: FONT,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      height: 400,
      margin: { l: 70, r: 10, t: 36, b: 56 },
      hovermode: 'closest',
      shapes,
      title: {
        text: 'Compute-optimal model size N_opt against budget',
        x: 0.01,
        y: 0.975,
        font: { size: 14 },
      },
      xaxis: {
        type: 'log',
        title: { text: 'Inference budget C (FLOPs per problem, log scale)' },
        exponentformat: 'power',
        gridcolor: '#eef0f4',
        showline: true,
        linecolor: '#c4cad4',
      },
      yaxis: {
        type: 'log',
        title: { text: 'Model size N (parameters, log scale)' },
        ...sizeTicks(traces),
        gridcolor: '#eef0f4',
        showline: true,
        linecolor: '#c4cad4',
      },
      legend: { x: 0.01, y: 0.99, bgcolor: 'rgba(255,255,255,0.85)', font: { size: 11.5 } },
    };
  }

  // ---------- drill-down ----------
  function selection(best) {
    if (state.selected) return state.selected;
    if (best) return { config: best.config, k: best.k, from: 'budget' };
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
      el.innerHTML =
        `${esc(sel.config.model)} \u00B7 ${esc(label(sel.config.strategy))}: ` +
        'this run records no difficulty levels.';
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
      `<b>${esc(sel.config.model)} \u00B7 ${esc(label(sel.config.strategy))}</b>, ` +
      `k = ${k}` +
      (k !== sel.k ? ` <span class="muted">(nearest simulated to k = ${sel.k})</span>` : '') +
      {
        budget: ' <span class="muted">\u2014 best at the budget</span>',
        top: ' <span class="muted">\u2014 most accurate point; click a point to choose</span>',
        click:
          ' <span class="muted">\u2014 clicked</span> <button class="linkbtn" id="follow">' +
          'follow budget</button>',
      }[sel.from];
    const layout = {
      font: FONT,
      height: 250,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      margin: { l: 50, r: 10, t: 10, b: 40 },
      barmode: 'group',
      bargap: 0.25,
      xaxis: { title: { text: 'Difficulty level' } },
      yaxis: {
        title: { text: 'Accuracy' },
        tickformat: '.0%',
        range: [0, 1.05],
        gridcolor: '#eef0f4',
      },
      legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom' },
    };
    return { traces, layout };
  }

  // ---------- panels ----------
  function bestPanel(best) {
    const el = document.getElementById('best');
    if (!best) {
      el.innerHTML =
        '<h2>Best at budget</h2><div class="muted">No compute frontier for this data ' +
        'set: its FLOPs are unknown (no token counts or model size), so configurations are ' +
        'compared at equal samples k instead.</div>';
      return;
    }
    const c = best.config;
    const hidden = visible(c) ? '' : '<span class="badge hid">hidden by filters</span>';
    const ext = best.extrap
      ? '<span class="badge ext">extrapolated</span>'
      : '<span class="badge int">interpolated</span>';
    const front = paretoPoints().filter((q) => q.f <= best.budget);
    const obs = front.length ? front[front.length - 1] : null;
    el.innerHTML =
      `<h2>Best at ${unit() === 'FLOPs' ? 'C = ' : ''}${budgetText(best.budget)} / problem</h2>` +
      `<div class="cfg" id="best-config"><span class="sw" style="background:${c.color}"></span>` +
      `${esc(c.model)} \u00B7 ${esc(label(c.strategy))}, k = ${best.k}${hidden}</div>` +
      `<div class="muted">${params(c.params)} parameters</div>` +
      `<div class="acc">${pct(best.acc, 1)}${ext}</div>` +
      '<div class="ci">predicted accuracy, 95% interval ' +
      `${pct(best.lo, 1)} \u2013 ${pct(best.hi, 1)}</div>` +
      `<div class="row"><b>Runner-up:</b> ${esc(best.runner_up || 'none')}` +
      (best.margin !== null
        ? `<br><span class="muted">margin ${(100 * best.margin).toFixed(2)} points` +
          (best.marginLo !== null && best.marginHi !== null
            ? ` (95% CI ${(100 * best.marginLo).toFixed(2)} to ${(100 * best.marginHi).toFixed(2)})`
            : '') +
          '</span>'
        : '') +
      (best.pBest !== null
        ? `<br><span class="muted">best in ${pct(best.pBest, 0)} of bootstrap replicates</span>`
        : '') +
      '</div>' +
      (obs
        ? '<div class="row"><b>Observed frontier</b> ' +
          '<span class="muted">(best point at \u2264 C among shown):</span><br>' +
          `${esc(obs.c.model)} \u00B7 ${esc(label(obs.c.strategy))}, ` +
          `k = ${obs.c.points.k[obs.j]}: ` +
          `${pct(obs.a, 1)} at ${budgetText(obs.f)}</div>`
        : '');
  }

  function lawPanel() {
    const d = ds(),
      el = document.getElementById('law');
    if (d.law) {
      el.innerHTML =
        '<h2>Compute-optimal model size</h2>' +
        d.law
          .map(
            (l) =>
              `<div class="law"><b>${esc(l.label)}</b><br>` +
              '<code>N_opt(C) = G \u00B7 C<sup>a</sup></code>, ' +
              `G = ${sci(l.G, 3)}, <b>a = ${l.a.toFixed(3)}</b> ` +
              `(95% CI ${l.a_low.toFixed(3)} \u2013 ${l.a_high.toFixed(3)})</div>`,
          )
          .join('') +
        '<div class="note">Markers: the configuration chosen at each budget (hollow where its ' +
        'prediction extrapolates).</div>';
    } else {
      el.innerHTML =
        '<h2>Compute-optimal model size</h2><div class="note">No N_opt law for this ' +
        'data set (it needs a model family of three or more known sizes).</div>';
    }
    const f = d.frontier;
    if (!f) return;
    const rows = f.budget.map(
      (b, i) =>
        `<tr data-i="${i}" title="95% interval ` +
        `${pct(f.lo[i], 1)} \u2013 ${pct(f.hi[i], 1)}${f.extrap[i] ? ', extrapolated' : ''}">` +
        `<td>${unit() === 'FLOPs' ? sci(b, 1) : +b.toPrecision(3)}</td>` +
        `<td><span class="sw" style="background:${d.configs[f.config[i]].color}">` +
        `</span>${esc(f.model[i])}</td><td>${GLYPHS[symbolOf(f.strategy[i])] || ''} ` +
        `${esc(SHORT[f.strategy[i]] || f.strategy[i])}</td><td>${f.k[i]}</td>` +
        `<td>${pct(f.acc[i], 1)}` +
        `${f.extrap[i] ? '<span class="ext">*</span>' : ''}</td></tr>`,
    );
    el.innerHTML +=
      '<h2 style="margin-top:10px">Chosen configuration per budget</h2>' +
      '<div class="tablewrap"><table class="chosen"><thead><tr>' +
      `<th>${unit() === 'FLOPs' ? 'C (FLOPs)' : 'k budget'}</th><th>model</th>` +
      '<th>strategy</th><th>k</th><th>accuracy</th></tr></thead><tbody>' +
      rows.join('') +
      '</tbody></table></div><div class="note">* extrapolated beyond the observed budgets; ' +
      'maj = majority vote, bon = best-of-n, wmaj = weighted majority. Hover a row for its ' +
      'interval, click it to move the budget.</div>';
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
    const nopt = noptTraces(best);
    const out = [
      Plotly.react('frontier-plot', frontierTraces(best), frontierLayout(best), PLOT_CONFIG),
    ];
    const noptPlot = document.getElementById('nopt-plot');
    noptPlot.style.display = nopt.length ? '' : 'none';
    document.getElementById('nopt-note').textContent = nopt.length
      ? ''
      : 'Compute-optimal model size: nothing to show for this data set (it needs a frontier ' +
        'over FLOPs and models of known size).';
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
    const missing = ds().configs.filter((c) => visible(c) && !hasFlops(c));
    document.getElementById('frontier-note').textContent =
      state.x === 'flops' && missing.length
        ? `Not on the FLOPs axis (model size or token counts unknown): ${missing
            .map((c) => `${c.model} \u00B7 ${label(c.strategy)}`)
            .join(', ')}. Switch the x axis to samples to see them.`
        : '';
    bestPanel(best);
    budgetLabel(best);
    markTableRow();
    return Promise.all(out).then(() => undefined);
  }

  function budgetLabel(best) {
    document.getElementById('budget-value').textContent = best
      ? `${unit() === 'FLOPs' ? 'C' : 'k'} = ${budgetText(best.budget)} / problem`
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
      const b = document.createElement('button');
      b.className = 'chip' + (state.strategies.has(s) ? '' : ' off');
      b.dataset.strategy = s;
      b.innerHTML = `<span class="sym">${GLYPHS[symbolOf(s)] || '\u25CF'}</span>${esc(label(s))}`;
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
      b.innerHTML =
        `<span class="sw" style="background:${m.color}"></span>${esc(m.model)}` +
        `<span class="np">${params(m.params)}</span>`;
      b.addEventListener('click', () => {
        if (state.models.has(m.model)) state.models.delete(m.model);
        else state.models.add(m.model);
        b.classList.toggle('off');
        render();
      });
      box.appendChild(b);
    }
    const sized = d.models.filter((m) => m.params !== null);
    if (sized.length > 1) {
      const key = document.createElement('span');
      key.className = 'sizekey';
      const stops = sized
        .slice()
        .reverse()
        .map((m) => m.color)
        .join(',');
      key.innerHTML =
        `${params(sized[0].params)}<span class="ramp" style="background:` +
        `linear-gradient(90deg,${stops})"></span>${params(sized[sized.length - 1].params)}`;
      box.appendChild(key);
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

  function selectDataset(i) {
    state.ds = i;
    const d = ds();
    state.strategies = new Set(d.strategies);
    state.models = new Set(d.models.map((m) => m.model));
    state.selected = null;
    const flopsOk = d.configs.some(hasFlops);
    state.x = flopsOk ? state.xPref : 'k';
    state.bands = d.configs.length > 8 ? 'best' : 'all'; // many bands at once are unreadable
    document.querySelector('#xmode button[data-value=flops]').disabled = !flopsOk;
    syncSegments();
    const nb = d.frontier ? d.frontier.budget.length : 1;
    const slider = document.getElementById('budget');
    slider.max = nb - 1;
    state.budget = Math.floor((nb - 1) / 2);
    slider.value = state.budget;
    slider.disabled = !d.frontier;
    document.getElementById('dataset').value = i;
    document.getElementById('budget-min').textContent = d.frontier
      ? budgetText(d.frontier.budget[0], 1)
      : '';
    document.getElementById('budget-max').textContent = d.frontier
      ? budgetText(d.frontier.budget[nb - 1], 1)
      : '';
    document.getElementById('title').textContent = `${DATA.title} \u2014 ${d.title}`;
    document.getElementById('subtitle').innerHTML =
      `FLOPs accounting: <b>${esc(DATA.flops)}</b>` +
      (DATA.flops_note ? ` (${esc(DATA.flops_note)})` : '') +
      (flopsOk ? '' : ' \u2014 unknown for this data set, budgets are samples per problem') +
      (d.n_problems ? ` \u00B7 ${d.n_problems} problems` : '') +
      ` \u00B7 ${d.configs.length} configurations (model \u00D7 strategy)`;
    document.getElementById('provenance').innerHTML =
      `<b>Data:</b> ${esc(d.provenance || 'provenance not recorded')}`;
    document.title = `${DATA.title} \u2014 ${d.title}`;
    chipsStrategies();
    chipsModels();
    lawPanel();
    return render();
  }

  function syncSegments() {
    for (const [id, key] of [
      ['ymode', 'y'],
      ['xmode', 'x'],
      ['bands', 'bands'],
    ]) {
      document.querySelectorAll(`#${id} button`).forEach((b) => {
        b.classList.toggle('on', b.dataset.value === state[key]);
      });
    }
  }

  function segmented(id, key, options) {
    const box = document.getElementById(id);
    for (const [value, text] of options) {
      const b = document.createElement('button');
      b.textContent = text;
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
      <div class="card controls">
        <div class="control"><label for="dataset">Data set</label>
          <select id="dataset"></select></div>
        <div class="control"><span class="name">Y axis</span>
          <div class="seg" id="ymode"></div></div>
        <div class="control"><span class="name">X axis</span>
          <div class="seg" id="xmode"></div></div>
        <div class="control"><span class="name">Fit bands</span>
          <div class="seg" id="bands"></div></div>
        <div class="control"><span class="name">Strategies</span>
          <div class="chips" id="strategies"></div></div>
        <div class="control grow"><span class="name">Models (colour = size)</span>
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
          <div class="card section"><h2>Drill-down: accuracy by difficulty level</h2>
            <div class="note" id="levels-note"></div><div id="levels-plot"></div></div>
        </div>
        <div class="card plot"><div id="nopt-plot"></div>
          <div class="note" id="nopt-note"></div></div>
        <div class="card section" id="law"></div>
      </div>
      <footer><div id="provenance"></div>
        <div><b>Reading the plots:</b> markers are observed accuracies with 95% intervals; lines are
        fitted curves with 95% bands (dashed where they extrapolate beyond the observed compute); the
        black staircase is the Pareto frontier of the observed points shown; the gold star is the
        best configuration predicted at the slider's budget. Click a point to drill into it.</div>
        <div>Made with scaling ${esc(DATA.version)}; FLOPs accounting
        <b>${esc(DATA.flops)}</b>${DATA.flops_note ? ': ' + esc(DATA.flops_note) : ''}.</div></footer>`;
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
      ['flops', 'FLOPs'],
      ['k', 'Samples k'],
    ]);
    segmented('bands', 'bands', [
      ['all', 'All'],
      ['best', 'Best'],
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
