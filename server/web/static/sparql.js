// The query editor of /sparql: YASGUI on our endpoint, with our prefixes and the example queries.
// Nothing is loaded from elsewhere: YASGUI is served by us, and its prefix and vocabulary lookups
// (which would ask prefix.cc and LOV) are switched off. Without JavaScript the page's plain form
// stays (the server renders it with the same first query); with it, the editor takes its place.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("sparql-config").textContent);
  const plainForm = document.querySelector("form.sparql-plain");
  const firstQuery = plainForm.querySelector("textarea").value;

  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint: config.endpoint }] },
    persistenceId: null,
    yasqe: { value: firstQuery },
    yasr: { prefixes: config.prefixes },
  });
  plainForm.hidden = true;
  separateAddTab();
  nameControls();
  // YASGUI draws more as it goes (a new tab, the table of an answer): name what it adds too.
  new MutationObserver(nameControls).observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  // What YASGUI lacks for assistive technology (found by axe-core: tests/test_web_accessibility.py).
  function separateAddTab() {
    const tabs = yasgui.tabElements;
    // A tab list may hold tabs only: its "add a tab" button goes right after the list, which then
    // appends new tabs at its end (YASGUI inserts them before addTabEl, or at the end when it is null).
    if (tabs && tabs.addTabEl && tabs._tabsListEl) {
      tabs._tabsListEl.after(tabs.addTabEl);
      tabs.addTabEl.querySelector("button").classList.add("add-tab");
      tabs.addTabEl = null;
    }
  }

  function nameControls() {
    const named = { ".yasqe textarea": config.labels.query, ".yasgui input.autocomplete": config.labels.endpoint,
                    ".yasr select.tableSizer": config.labels.rows };
    for (const [selector, name] of Object.entries(named)) {
      document.querySelectorAll(selector).forEach((control) => {
        if (!control.hasAttribute("aria-label")) control.setAttribute("aria-label", name);
      });
    }
    // The editor's scrolling box, reachable by keyboard so that its lines can be scrolled.
    document.querySelectorAll(".yasqe .CodeMirror-scroll").forEach((box) => { box.tabIndex = 0; });
  }

  function run(query) {
    const tab = yasgui.getTab();
    tab.setQuery(query);
    tab.getYasqe().query();
  }

  document.querySelectorAll("button.example").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();  // the button's form is for browsers without JavaScript
      const example = config.examples.find((candidate) => candidate.name === button.dataset.name);
      run(example.query);
    });
  });
  if (config.initialQuery) {
    run(config.initialQuery);
  }
})();
