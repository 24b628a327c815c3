// Keyboard shortcuts and small behaviours for people who work in the app all day. Our own code, no libraries
// beyond htmx.
//   /              focus the page's search box (an input with data-search)
//   Alt+N / Alt+P  next / previous page of a list (the pager's links carry accesskeys n and p)
//   Alt+S          save the form marked data-hotkey-save (charge entry)
//   Alt+L          add a service line (charge entry)
// Search-as-you-type boxes (data-suggest): Enter picks the first match and never submits the form,
// Down/Up move through the matches, Escape closes them.
(function () {
  "use strict";

  function typingIn(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }

  function resultsOf(input) {
    const host = input.closest(".suggest-host");
    return host ? host.querySelector(".suggest") : null;
  }

  function items(results) {
    return results ? Array.from(results.querySelectorAll(".suggest-item")) : [];
  }

  function closeResults(results) {
    if (results) { results.innerHTML = ""; }
  }

  // --- keyboard ------------------------------------------------------------------------------------

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.key === "/" && !typingIn(target)) {
      const search = document.querySelector("[data-search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const key = (event.code || "").replace("Key", "").toLowerCase();
      const form = document.querySelector("form[data-hotkey-save]");
      if (form && key === "s") {
        event.preventDefault();
        form.requestSubmit();
        return;
      }
      if (form && key === "l") {
        event.preventDefault();
        addLine(true);
        return;
      }
    }
    if (target.matches && target.matches("[data-suggest]")) {
      suggestInputKey(event, target);
    } else if (target.classList && target.classList.contains("suggest-item")) {
      suggestItemKey(event, target);
    }
  });

  function suggestInputKey(event, input) {
    const results = resultsOf(input);
    const options = items(results);
    if (event.key === "Enter") {
      event.preventDefault(); // a search box never submits the form
      const typed = input.value.trim().toUpperCase();
      const exact = options.find(function (item) { return item.dataset.pickCode === typed; });
      const choice = exact || options[0];
      if (choice) { choice.click(); }
    } else if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[0].focus();
    } else if (event.key === "Escape") {
      closeResults(results);
    }
  }

  function suggestItemKey(event, item) {
    const results = item.closest(".suggest");
    const options = items(results);
    const index = options.indexOf(item);
    const input = results.closest(".suggest-host").querySelector("[data-suggest]");
    if (event.key === "ArrowDown") {
      event.preventDefault();
      (options[index + 1] || options[index]).focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index > 0) { options[index - 1].focus(); } else { input.focus(); }
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeResults(results);
      input.focus();
    }
  }

  // Clicking a match must not take the focus away first (the list would close on focusout).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest(".suggest-item")) { event.preventDefault(); }
  });

  document.addEventListener("focusout", function (event) {
    const host = event.target.closest && event.target.closest(".suggest-host");
    if (!host) { return; }
    const next = event.relatedTarget;
    if (next && host.contains(next)) { return; }
    closeResults(host.querySelector(".suggest"));
  });

  // --- diagnoses (ICD-10-CM) -----------------------------------------------------------------------

  // The row after ``row`` (or the first hidden one), shown if it was hidden.
  function revealNextDiagnosis(row) {
    const next = row ? row.nextElementSibling : document.querySelector(".dx-row[hidden]");
    if (next && next.hidden) { next.hidden = false; }
    return next;
  }

  document.addEventListener("click", function (event) {
    const pick = event.target.closest && event.target.closest("[data-pick-code]");
    if (pick) {
      const row = pick.closest(".dx-row");
      const input = row.querySelector("[data-suggest]");
      input.value = pick.dataset.pickCode;
      input.removeAttribute("aria-invalid");
      row.classList.remove("invalid");
      row.querySelector(".dx-text").textContent = pick.dataset.description;
      const error = row.querySelector(".field-error");
      if (error) { error.remove(); }
      closeResults(resultsOf(input));
      const next = revealNextDiagnosis(row);
      if (next) { next.querySelector("[data-suggest]").focus(); }
      return;
    }
    if (event.target.closest && event.target.closest("[data-add-diagnosis]")) {
      const row = revealNextDiagnosis(null);
      if (row) { row.querySelector("[data-suggest]").focus(); }
      return;
    }
    if (event.target.closest && event.target.closest("[data-add-line]")) {
      addLine(true);
      return;
    }
    const remove = event.target.closest && event.target.closest(".remove-line");
    if (remove) {
      const lines = document.querySelectorAll("table.entry-lines tbody.line");
      const line = remove.closest("tbody.line");
      if (lines.length > 1) {
        // the button is reachable by keyboard: keep the focus in the lines rather than lose it with the line
        const index = Array.prototype.indexOf.call(lines, line);
        const neighbour = lines[index + 1] || lines[index - 1];
        line.remove();
        neighbour.querySelector(".remove-line").focus();
      } else { clearLine(line); }
    }
  });

  document.addEventListener("input", function (event) {
    const input = event.target;
    if (input.matches && input.matches(".dx-code")) {
      // the description belongs to the code picked; typing makes it stale until a code is known again
      input.closest(".dx-row").querySelector(".dx-text").textContent = "";
    }
  });

  // --- service lines -------------------------------------------------------------------------------

  function clearLine(line) {
    line.querySelectorAll("input").forEach(function (input) {
      input.value = input.name === "units" ? "1" : (input.name === "diagnosis_pointers" ? "1" : "");
      input.removeAttribute("aria-invalid");
      delete input.dataset.defaulted;
    });
    line.querySelectorAll(".line-errors").forEach(function (row) { row.remove(); });
    line.querySelectorAll(".charge-hint").forEach(function (hint) { hint.innerHTML = ""; });
    line.classList.remove("invalid");
  }

  function addLine(focus) {
    const table = document.querySelector("table.entry-lines");
    const template = document.getElementById("line-template");
    if (!table || !template) { return; }
    const lines = table.querySelectorAll("tbody.line");
    if (lines.length >= Number(table.dataset.maxLines || 50)) { return; }
    const line = template.content.firstElementChild.cloneNode(true);
    const last = lines[lines.length - 1];
    if (last) { // a new line usually shares the previous line's dates and pointers
      ["service_date_from", "service_date_to", "diagnosis_pointers"].forEach(function (name) {
        line.querySelector("[name=" + name + "]").value = last.querySelector("[name=" + name + "]").value;
      });
    }
    table.appendChild(line);
    if (window.htmx) { window.htmx.process(line); }
    if (focus) {
      const first = line.querySelector(last && last.querySelector("[name=service_date_from]").value
        ? "[name=procedure_code]" : "[name=service_date_from]");
      first.focus();
    }
  }

  // --- htmx fragments ------------------------------------------------------------------------------

  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    if (!target) { return; }
    if (target.id === "coverage-field") { // a patient was picked
      const search = document.getElementById("patient-search");
      if (search) { search.value = ""; }
      const coverage = document.getElementById("id_coverage");
      if (coverage) { coverage.focus(); }
    } else if (target.classList.contains("charge-hint")) {
      const found = target.querySelector("[data-charge]");
      const charge = target.closest("tr").querySelector("[name=charge]");
      // default the charge only when empty or still holding the previous default: never overwrite a typed charge
      if (found && charge && (!charge.value || charge.value === charge.dataset.defaulted)) {
        charge.value = found.dataset.charge;
        charge.dataset.defaulted = found.dataset.charge;
      }
    } else if (target.classList.contains("suggest")) {
      const host = target.closest(".suggest-host");
      const input = host && host.querySelector(".dx-code");
      if (!input) { return; }
      const typed = input.value.trim().toUpperCase();
      const exact = items(target).find(function (item) { return item.dataset.pickCode === typed; });
      if (exact) { input.closest(".dx-row").querySelector(".dx-text").textContent = exact.dataset.description; }
      if (document.activeElement !== input) { closeResults(target); } // answered after the biller moved on
    }
  });

  // --- lists with tick boxes (work queues) ---------------------------------------------------------

  function updateTicked(form) {
    const boxes = form.querySelectorAll("input[type=checkbox][name=claim]");
    let ticked = 0;
    boxes.forEach(function (box) {
      box.closest("tr").classList.toggle("ticked", box.checked);
      if (box.checked) { ticked += 1; }
    });
    const count = form.querySelector("[data-selected-count]");
    if (count) { count.textContent = ticked ? ticked + " ticked" : ""; }
    const all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    const form = event.target.closest && event.target.closest("form[data-select-rows]");
    if (!form) { return; }
    if (event.target.matches("[data-select-all]")) {
      form.querySelectorAll("input[type=checkbox][name=claim]").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    updateTicked(form);
  });

  // --- a select that submits its form when changed (the practice switcher), in place of inline onchange
  // handlers, which the Content-Security-Policy refuses --------------------------------------------------

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });
})();
