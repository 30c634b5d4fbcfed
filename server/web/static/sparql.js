// The query editor of /sparql: YASGUI on our endpoint, with our prefixes and the example queries.
// Nothing is loaded from elsewhere: YASGUI is served by us, and its prefix and vocabulary lookups
// (which would ask prefix.cc and LOV) are switched off.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("sparql-config").textContent);
  const prologue = Object.entries(config.prefixes)
    .map(([prefix, namespace]) => `PREFIX ${prefix}: <${namespace}>`)
    .join("\n");
  const firstQuery = config.initialQuery ||
    `${prologue}\n\nSELECT ?partnership ?label WHERE {\n  ?partnership a rp:Partnership ; rdfs:label ?label .\n}\nLIMIT 25\n`;

  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint: config.endpoint }] },
    persistenceId: null,
    yasqe: { value: firstQuery },
    yasr: { prefixes: config.prefixes },
  });

  function run(query) {
    const tab = yasgui.getTab();
    tab.setQuery(query);
    tab.getYasqe().query();
  }

  document.querySelectorAll("button.example").forEach((button) => {
    button.addEventListener("click", () => {
      const example = config.examples.find((candidate) => candidate.name === button.dataset.name);
      run(example.query);
    });
  });
  if (config.initialQuery) {
    run(config.initialQuery);
  }
})();
