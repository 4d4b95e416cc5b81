// Result views for the query editor, as YASR plugins: a table whose IRIs carry their labels and
// whose literals show their value (datatype or language on hover), and — drawn with Apache
// ECharts — a map (rows with coordinates or WKT points), a bar chart (a label and numbers), a
// timeline (dates and fiscal years) and a network (CONSTRUCT / DESCRIBE answers). The view that
// fits best is chosen for each new answer, as the Wikidata Query Service does; the others stay a
// click away. Loaded before sparql-ui.js, which builds the editor.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("kouiki-config").textContent);
  const Yasr = Yasgui.Yasr;
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(["integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
    "unsignedLong", "unsignedShort", "unsignedByte"].map((t) => XSD + t));
  const TEMPORAL = new Set(["date", "dateTime", "gYear", "gYearMonth"].map((t) => XSD + t));
  const WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
  const LABELS = ["http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://purl.org/dc/terms/title", "http://xmlns.com/foaf/0.1/name", "http://schema.org/name"];
  const PALETTE = ["#0072B2", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8a6d00", "#6b7785", "#000000"];

  const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  function compact(iri, prefixes) {  // the query's own prefixes first, then the endpoint's
    for (const [prefix, namespace] of Object.entries(Object.assign({}, config.prefixes, prefixes || {}))) {
      if (iri.startsWith(namespace) && iri.length > namespace.length) return prefix + ":" + iri.slice(namespace.length);
    }
    return iri;
  }

  // --- labels: one query for the IRIs of an answer, kept for the page's life -----------------------
  const labels = new Map();  // IRI → {text, lang}
  function better(found, candidate) {  // the page's language, then Japanese, English, untagged, any
    const rank = (lang) => [config.lang, "ja", "en", ""].indexOf(lang) + 1 || 9;
    return !found || rank(candidate.lang) < rank(found.lang) ? candidate : found;
  }
  async function fetchLabels(iris) {
    const wanted = [...new Set(iris)].filter((iri) => !labels.has(iri) && !/[\s<>"{}|^`\\]/.test(iri)).slice(0, 1000);
    if (!wanted.length) return;
    wanted.forEach((iri) => labels.set(iri, null));  // asked: not again
    const query = "SELECT ?s ?l WHERE { VALUES ?s { " + wanted.map((iri) => "<" + iri + ">").join(" ") + " } ?s " +
      LABELS.map((p) => "<" + p + ">").join("|") + " ?l }";
    try {
      const response = await fetch(config.endpoint, {
        method: "POST", body: new URLSearchParams({ query: query }),
        headers: { Accept: "application/sparql-results+json" },
      });
      if (!response.ok) return;  // labels are a courtesy: the answer shows without them
      const answer = await response.json();
      answer.results.bindings.forEach((row) => {
        const candidate = { text: row.l.value, lang: row.l["xml:lang"] || "" };
        labels.set(row.s.value, better(labels.get(row.s.value), candidate));
      });
    } catch (e) { /* offline or refused: IRIs show without labels */ }
  }
  const labelOf = (iri) => labels.get(iri) || null;
  const nameOf = (term) => term.type === "uri" ? (labelOf(term.value) || { text: compact(term.value) }).text : term.value;

  // --- the table: labels beside IRIs, values with their datatype on hover ------------------------------
  class LabelledTable extends Yasr.plugins.table {
    async draw(...args) {
      const results = this.yasr.results;
      const iris = [];
      (results.getBindings() || []).forEach((row) => Object.values(row).forEach((t) => t.type === "uri" && iris.push(t.value)));
      await fetchLabels(iris);
      return super.draw(...args);
    }
    getCellContent(binding, prefixes) {
      if (binding.type === "uri") {
        const label = labelOf(binding.value);
        if (!label) return super.getCellContent(binding, prefixes);
        const lang = label.lang && label.lang.split("-")[0] !== config.lang ? ` lang="${escapeHtml(label.lang)}"` : "";
        return `<div><a class="iri labelled" href="${escapeHtml(binding.value)}" title="${escapeHtml(binding.value)}"${lang}>` +
          `${escapeHtml(label.text)}</a> <span class="iri-id">${escapeHtml(compact(binding.value, prefixes))}</span></div>`;
      }
      if (binding.type === "bnode") return `<div><span class="nonIri">_:${escapeHtml(binding.value)}</span></div>`;
      const tag = binding["xml:lang"];
      const hint = tag ? "@" + tag : binding.datatype ? compact(binding.datatype, prefixes) : "xsd:string";
      const lang = tag && tag.split("-")[0] !== config.lang ? ` lang="${escapeHtml(tag)}"` : "";
      const number = binding.datatype && NUMERIC.has(binding.datatype) ? " number" : "";
      return `<div><span class="nonIri literal${number}" title="${escapeHtml(hint)}"${lang}>${escapeHtml(binding.value)}</span></div>`;
    }
  }
  Yasr.registerPlugin("table", LabelledTable);

  // --- what an answer holds ------------------------------------------------------------------------
  function rows(yasr) {
    const results = yasr.results;
    if (!results || results.getType() !== "json" || !results.getVariables()) return null;
    return { vars: results.getVariables(), bindings: results.getBindings() || [] };
  }
  const isNumber = (t) => t && t.type !== "uri" && NUMERIC.has(t.datatype);
  const TIME = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/;
  const isTime = (t) => t && t.type !== "uri" && (TEMPORAL.has(t.datatype) || (!t.datatype && /^\d{4}-\d{2}(-\d{2})?$/.test(t.value)));
  // a column of years by its name (fiscalYear, year, 年度): a fiscal year starts in April, as kk:fiscalYear does
  const YEARS = /year|nendo|年度|^fy$/i, FISCAL = /fiscal|nendo|年度|^fy$/i;
  const isYear = (t) => t && t.type !== "uri" && NUMERIC.has(t.datatype) && /^(18[6-9]\d|19\d\d|20\d\d|2100)$/.test(t.value);
  const timed = (data, row, v) => isTime(row[v]) || (YEARS.test(v) && isYear(row[v]));
  function column(data, test) {  // the first variable whose bound values all pass the test
    return data.vars.find((v) => {
      const bound = data.bindings.filter((row) => row[v]);
      return bound.length > 0 && bound.every((row) => test(row[v]));
    });
  }
  function point(data, row) {  // [long, lat] of a row, from lat/long columns or a WKT point
    const lat = data.vars.find((v) => /^(lat|latitude)$/i.test(v)), long = data.vars.find((v) => /^(long|lon|lng|longitude)$/i.test(v));
    if (lat && long && row[lat] && row[long]) return [Number(row[long].value), Number(row[lat].value)];
    for (const v of data.vars) {
      const t = row[v];
      const m = t && t.datatype === WKT && /POINT\s*\(\s*([-\d.]+)\s+([-\d.]+)\s*\)/i.exec(t.value);
      if (m) return [Number(m[1]), Number(m[2])];
    }
    return null;
  }
  function labelColumn(data, skip) {  // what names a row: a text column, else an IRI column (by its label)
    return data.vars.find((v) => !skip.includes(v) && data.bindings.some((r) => r[v] && r[v].type !== "uri" && !isNumber(r[v]) && !isTime(r[v])))
      || data.vars.find((v) => !skip.includes(v) && data.bindings.some((r) => r[v] && r[v].type === "uri"));
  }
  function groupColumn(data, skip) {  // a column with a few repeated values, to colour by (a role, a kind)
    return data.vars.find((v) => {
      if (skip.includes(v)) return false;
      const values = new Set(data.bindings.map((r) => r[v] && r[v].value).filter(Boolean));
      return values.size >= 1 && values.size <= 8 && values.size < data.bindings.length;
    });
  }
  const describe = (data, row) => data.vars.filter((v) => row[v])
    .map((v) => `<b>${escapeHtml(v)}</b>: ${escapeHtml(nameOf(row[v]))}`).join("<br>");

  const ICONS = {
    map: "M8 1a5 5 0 0 0-5 5c0 3.6 5 9 5 9s5-5.4 5-9a5 5 0 0 0-5-5zm0 7a2 2 0 1 1 0-4 2 2 0 0 1 0 4z",
    chart: "M1 14h14v1H1zM2 8h3v5H2zM6.5 3h3v10h-3zM11 6h3v7h-3z",
    timeline: "M1 7.5h14v1H1zM3 5h2v6H3zM7 3h2v10H7zM11 6h2v4h-2z",
    network: "M3 2a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm10 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM8 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM4.3 5.2l3.3 5 .8-.5-3.3-5zm7.4 0-3.3 5-.8-.5 3.3-5zM5 3.5h6v1H5z",
  };

  // --- a view drawn with ECharts ------------------------------------------------------------------------
  class ChartView {
    constructor(yasr, name, priority) {
      this.yasr = yasr;
      this.name = name;
      this.priority = priority;
      this.label = config.views[name];
      this.chart = null;
    }
    getIcon() {  // a small drawing of the view, in the button's colour
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 16 16");
      svg.setAttribute("class", "view-icon");
      svg.setAttribute("aria-hidden", "true");
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", ICONS[this.name]);
      svg.appendChild(path);
      return svg;
    }
    async draw() {
      const option = await this.option();
      const box = document.createElement("div");
      box.className = "result-view result-view-" + this.name;
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", config.views[this.name + "_aria"]);
      box.style.height = (option.height || 480) + "px";
      delete option.height;
      this.yasr.resultsEl.appendChild(box);
      this.chart = echarts.init(box, null, { renderer: "svg", locale: config.lang === "ja" ? "JA" : "EN" });
      this.chart.setOption(Object.assign({ animation: false, textStyle: { fontSize: 12 } }, option));
      this.resize = () => this.chart && this.chart.resize();
      window.addEventListener("resize", this.resize);
    }
    destroy() {
      if (this.chart) this.chart.dispose();
      this.chart = null;
      window.removeEventListener("resize", this.resize);
    }
  }

  let japan = null;  // our own outlines (static/geo/japan.geojson), fetched once
  async function loadJapan() {
    if (!japan) {
      const geo = await (await fetch(config.geoUrl)).json();
      const land = geo.features.filter((f) => f.geometry.type !== "MultiLineString");
      echarts.registerMap("japan", { type: "FeatureCollection", features: land.map((f) => Object.assign({}, f,
        { properties: { name: f.id } })) });
      japan = geo.features.find((f) => f.geometry.type === "MultiLineString").geometry.coordinates;
    }
    return japan;
  }

  class MapView extends ChartView {
    constructor(yasr) { super(yasr, "map", 40); }
    canHandleResults() {
      const data = rows(this.yasr);
      return !!data && data.bindings.length > 0 && data.bindings.filter((r) => point(data, r)).length >= data.bindings.length / 2;
    }
    async option() {
      const data = rows(this.yasr);
      const borders = await loadJapan();
      const coordinates = new Set(data.vars.filter((v) => /^(lat|latitude|long|lon|lng|longitude)$/i.test(v)));
      const name = labelColumn(data, [...coordinates]);
      await fetchLabels(data.bindings.map((r) => name && r[name] && r[name].type === "uri" ? r[name].value : null).filter(Boolean));
      const group = groupColumn(data, [...coordinates, name]);
      const located = data.bindings.map((row) => ({ row, at: point(data, row) })).filter((p) => p.at);
      const groups = new Map();
      located.forEach(({ row, at }) => {
        const key = group && row[group] ? nameOf(row[group]) : config.views.map_points;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push({ name: name && row[name] ? nameOf(row[name]) : "", value: at, row });
      });
      const longs = located.map((p) => p.at[0]), lats = located.map((p) => p.at[1]);
      const pad = Math.max(0.4, (Math.max(...lats) - Math.min(...lats)) * 0.15);
      return {
        height: 560,
        tooltip: { trigger: "item", formatter: (p) => p.data && p.data.row ? describe(data, p.data.row) : "" },
        legend: { top: 4, type: "scroll" },
        geo: { map: "japan", roam: true, silent: true, top: 36, bottom: 8,
               boundingCoords: [[Math.min(...longs) - pad, Math.max(...lats) + pad], [Math.max(...longs) + pad, Math.min(...lats) - pad]],
               itemStyle: { areaColor: "#fbfaf5", borderColor: "#8a96a3" }, emphasis: { disabled: true } },
        series: [{ type: "lines", coordinateSystem: "geo", polyline: true, silent: true, z: 1,
                   data: borders.map((line) => ({ coords: line })), lineStyle: { color: "#a3adb8", width: 0.6, type: "dashed" } }]
          .concat([...groups.entries()].map(([key, points], index) => ({
            type: "scatter", coordinateSystem: "geo", name: key, data: points, symbolSize: 9, z: 3,
            itemStyle: { color: PALETTE[index % PALETTE.length], borderColor: "#fff", borderWidth: 1 },
            label: { show: true, position: "right", formatter: "{b}", fontSize: 11, color: "#1d2733",
                     textBorderColor: "#fff", textBorderWidth: 3 },
            labelLayout: { hideOverlap: true },
          }))),
      };
    }
  }

  class BarView extends ChartView {
    constructor(yasr) { super(yasr, "chart", 20); }
    canHandleResults() {
      const data = rows(this.yasr);
      if (!data || data.bindings.length < 3 || data.bindings.length > 500) return false;  // a chart of one or two bars says nothing
      const number = column(data, isNumber);
      return !!number && !!labelColumn(data, data.vars.filter((v) => column({ vars: [v], bindings: data.bindings }, isNumber)));
    }
    async option() {
      const data = rows(this.yasr);
      const numbers = data.vars.filter((v) => column({ vars: [v], bindings: data.bindings }, isNumber));
      const name = labelColumn(data, numbers);
      await fetchLabels(data.bindings.map((r) => r[name] && r[name].type === "uri" ? r[name].value : null).filter(Boolean));
      const categories = data.bindings.map((r) => (r[name] ? nameOf(r[name]) : ""));
      return {
        height: Math.max(260, categories.length * 26 + 80),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: numbers.length > 1 ? { top: 0 } : undefined,
        grid: { left: 8, right: 40, top: numbers.length > 1 ? 30 : 10, bottom: 34, containLabel: true },
        xAxis: { type: "value", name: numbers.length === 1 ? numbers[0] : "", nameLocation: "middle", nameGap: 26, minInterval: 1 },
        yAxis: { type: "category", data: categories, inverse: true, axisLabel: { width: 260, overflow: "break" } },
        series: numbers.map((v, index) => ({
          type: "bar", name: v, data: data.bindings.map((r) => (r[v] ? Number(r[v].value) : null)),
          itemStyle: { color: PALETTE[index % PALETTE.length] }, label: { show: true, position: "right" },
        })),
      };
    }
  }

  function when(t, fiscal) {  // a date-like literal as a time: a year alone is its 1 January, a fiscal year its 1 April
    const m = TIME.exec(t.value);
    return m ? new Date(Date.UTC(Number(m[1]), m[2] ? Number(m[2]) - 1 : fiscal ? 3 : 0, m[3] ? Number(m[3]) : 1)).getTime() : null;
  }
  class TimelineView extends ChartView {
    constructor(yasr) { super(yasr, "timeline", 30); }
    canHandleResults() {
      const data = rows(this.yasr);
      return !!data && data.bindings.length > 0 && data.bindings.length <= 2000
        && data.bindings.filter((row) => data.vars.some((v) => timed(data, row, v))).length >= data.bindings.length / 2;
    }
    async option() {
      const data = rows(this.yasr);
      const times = data.vars.filter((v) => data.bindings.some((r) => timed(data, r, v)));
      const name = labelColumn(data, times);
      const lane = groupColumn(data, [...times, name]) || name;
      await fetchLabels(data.bindings.flatMap((r) => [name, lane].map((v) => r[v] && r[v].type === "uri" ? r[v].value : null)).filter(Boolean));
      const points = data.bindings.map((row) => {
        const v = times.find((t) => timed(data, row, t));
        return v ? { value: [when(row[v], FISCAL.test(v)), row[lane] ? nameOf(row[lane]) : ""],
                     name: row[name] ? nameOf(row[name]) : "", row } : null;
      }).filter(Boolean);
      const lanes = [...new Set(points.map((p) => p.value[1]))];
      return {
        height: Math.max(240, lanes.length * 48 + 90),
        tooltip: { trigger: "item", formatter: (p) => describe(data, p.data.row) },
        grid: { left: 8, right: 150, top: 24, bottom: 40, containLabel: true },  // room for the last point's name
        xAxis: { type: "time" },
        yAxis: { type: "category", data: lanes, axisLabel: { width: 220, overflow: "break" } },
        series: [{ type: "scatter", data: points, symbolSize: 12, itemStyle: { color: PALETTE[0] },
                   label: { show: lane !== name, position: "top", formatter: "{b}", fontSize: 10 },
                   labelLayout: { hideOverlap: true } }],
      };
    }
  }

  class NetworkView extends ChartView {
    constructor(yasr) { super(yasr, "network", 15); }
    canHandleResults() {
      const results = this.yasr.results;
      return !!results && results.getType() === "ttl" && (results.getStatements() || []).length > 0;
    }
    async option() {
      const statements = this.yasr.results.getStatements();
      const key = (term) => (term.termType === "BlankNode" ? "_:" : "") + term.value;
      const named = new Map();
      statements.forEach((s) => {
        if (s.object.termType === "Literal" && LABELS.includes(s.predicate.value)) {
          named.set(key(s.subject), better(named.get(key(s.subject)), { text: s.object.value, lang: s.object.language || "" }));
        }
      });
      const links = statements.filter((s) => s.object.termType !== "Literal");
      await fetchLabels(links.flatMap((s) => [s.subject, s.object]).filter((t) => t.termType === "NamedNode")
        .map((t) => t.value).filter((iri) => !named.has(iri)));
      const nodes = new Map();
      const add = (term) => {
        const id = key(term);
        if (!nodes.has(id)) {
          const label = named.get(id) || (term.termType === "NamedNode" && labelOf(term.value));
          nodes.set(id, { id, name: label ? label.text : term.termType === "NamedNode" ? compact(term.value) : "_:" + term.value,
                          iri: term.termType === "NamedNode" ? term.value : null, value: 0 });
        }
        nodes.get(id).value += 1;
      };
      links.forEach((s) => { add(s.subject); add(s.object); });
      const list = [...nodes.values()];
      const biggest = Math.max(...list.map((n) => n.value));
      return {
        height: Math.min(900, Math.max(420, list.length * 14)),
        tooltip: { formatter: (p) => escapeHtml(p.dataType === "edge" ? p.data.label.formatter : (p.data.iri || p.data.name)) },
        series: [{
          type: "graph", layout: "force", roam: true, draggable: true, force: { repulsion: 180, edgeLength: [60, 140] },
          data: list.map((n) => Object.assign(n, { symbolSize: 10 + 16 * Math.sqrt(n.value / biggest),
                                                   itemStyle: { color: n.iri ? PALETTE[0] : PALETTE[6] } })),
          links: links.map((s) => ({ source: key(s.subject), target: key(s.object),
                                     label: { show: links.length <= 80, formatter: compact(s.predicate.value), fontSize: 9 } })),
          edgeSymbol: ["none", "arrow"], edgeSymbolSize: 6, lineStyle: { color: "#8a96a3", curveness: 0.1 },
          label: { show: true, position: "right", fontSize: 11, color: "#1d2733" }, labelLayout: { hideOverlap: true },
        }],
      };
    }
  }

  Yasr.registerPlugin("map", MapView);
  Yasr.registerPlugin("chart", BarView);
  Yasr.registerPlugin("timeline", TimelineView);
  Yasr.registerPlugin("network", NetworkView);
  window.kouikiViews = {
    // each new answer is shown in the view that fits it best (highest priority first); a view the
    // person picks holds until the next query
    chooseBest(yasr) {
      yasr.getSelectedPluginName = function () { return this.selectedPlugin || this.getCompatiblePlugins()[0] || this.config.defaultPlugin; };
    },
    pluginOrder: ["table", "map", "chart", "timeline", "network", "response"],
  };
})();
