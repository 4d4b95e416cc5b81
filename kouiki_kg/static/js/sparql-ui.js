// The query UI: YASGUI wired to our endpoint, our prefixes and our example queries.
// No inline script (CSP): the page hands us its settings as JSON in #kouiki-config.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("kouiki-config").textContent);

  // Complete prefixes from our own list; no look-ups on third-party services (works offline).
  Yasgui.Yasqe.defaults.autocompleters = Yasgui.Yasqe.defaults.autocompleters.filter(
    (name) => name !== "property" && name !== "class");

  // YASGUI speaks English only: on the Japanese page its controls are translated here (the
  // results table through DataTables' own language option, the rest by their English text).
  const JA = {
    "Query": "クエリ", "Settings": "設定", "Request method": "リクエストメソッド", "Accept Headers": "Accept ヘッダー",
    "Ask / Select": "ASK / SELECT", "Construct / Describe": "CONSTRUCT / DESCRIBE", "Arguments": "引数",
    "Header Arguments": "ヘッダー引数", "Default Graphs": "デフォルトグラフ", "Named Graphs": "名前付きグラフ",
    "Table": "表", "Response": "応答", "Simple view": "簡易表示", "Ellipse": "長い値を省略", "Page size:": "1 ページの件数:",
    "All": "すべて", "Close tab": "タブを閉じる", "Add tab": "タブを追加", "Add a new tab": "新しいタブを追加",
    "Open settings": "設定を開く", "Clear endpoint": "エンドポイントを消去", "Share query": "クエリを共有",
    "Run query": "クエリを実行", "Shows Table view": "表で表示", "Shows Response view": "応答をそのまま表示",
    "Filter query results": "結果を絞り込む", "Download result": "結果をダウンロード", "Download": "ダウンロード",
    "Fullscreen": "全画面", "Close": "閉じる", "Cancel": "キャンセル", "Save": "保存",
    "Download Results": "結果をダウンロード", "View documentation of Table": "表の説明を見る",
    "View documentation of Response": "応答の説明を見る", "pagination": "ページ", "First": "最初", "Previous": "前へ",
    "Next": "次へ", "Last": "最後",
  };
  const RESULTS = /^([\d,]+) results? in ([\d.]+) seconds?$/;
  const ATTRIBUTES = ["title", "aria-label", "placeholder"];
  function translate(root) {
    if (config.lang !== "ja") return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest(".CodeMirror, td, pre")) continue;  // the query and the answers stay as they are
      const text = node.textContent.trim();
      const counted = RESULTS.exec(text);
      if (JA[text]) node.textContent = node.textContent.replace(text, JA[text]);
      else if (counted) node.textContent = counted[1] + " 件（" + counted[2] + " 秒）";
    }
    root.querySelectorAll("[title], [aria-label], [placeholder]").forEach((element) =>
      ATTRIBUTES.forEach((name) => {
        const value = element.getAttribute(name);
        if (value && JA[value]) element.setAttribute(name, JA[value]);
      }));
  }
  if (config.lang === "ja" && Yasgui.Yasr && Yasgui.Yasr.plugins.table) {
    Yasgui.Yasr.plugins.table.defaults.tableConfig.language = {
      info: "_TOTAL_ 件中 _START_〜_END_ 件目", infoEmpty: "0 件", infoFiltered: "（全 _MAX_ 件から絞り込み）",
      emptyTable: "結果はありません", zeroRecords: "一致する結果はありません", search: "絞り込み:",
      aria: { orderable: "で並べ替え", orderableReverse: "で逆順に並べ替え", orderableRemove: "の並べ替えを解除",
              paginate: { first: "最初", last: "最後", next: "次へ", previous: "前へ" } },
      lengthMenu: "_MENU_ 件ずつ表示", paginate: { first: "最初", last: "最後", next: "次へ", previous: "前へ" },
    };
  }

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: {
      endpoint: config.endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle",
    },
    copyEndpointOnNewTab: false,
    persistenceId: null,
    populateFromUrl: false,
    endpointCatalogueOptions: { getData: () => [] },
    yasqe: { prefixCcApi: config.prefixesUrl, persistenceId: null },
    yasr: { prefixes: config.prefixes, persistenceId: null, pluginOrder: window.kouikiViews.pluginOrder },
  });

  const yasqe = () => yasgui.getTab().getYasqe();

  // Errors: YASGUI shows an empty table for a 400 or a 503. The server's answer is our JSON error
  // ({error, message: {ja, en}, line, column}): shown here in the page's language, with the
  // position marked in the editor, and for a timeout how to make the query cheaper.
  const errorBox = document.getElementById("query-error");
  let marks = [];
  function clearError() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    document.getElementById("yasgui").classList.remove("has-error");
    marks.forEach((mark) => mark.clear());
    marks = [];
  }
  function paragraph(text, className) {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }
  function showError(err) {
    clearError();
    let answer = null;
    try { answer = JSON.parse(err && err.message); } catch (e) { /* not our JSON: a network failure */ }
    const heading = document.createElement("h2");
    heading.textContent = config.messages.error;
    errorBox.append(heading);
    if (answer && answer.message) {
      errorBox.append(paragraph(answer.message[config.lang] || answer.message.en));
      if (answer.line) {  // the message says where; the editor shows it
        const editor = yasqe(), line = answer.line - 1;
        const length = (editor.getLine(line) || "").length;  // a column just past the end marks the last character
        const column = Math.max(0, Math.min((answer.column || 1) - 1, length - 1));
        marks.push(editor.markText({ line: line, ch: column }, { line: line, ch: column + 1 },
                                   { className: "query-error-at" }));
        editor.addLineClass(line, "background", "query-error-line");
        marks.push({ clear: () => editor.removeLineClass(line, "background", "query-error-line") });
      }
      if (answer.error === "query_timeout") errorBox.append(paragraph(config.messages.error_timeout_tip, "tip"));
      const code = paragraph(config.messages.error_code + ": ", "muted");
      const tag = document.createElement("code");
      tag.textContent = answer.error + " (HTTP " + answer.status + ")";
      code.append(tag);
      errorBox.append(code);
    } else {
      errorBox.append(paragraph(config.messages.error_network));
    }
    document.getElementById("yasgui").classList.add("has-error");
    errorBox.hidden = false;
  }
  function watch(tab) {  // each tab: a new query clears the box and picks its view afresh, a failed one fills the box
    const editor = tab.getYasqe(), results = tab.getYasr();
    window.kouikiViews.chooseBest(results);
    editor.on("query", () => { clearError(); results.selectedPlugin = undefined; });
    editor.on("error", (...args) => showError(args.find((a) => a instanceof Error) || args[args.length - 1]));
  }
  watch(yasgui.getTab());
  yasgui.on("tabAdd", (instance, id) => setTimeout(() => watch(yasgui.getTab(id)), 0));

  function runExample(name) {  // the gallery is below the results: go back up to them
    yasqe().setValue(config.examples[name]);
    yasqe().query().catch(() => {});  // a failure is shown by showError
    document.getElementById("yasgui").scrollIntoView({ block: "start", behavior: "smooth" });
  }

  // Links to our own resources go to this server's pages rather than the canonical host.
  function localiseLinks(root) {
    root.querySelectorAll("a[href^='" + config.base + "']").forEach((a) => {
      a.href = new URL(a.getAttribute("href").slice(config.base.length - 1), window.location.origin).href;
    });
  }
  // Only what changed is looked at: a table of results is thousands of nodes.
  const observer = new MutationObserver((records) => {
    const changed = new Set();
    records.forEach((record) => {
      if (record.type === "attributes") changed.add(record.target);
      record.addedNodes.forEach((node) => changed.add(node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement));
    });
    changed.forEach((element) => {
      if (!element || !element.isConnected) return;
      const root = element.parentElement || element;  // so that the element's own href and title are seen
      localiseLinks(root);
      translate(root);
    });
  });
  observer.observe(document.getElementById("yasgui"),
    { childList: true, subtree: true, attributes: true, attributeFilter: ATTRIBUTES });
  translate(document.getElementById("yasgui"));  // what YASGUI built before the observer was watching

  document.querySelectorAll("button.example").forEach((button) =>
    button.addEventListener("click", () => runExample(button.dataset.name)));

  document.querySelectorAll("button.download").forEach((button) =>
    button.addEventListener("click", () => {
      const url = config.endpoint + "?format=" + button.dataset.format + "&query=" +
        encodeURIComponent(yasqe().getValue());
      window.location.assign(url);
    }));

  // Shareable URL: the query travels in the fragment (a query parameter would ask the endpoint).
  document.getElementById("share").addEventListener("click", (event) => {
    history.replaceState(null, "", "#query=" + encodeURIComponent(yasqe().getValue()));
    if (navigator.clipboard) navigator.clipboard.writeText(window.location.href).catch(() => {});
    event.target.textContent = event.target.dataset.copied;
  });

  const shared = new URLSearchParams(window.location.hash.slice(1)).get("query");
  if (shared) {
    yasqe().setValue(shared);
    yasqe().query();
  } else if (!yasqe().getValue().trim() || yasqe().getValue().includes("SELECT * WHERE")) {
    yasqe().setValue(config.examples[Object.keys(config.examples)[0]]);
  }
  window.kouikiYasgui = yasgui; // for the browser tests
})();
