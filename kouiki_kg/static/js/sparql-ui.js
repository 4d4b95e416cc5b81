// The query UI: YASGUI wired to our endpoint, our prefixes and our example queries.
// No inline script (CSP): the page hands us its settings as JSON in #kouiki-config.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("kouiki-config").textContent);

  // Complete prefixes from our own list; no look-ups on third-party services (works offline).
  Yasgui.Yasqe.defaults.autocompleters = Yasgui.Yasqe.defaults.autocompleters.filter(
    (name) => name !== "property" && name !== "class");

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
    yasr: { prefixes: config.prefixes, persistenceId: null },
  });

  const yasqe = () => yasgui.getTab().getYasqe();

  function runExample(name) {
    yasqe().setValue(config.examples[name]);
    yasqe().query();
  }

  // Links to our own resources go to this server's pages rather than the canonical host.
  function localiseLinks(root) {
    root.querySelectorAll("a[href^='" + config.base + "']").forEach((a) => {
      a.href = new URL(a.getAttribute("href").slice(config.base.length - 1), window.location.origin).href;
    });
  }
  const observer = new MutationObserver(() => localiseLinks(document.getElementById("yasgui")));
  observer.observe(document.getElementById("yasgui"), { childList: true, subtree: true });

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
