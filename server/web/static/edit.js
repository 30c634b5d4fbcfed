// The editor's form (issue 20): shacl-form renders the shapes of /edit/forms/<kind>.ttl; this script
// gives it the choices of each class, checks what the editor typed on the server as they type, saves
// it, and shows the answer: problems at their fields, a conflict's difference, or the saved change.
// What is sent is plain data in our vocabulary: the form's own classes of times are replaced by ours.
(function () {
  "use strict";

  var RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
  var CHECK_DELAY_MS = 800;

  // A page has one form, or several (a new partnership: its partner, itself, its first status) sent as
  // one graph with the links between their resources (data-links: [subject, property, object]).
  var shaclForms = Array.prototype.slice.call(document.querySelectorAll("shacl-form"));
  var panel = document.getElementById("edit-form");
  var outcome = document.getElementById("edit-outcome");
  var problemsBox = document.getElementById("edit-problems");
  if (!shaclForms.length || !panel || !outcome || !problemsBox) {
    return;
  }
  var formClasses = JSON.parse(panel.dataset.formClasses || "{}");
  var links = JSON.parse(panel.dataset.links || "[]");
  var prefixes = JSON.parse(panel.dataset.prefixes || "{}");

  // On a narrow screen each field's name goes above its input (the component puts it beside).
  var NARROW = "@media (max-width: 40rem) { .property-instance, .shacl-or-constraint { flex-wrap: wrap; } " +
    ".property-instance label, .shacl-or-constraint label { width: 100%; padding-bottom: .3em; } " +
    ".property-instance .editor { min-width: 0; flex: 1 1 8rem; max-width: 100%; } }";

  // The component speaks English of its own ("--- please choose ---", "Remove …", "Add …", a language
  // chooser named only by its title): say it in the page's language, and give every control a name
  // that assistive technology reads.
  function localiseControls(shaclForm) {
    var root = shaclForm.shadowRoot;
    var words = panel.dataset;
    root.querySelectorAll("input, select, textarea").forEach(function (control) {
      var field = control.closest(".property-instance, .shacl-or-constraint, shacl-property");
      var label = field && field.querySelector("label");
      var name = label ? label.textContent.trim() : "";
      if (control.classList.contains("lang-chooser")) {
        control.title = words.languageWord;
        control.setAttribute("aria-label", (name ? name + ": " : "") + words.languageWord);
      } else if (!control.getAttribute("aria-label")) {
        // also where a label names it by `for`: axe-core 4.14 found the kind of event's select unnamed so
        control.setAttribute("aria-label", name || control.getAttribute("placeholder") || control.title || "");
      }
      control.querySelectorAll('option[value=""]').forEach(function (option) {
        if (option.textContent !== words.chooseWord && option.textContent.trim() !== "") {
          option.textContent = words.chooseWord;
        }
      });
    });
    root.querySelectorAll(".remove-button, .add-button").forEach(function (button) {
      var english = button.classList.contains("add-button") ? "Add " : "Remove ";
      if (button.title.indexOf(english) === 0) {
        var word = button.classList.contains("add-button") ? words.addWord : words.removeWord;
        button.title = word + " " + button.title.slice(english.length);
      }
    });
  }

  function choices(cls) {
    var url = panel.dataset.choicesUrl + "?class=" + encodeURIComponent(cls);
    return fetch(url, { credentials: "same-origin" }).then(function (answer) {
      return answer.ok ? answer.text() : "";
    });
  }

  // The field a link of the page fills (a new status period's partnership: the one being made) is hidden,
  // with its button to add a value: the component's property element knows its path (template.path).
  function hideLinkedFields(shaclForm) {
    links.forEach(function (link) {
      if (link[3] && link[0] === shaclForm.dataset.valuesSubject) {
        shaclForm.shadowRoot.querySelectorAll("shacl-property").forEach(function (property) {
          if (property.template && property.template.path === link[1]) {
            property.style.display = "none";
          }
        });
        shaclForm.shadowRoot.querySelectorAll('[data-path="' + CSS.escape(link[1]) + '"]').forEach(function (field) {
          field.style.display = "none";
        });
      }
    });
  }

  customElements.whenDefined("shacl-form").then(function () {
    shaclForms.forEach(function (shaclForm) {
      var style = document.createElement("style");
      style.textContent = NARROW;
      shaclForm.shadowRoot.append(style);
      localiseControls(shaclForm);
      hideLinkedFields(shaclForm);
      new MutationObserver(function () { localiseControls(shaclForm); hideLinkedFields(shaclForm); })
        .observe(shaclForm.shadowRoot, { childList: true, subtree: true });
      shaclForm.setClassInstanceProvider(choices);
    });
  });

  // One form's graph as N-Triples lines; an existing resource keeps its own classes (a visit stays a
  // visit, not only an event).
  function formLines(shaclForm) {
    var text = shaclForm.serialize("application/n-triples");
    var lines = text.split("\n").filter(function (line) { return line.trim() !== ""; });
    var subject = shaclForm.dataset.valuesSubject;
    var keptTypes = JSON.parse(shaclForm.dataset.lodpubTypes || "[]");
    var root = "<" + subject + "> <" + RDF_TYPE + "> <" + shaclForm.dataset.lodpubRoot + "> .";
    if (keptTypes.length) {
      lines = lines.filter(function (line) { return line.trim() !== root; });
      keptTypes.forEach(function (cls) { lines.push("<" + subject + "> <" + RDF_TYPE + "> <" + cls + "> ."); });
    }
    return lines;
  }

  // A part of the page the editor left out (the signing a new partnership began with) is not sent,
  // nor are the links to or from its resources.
  function sent(shaclForm) {
    return !shaclForm.closest(".edit-form-block[hidden]");
  }

  // The forms' graphs and their links as N-Triples (which is Turtle), with our classes in place of the form's.
  function graphText() {
    var lines = [];
    var left = shaclForms.filter(function (shaclForm) { return !sent(shaclForm); })
      .map(function (shaclForm) { return shaclForm.dataset.valuesSubject; });
    shaclForms.filter(sent).forEach(function (shaclForm) { lines = lines.concat(formLines(shaclForm)); });
    links.forEach(function (link) {
      if (left.indexOf(link[0]) < 0 && left.indexOf(link[2]) < 0) {
        lines.push("<" + link[0] + "> <" + link[1] + "> <" + link[2] + "> .");
      }
    });
    lines = lines.map(function (line) {
      Object.keys(formClasses).forEach(function (formClass) {
        line = line.split("<" + formClass + ">").join("<" + formClasses[formClass] + ">");
      });
      return line;
    });
    return lines.join("\n") + "\n";
  }
  window.lodpubEditGraph = graphText;  // what the browser tests read

  function post(url, extra) {
    var body = new URLSearchParams(new FormData(panel));
    body.set("turtle", graphText());
    Object.keys(extra).forEach(function (key) { body.set(key, extra[key]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (json) {
        return { status: answer.status, json: json };
      });
    });
  }

  function clearProblems() {
    problemsBox.hidden = true;
    problemsBox.replaceChildren();
    shaclForms.forEach(function (shaclForm) {
      shaclForm.shadowRoot.querySelectorAll(".lodpub-problem").forEach(function (node) { node.remove(); });
    });
  }

  // A violation keeps the record from being saved; a warning or an info is a note, and does not.
  function isViolation(problem) {
    return problem.severity === "Violation";
  }

  function problemNode(problem) {
    var node = document.createElement("p");
    node.className = "lodpub-problem";
    node.dataset.severity = problem.severity || "";
    node.style.margin = "0.2em 0 0.6em";
    if (isViolation(problem)) {
      node.setAttribute("role", "alert");
      node.style.color = "#a40000";
      node.textContent = problem.message;
    } else {
      node.style.color = "#5c4400";
      node.textContent = outcome.dataset.note + " " + problem.message;
    }
    return node;
  }

  // The IRIs a path names: an IRI, or SPARQL path text ("rdfs:label", "(rdfs:label|skos:prefLabel)").
  function pathIris(path) {
    if (/^https?:\/\/\S+$/.test(path)) {
      return [path];
    }
    return (path.match(/<[^>]*>|[A-Za-z][\w.-]*:[^\s|\/()^*+?<>]*/g) || []).map(function (step) {
      if (/^<.*>$/.test(step)) {
        return step.slice(1, -1);
      }
      var colon = step.indexOf(":");
      var namespace = colon > 0 ? prefixes[step.slice(0, colon)] : undefined;
      return namespace === undefined ? step : namespace + step.slice(colon + 1);
    });
  }

  // The first field for a property the path names: in the form of the problem's node (the node the
  // form sent), else in the first form that has one.
  function fieldOf(path, node) {
    var iris = pathIris(path || "");
    var own = shaclForms.filter(function (shaclForm) { return shaclForm.dataset.valuesSubject === node; });
    var forms = own.length ? own : shaclForms;
    for (var each = 0; each < forms.length; each++) {
      for (var index = 0; index < iris.length; index++) {
        var field = forms[each].shadowRoot.querySelector('[data-path="' + CSS.escape(iris[index]) + '"]');
        if (field) {
          return field;
        }
      }
    }
    return null;
  }

  // Each problem at the field of its property, else at the top.
  function showProblems(problems) {
    clearProblems();
    var top = [];
    problems.forEach(function (problem) {
      var field = fieldOf(problem.path, problem.node || problem.focus);
      if (field) {
        field.after(problemNode(problem));
      } else {
        top.push(problem);
      }
    });
    if (top.length) {
      var heading = document.createElement("p");
      heading.textContent = top.some(isViolation) ? outcome.dataset.problems : outcome.dataset.notes;
      problemsBox.append(heading);
      top.forEach(function (problem) { problemsBox.append(problemNode(problem)); });
      problemsBox.hidden = false;
    }
  }

  function say(children) {
    outcome.replaceChildren.apply(outcome, children);
    outcome.hidden = false;
  }

  function text(tag, content) {
    var node = document.createElement(tag);
    node.textContent = content;
    return node;
  }

  window.lodpubEditShowProblems = showProblems;  // what the browser tests call

  var timer = null;
  function check() {
    post(panel.dataset.checkUrl, {}).then(function (answer) {
      if (answer.status === 200) {
        var problems = answer.json.problems || [];
        showProblems(problems);
        if (!problems.length) {
          say([text("p", outcome.dataset.noProblems)]);
        } else if (!problems.some(isViolation)) {
          say([text("p", outcome.dataset.onlyNotes)]);
        }
      }
    });
  }
  function checkSoon() {
    clearTimeout(timer);
    timer = setTimeout(check, CHECK_DELAY_MS);
  }
  shaclForms.forEach(function (shaclForm) { shaclForm.addEventListener("change", checkSoon); });

  // Ticking an optional part in shows its forms (and sends them); leaving it out hides them.
  document.querySelectorAll(".edit-part-choice").forEach(function (choice) {
    choice.addEventListener("change", function () {
      document.querySelectorAll('.edit-form-block[data-part="' + CSS.escape(choice.dataset.part) + '"]')
        .forEach(function (block) { block.hidden = !choice.checked; });
      checkSoon();
    });
  });

  panel.addEventListener("submit", function (event) {
    event.preventDefault();
    post(panel.action, {}).then(function (answer) {
      if (answer.status === 200) {
        clearProblems();
        panel.elements.revision.value = answer.json.revision || panel.elements.revision.value;
        var link = text("a", outcome.dataset.changes);
        link.href = outcome.dataset.changesUrl;
        var said = [text("p", outcome.dataset.saved), link];
        if (panel.dataset.new) {
          // What was new is saved: a second save would make it again, under the next free name.
          panel.querySelector("button[type=submit]").disabled = true;
          said.splice(1, 0, text("p", outcome.dataset.savedNew));
        }
        say(said);
      } else if (answer.status === 409) {
        say([text("p", outcome.dataset.conflict), text("pre", answer.json.diff || "")]);
      } else if (answer.status === 422) {
        showProblems(answer.json.problems || []);
        outcome.hidden = true;
      } else {
        say([text("p", outcome.dataset.failed + " " + (answer.json.error || answer.status))]);
      }
    });
  });
})();
